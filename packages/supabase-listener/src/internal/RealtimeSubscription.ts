/**
 * The only module that touches `@supabase/realtime-js`: one client, one channel with a `postgres_changes`
 * binding per followed table (every event, with an optional server-side filter) and a `system` listener,
 * reporting to plain callbacks. The client reconnects its socket and rejoins an errored channel by
 * itself; a channel the server closed is not rejoined by realtime-js (§2.7), so this module opens a new
 * one `reopenAfter` later (a fiber on `Clock`, so tests drive it with `TestClock`).
 *
 * Invariant: once the scope closes, no callback fires and no channel is opened again.
 */
import { type RealtimeChannel, RealtimeClient } from "@supabase/realtime-js"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import type * as Scope from "effect/Scope"
import { SupabaseListenerError } from "../SupabaseListenerError.ts"
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
  /**
   * the columns each event carries besides its table's key (and its primary key): servers since 2026-05
   * send only those (`select`), older ones ignore it and send the whole row
   */
  readonly select: ReadonlyArray<string>
  /** how long after the server closed the channel a new one is opened */
  readonly reopenAfter: Duration.Duration
  /** realtime-js' heartbeat (default 25 s) */
  readonly heartbeatIntervalMs?: number
}

/**
 * Opens the client and the channel for the scope; statuses and changes go to `handlers` until the scope
 * closes (the channels are then removed and the socket closed, within 5 s).
 */
export const openSubscription = (
  options: SubscriptionOptions,
  handlers: SubscriptionHandlers
): Effect.Effect<void, SupabaseListenerError, Scope.Scope> =>
  Effect.gen(function* () {
    // made first, so its fibers (a pending reopen) are interrupted after the client is closed
    const run = yield* FiberSet.makeRuntime<never>()
    let closed = false
    let current: RealtimeChannel | null = null
    let opened = 0
    const client = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          const client = new RealtimeClient(options.endpoint, {
            params: { apikey: options.apiKey },
            ...(options.heartbeatIntervalMs === undefined
              ? {}
              : { heartbeatIntervalMs: options.heartbeatIntervalMs })
          })
          // the join then carries the key as its access token (with only `params`, the first join would not)
          await client.setAuth(options.apiKey)
          return client
        },
        catch: (cause) =>
          new SupabaseListenerError({
            reason: "Client",
            message:
              "the Realtime client could not be set up (Node.js 22 or later has the WebSocket it needs)",
            cause
          })
      }),
      (client) =>
        Effect.suspend(() => {
          closed = true
          return Effect.promise(async () => {
            await client.removeAllChannels().catch(() => undefined)
            await client.disconnect().catch(() => undefined)
          })
        }).pipe(Effect.timeout("5 seconds"), Effect.ignore)
    )

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
          {
            event: "*",
            schema: table.schema,
            table: table.name,
            ...(options.filter === null ? {} : { filter: options.filter }),
            select: [table.key, ...options.select.filter((c) => c !== table.key)]
          } as never,
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
            run(reopenLater)
            return
        }
      })
    }

    const reopen = () => {
      if (closed) return
      const old = current
      current = null
      if (old !== null) void client.removeChannel(old).catch(() => undefined)
      handlers.onStatus("Reopened", null)
      open()
    }
    const reopenLater = Effect.sleep(options.reopenAfter).pipe(Effect.andThen(Effect.sync(reopen)))

    open()
  })
