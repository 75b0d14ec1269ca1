/**
 * A real `@supabase/realtime-js` client on one channel, recording everything its callbacks report (the
 * subscribe statuses, system messages, postgres_changes payloads, heartbeat statuses), so a test can wait
 * for what it expects.
 */
import { RealtimeClient } from "@supabase/realtime-js"

/** A binding as given to `.on('postgres_changes', ...)`. */
export interface ProbeBinding {
  readonly event: "*" | "INSERT" | "UPDATE" | "DELETE"
  readonly schema: string
  readonly table?: string
  readonly filter?: string
  /** the columns to send (and the primary key), realtime-js 2.109+ */
  readonly select?: ReadonlyArray<string>
}

export interface ProbeChange {
  readonly eventType: string
  readonly schema: string
  readonly table: string
  readonly commit_timestamp: string
  readonly new: Record<string, unknown>
  readonly old: Record<string, unknown>
  readonly errors: ReadonlyArray<string> | null
  /** the binding (index) whose callback got it */
  readonly binding: number
}

export interface Probe {
  readonly statuses: Array<string>
  readonly system: Array<{ status: string; message: string; extension?: string }>
  readonly changes: Array<ProbeChange>
  readonly heartbeats: Array<string>
  /** resolves when `predicate` holds, rejects after `timeoutMs` with what was recorded */
  readonly until: (what: string, predicate: () => boolean, timeoutMs?: number) => Promise<void>
  readonly client: RealtimeClient
  readonly close: () => Promise<void>
}

export const startProbe = (
  endpoint: string,
  bindings: ReadonlyArray<ProbeBinding>,
  options: {
    readonly vsn?: "1.0.0" | "2.0.0"
    readonly heartbeatIntervalMs?: number
    readonly topic?: string
  } = {}
): Probe => {
  const statuses: Array<string> = []
  const system: Array<{ status: string; message: string; extension?: string }> = []
  const changes: Array<ProbeChange> = []
  const heartbeats: Array<string> = []
  const client = new RealtimeClient(endpoint, {
    params: { apikey: "stand-in-key" },
    reconnectAfterMs: () => 200,
    heartbeatCallback: (status) => heartbeats.push(status),
    ...(options.vsn === undefined ? {} : { vsn: options.vsn }),
    ...(options.heartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs: options.heartbeatIntervalMs })
  })
  const channel = client.channel(options.topic ?? "probe")
  bindings.forEach((b, i) => {
    channel.on(
      "postgres_changes" as never,
      b as never,
      ((payload: Omit<ProbeChange, "binding">) => changes.push({ ...payload, binding: i })) as never
    )
  })
  channel.on(
    "system" as never,
    {} as never,
    ((payload: { status: string; message: string; extension?: string }) => system.push(payload)) as never
  )
  channel.subscribe((status, err) => statuses.push(err === undefined ? status : `${status}: ${err.message}`))
  const until = (what: string, predicate: () => boolean, timeoutMs = 10_000) =>
    new Promise<void>((resolve, reject) => {
      const started = Date.now()
      const check = () => {
        if (predicate()) return resolve()
        if (Date.now() - started > timeoutMs)
          return reject(
            new Error(
              `timed out waiting for ${what}: ${JSON.stringify({ statuses, system, changes: changes.length, heartbeats })}`
            )
          )
        setTimeout(check, 10)
      }
      check()
    })
  return {
    statuses,
    system,
    changes,
    heartbeats,
    until,
    client,
    close: async () => {
      await client.removeAllChannels().catch(() => undefined)
      await client.disconnect().catch(() => undefined)
    }
  }
}
