/**
 * The Supabase listener: follows the workspace tables through Realtime `postgres_changes` and hands the
 * daemon the keys that changed, and a catch-up whenever changes may have been missed.
 *
 * Invariants:
 * - No payload is trusted: an event only says "the row with this key changed"; the engine reads the row.
 *   An event without its key (a payload Realtime truncated) asks for a catch-up instead.
 * - Every gap is reported: Realtime delivers at most once and replays nothing, so each time the
 *   subscription becomes live (the first time, after every lost connection or crashed channel, and each
 *   time the server says "Subscribed to PostgreSQL" again) a catch-up is due (see `SubscriptionState`).
 *   What Realtime drops silently while connected (its rate limiter) is left to the daemon's periodic poll.
 * - Memory is bounded by the number of distinct rows changed, not by the number of events
 *   (`PendingChanges`); nothing is dropped.
 * - The API key never appears in a log line or an error.
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { PendingChanges, type WorkspaceChanges } from "./internal/PendingChanges.ts"
import { type ChangePayload, type FollowedTable, openSubscription } from "./internal/RealtimeSubscription.ts"
import { type SubscriptionEvent, type SubscriptionState, transition } from "./internal/SubscriptionState.ts"
import { resolveConfig, type SupabaseListenerConfig } from "./SupabaseListenerConfig.ts"
import { SupabaseListenerError } from "./SupabaseListenerError.ts"

export type { WorkspaceChanges } from "./internal/PendingChanges.ts"
export type { SubscriptionState } from "./internal/SubscriptionState.ts"

/** A snapshot of the listener, for health checks and metrics. */
export interface SupabaseListenerStatus {
  readonly state: SubscriptionState
  /** times the subscription became live */
  readonly subscribed: number
  /** `postgres_changes` events received */
  readonly events: number
  /**
   * events skipped as the engine's own writes (see `dirtyColumn`; the server filters those out already, so
   * this counts only what a server that ignores the filter sends)
   */
  readonly ownWrites: number
  /** catch-ups asked for */
  readonly catchUps: number
  /** keys waiting to be taken */
  readonly pending: number
  /** the last problem Realtime reported */
  readonly lastError: string | null
}

/** `schema.name` of a table (the keys of `WorkspaceChanges.keys`). */
export const tableId = (table: { readonly schema: string; readonly name: string }): string =>
  `${table.schema}.${table.name}`

const keyText = (value: unknown): string | null =>
  typeof value === "string"
    ? value
    : typeof value === "number" || typeof value === "bigint"
      ? String(value)
      : null

/** Follows the workspace tables through Realtime. */
export class SupabaseListener extends Context.Service<
  SupabaseListener,
  {
    /** waits until something changed (or a catch-up is due), then takes all of it */
    readonly take: Effect.Effect<WorkspaceChanges>
    readonly status: Effect.Effect<SupabaseListenerStatus>
  }
>()("@enrich-sync/supabase-listener/SupabaseListener") {
  /** The listener for the layer's lifetime: subscribed on acquisition, closed on release. */
  static readonly layer = (config: SupabaseListenerConfig) =>
    Layer.effect(
      SupabaseListener,
      Effect.gen(function* () {
        const resolved = resolveConfig(config)
        if (resolved instanceof SupabaseListenerError) return yield* resolved
        const context = yield* Effect.context<never>()
        const log = (effect: Effect.Effect<void>) => void Effect.runForkWith(context)(effect)
        const pending = new PendingChanges()
        let state: SubscriptionState = "connecting"
        let lastGap: string | null = null
        const counters = { subscribed: 0, events: 0, ownWrites: 0, catchUps: 0 }
        let lastError: string | null = null
        const catchUp = (reason: string) => {
          counters.catchUps++
          pending.addCatchUp(reason)
        }

        const onStatus = (event: SubscriptionEvent, detail: string | null) => {
          const before = state
          const next = transition(state, event)
          state = next.state
          if (event === "ChannelError" || event === "Closed") {
            lastError = detail ?? (event === "Closed" ? "the server closed the channel" : "channel error")
            lastGap ??= lastError
            if (before === "live")
              log(
                Effect.logWarning(`Realtime: ${lastError}; workspace changes are caught up once it is back`)
              )
          }
          if (event === "SystemError") {
            lastError = detail
            log(
              Effect.logWarning(
                `Realtime refused the subscription: ${detail ?? "no reason given"}; the workspace is polled meanwhile`
              )
            )
          }
          if (!next.catchUp) return
          counters.subscribed++
          const reason =
            before === "live"
              ? "Realtime subscribed again (Subscribed to PostgreSQL)"
              : lastGap !== null
                ? `Realtime subscribed again after: ${lastGap}`
                : "Realtime subscribed"
          lastGap = null
          log(Effect.logInfo(`${reason}: catching up the workspace`))
          catchUp(reason)
        }

        const onChange = (table: FollowedTable, payload: ChangePayload) => {
          counters.events++
          const row = payload.eventType === "DELETE" ? payload.old : payload.new
          if (
            payload.eventType !== "DELETE" &&
            resolved.dirtyColumn !== null &&
            row[resolved.dirtyColumn] === false
          ) {
            counters.ownWrites++
            return
          }
          const key = keyText(row[table.key])
          if (key !== null) return pending.addKey(tableId(table), key)
          if (payload.eventType === "DELETE") {
            return log(
              Effect.logWarning(
                `a row of ${tableId(table)} was deleted in the workspace (${JSON.stringify(payload.old)}); enrich-sync never deletes workspace rows: the next anti-entropy pass brings it back if Neon still has it`
              )
            )
          }
          catchUp(
            `a Realtime ${payload.eventType} of ${tableId(table)} came without its key column ${table.key}${
              payload.errors === null ? "" : ` (${payload.errors.join(", ")})`
            }`
          )
        }

        yield* openSubscription(
          {
            endpoint: resolved.endpoint,
            apiKey: Redacted.value(resolved.apiKey),
            topic: resolved.topic,
            tables: resolved.tables,
            // the server sends only rows with edits to merge: not the engine's own writes (most of the
            // traffic: every row it writes), which Realtime would otherwise count against its limits
            filter: resolved.dirtyColumn === null ? null : `${resolved.dirtyColumn}=eq.true`,
            // an event only says which row changed: the key (and the mark) is all the daemon reads of it, and
            // a small event is never truncated (Realtime's 413 above 1 MB, which costs a catch-up)
            select: resolved.dirtyColumn === null ? [] : [resolved.dirtyColumn],
            reopenAfter: resolved.reopenAfter,
            heartbeatIntervalMs: Duration.toMillis(resolved.heartbeatInterval)
          },
          { onStatus, onChange }
        )

        return SupabaseListener.of({
          take: pending.take,
          status: Effect.sync(() => ({ state, ...counters, pending: pending.size, lastError }))
        })
      })
    )
}
