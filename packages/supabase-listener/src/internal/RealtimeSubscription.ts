/**
 * The only module that touches `@supabase/realtime-js`: one client, one channel with a `postgres_changes`
 * binding per followed table (every event, with an optional server-side filter) and a `system` listener,
 * reporting to plain callbacks. The
 * client reconnects its socket and rejoins an errored channel by itself; a channel the server closed is
 * not rejoined by realtime-js (§2.7), so this module opens a new one after `reopenAfterMs`.
 *
 * Invariant: after `close`, no callback fires.
 */
import { type RealtimeChannel, RealtimeClient } from "@supabase/realtime-js"
import type { SubscriptionEvent } from "./SubscriptionState.ts"

/** A followed table and its key column (the Barton ID). */
export interface FollowedTable {
  readonly schema: string
  readonly name: string
  readonly key: string
}

/** A `postgres_changes` payload as realtime-js hands it over (§3.2). */
export interface ChangePayload {
  readonly eventType: "INSERT" | "UPDATE" | "DELETE"
  readonly new: Readonly<Record<string, unknown>>
  readonly old: Readonly<Record<string, unknown>>
  readonly errors: ReadonlyArray<string> | null
}

export interface SubscriptionHandlers {
  readonly onStatus: (event: SubscriptionEvent, detail: string | null) => void
  readonly onChange: (table: FollowedTable, payload: ChangePayload) => void
}

export interface SubscriptionOptions {
  /** the Realtime endpoint (`wss://<ref>.supabase.co/realtime/v1`) */
  readonly endpoint: string
  /** the API key: sent as the socket's `apikey` and as the channel's access token */
  readonly apiKey: string
  readonly topic: string
  readonly tables: ReadonlyArray<FollowedTable>
  /** a server-side filter of every binding (`sync_dirty=eq.true`), or none */
  readonly filter: string | null
  readonly reopenAfterMs: number
  /** realtime-js' heartbeat (default 25 s) */
  readonly heartbeatIntervalMs?: number
}

export interface RealtimeSubscription {
  readonly close: () => Promise<void>
}

/** Opens the client and the channel; statuses and changes go to `handlers` until `close`. */
export const openSubscription = async (
  options: SubscriptionOptions,
  handlers: SubscriptionHandlers
): Promise<RealtimeSubscription> => {
  const client = new RealtimeClient(options.endpoint, {
    params: { apikey: options.apiKey },
    ...(options.heartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs: options.heartbeatIntervalMs })
  })
  // the join then carries the key as its access token (with only `params`, the first join would not)
  await client.setAuth(options.apiKey)
  let closed = false
  let current: RealtimeChannel | null = null
  let reopenTimer: ReturnType<typeof setTimeout> | null = null
  let opened = 0

  const open = () => {
    // a new topic name for each channel: realtime-js would hand back a channel of the same topic that is
    // still being removed
    const channel = client.channel(opened === 0 ? options.topic : `${options.topic}-${opened}`)
    opened++
    current = channel
    const live = () => !closed && current === channel
    for (const table of options.tables) {
      channel.on(
        "postgres_changes" as never,
        (options.filter === null
          ? { event: "*", schema: table.schema, table: table.name }
          : { event: "*", schema: table.schema, table: table.name, filter: options.filter }) as never,
        ((payload: ChangePayload) => {
          if (live()) handlers.onChange(table, payload)
        }) as never
      )
    }
    channel.on(
      "system" as never,
      {} as never,
      ((payload: { extension?: string; status?: string; message?: string }) => {
        if (!live() || payload.extension !== "postgres_changes") return
        handlers.onStatus(payload.status === "ok" ? "SystemOk" : "SystemError", payload.message ?? null)
      }) as never
    )
    channel.subscribe((status, error) => {
      if (!live()) return
      switch (status) {
        case "SUBSCRIBED":
          return handlers.onStatus("Subscribed", null)
        case "CHANNEL_ERROR":
        case "TIMED_OUT":
          return handlers.onStatus("ChannelError", error?.message ?? status)
        case "CLOSED":
          handlers.onStatus("Closed", null)
          reopenTimer = setTimeout(reopen, options.reopenAfterMs)
          return
      }
    })
  }

  const reopen = () => {
    reopenTimer = null
    if (closed) return
    const old = current
    current = null
    if (old !== null) void client.removeChannel(old).catch(() => undefined)
    handlers.onStatus("Reopened", null)
    open()
  }

  open()
  return {
    close: async () => {
      closed = true
      if (reopenTimer !== null) clearTimeout(reopenTimer)
      await client.removeAllChannels().catch(() => undefined)
      await client.disconnect().catch(() => undefined)
    }
  }
}
