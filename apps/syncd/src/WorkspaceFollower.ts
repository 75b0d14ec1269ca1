/**
 * Workspace to Neon. Two sources of work, both through the merge lane:
 * - with Supabase Realtime configured, `followRealtime` merges the keys Realtime reports as people edit
 *   rows, and catches up (below) every time the listener says changes may have been missed;
 * - `followWorkspace` polls: it finds the rows a person changed since the engine last merged them (the
 *   `sync_dirty` mark the trigger sets, read through a partial index) and merges them. Without Realtime
 *   this is the event source (every second by default); with it, the safety net for what Realtime drops
 *   silently (every 30 s by default). One pass of it is also the catch-up.
 *
 * Invariant: a dirty row is merged (which clears its mark) or stays dirty; nothing is skipped.
 */
import type { Entity, MergePolicy } from "@enrich-sync/core"
import { qualified } from "@enrich-sync/core"
import { WorkspaceDatabase } from "@enrich-sync/engine"
import { SupabaseListener, tableId } from "@enrich-sync/supabase-listener"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { Endpoints } from "./Databases.ts"
import { Loops } from "./Loops.ts"
import { mergeKeys, transientRetry } from "./Reconcile.ts"
import { Startup } from "./Startup.ts"
import { SyncdConfig, type SyncdSettings } from "./SyncdConfig.ts"
import { type Direction, SyncMetrics } from "./SyncMetrics.ts"

/** How the workspace follower polls. */
export interface WorkspaceFollowerOptions {
  readonly entities: ReadonlyArray<Entity>
  readonly policy: MergePolicy
  readonly batchSize: number
  readonly poll: Duration.Duration
  /** how its merges are counted */
  readonly direction: Direction
}

/** One pass: merges every dirty row; returns how many were merged. */
export const catchUpWorkspace = (options: WorkspaceFollowerOptions) =>
  Effect.gen(function* () {
    const db = yield* WorkspaceDatabase
    const metrics = yield* SyncMetrics
    let total = 0
    for (const entity of options.entities) {
      for (;;) {
        const rows = yield* db
          .query(
            `SELECT ${entity.key} AS key FROM ${qualified(entity.workspaceTable)}
              WHERE sync_dirty AND sync_state = 'active' ORDER BY updated_at LIMIT $1`,
            [options.batchSize]
          )
          .pipe(Effect.retry(transientRetry))
        if (rows.length === 0) break
        yield* mergeKeys(
          entity,
          rows.map((r) => ({ key: String(r.key) })),
          options
        )
        total += rows.length
        yield* metrics.update((m) => ({ ...m, workspaceKeys: m.workspaceKeys + rows.length }))
        if (rows.length < options.batchSize) break
      }
    }
    return total
  })

/** Polls the workspace until interrupted. */
export const followWorkspace = (options: WorkspaceFollowerOptions) =>
  Effect.forever(Effect.andThen(catchUpWorkspace(options), Effect.sleep(options.poll)))

/** Merges what Realtime reports until interrupted: the keys people changed, and a catch-up for every gap. */
export const followRealtime = (options: WorkspaceFollowerOptions) =>
  Effect.gen(function* () {
    const listener = yield* SupabaseListener
    const metrics = yield* SyncMetrics
    for (;;) {
      const changes = yield* listener.take
      for (const entity of options.entities) {
        const keys = changes.keys.get(tableId(entity.workspaceTable))
        if (keys === undefined || keys.length === 0) continue
        yield* mergeKeys(
          entity,
          keys.map((key) => ({ key })),
          options
        )
        yield* metrics.update((m) => ({ ...m, workspaceKeys: m.workspaceKeys + keys.length }))
      }
      if (changes.catchUp.length > 0) {
        const merged = yield* catchUpWorkspace(options)
        yield* metrics.update((m) => ({ ...m, catchUps: m.catchUps + 1 }))
        if (merged > 0) yield* Effect.logInfo(`caught up ${merged} workspace row(s) edited meanwhile`)
      }
    }
  })

/**
 * Most keys of one merge of a person's edits. A full merge holds both rows of every key, its plan and the
 * push's statements at once, and the next batch is planned meanwhile (`mergeKeys`), so two batches' rows are
 * held; a batch of Neon changes holds its rows as COPY text. Smaller batches cost more round trips across a
 * WAN, larger ones memory (`bench/README.md`, "A person's edits planned ahead").
 */
export const fullMergeBatch = 2000

/** The workspace followers' options from the daemon's configuration. */
export const workspaceFollowerOptions = (
  config: Pick<SyncdSettings, "entities" | "policy" | "batchSize" | "workspacePoll">
): WorkspaceFollowerOptions => ({
  entities: config.entities,
  direction: "workspace->neon",
  policy: config.policy,
  batchSize: Math.min(config.batchSize, fullMergeBatch),
  poll: config.workspacePoll
})

const followerOptions = Effect.map(SyncdConfig, workspaceFollowerOptions)

/** Polls the workspace for the daemon's lifetime (a loop of `Loops`), once the daemon has started. */
export const workspaceFollowerLayer = Layer.effectDiscard(
  Effect.gen(function* () {
    yield* Startup
    const loops = yield* Loops
    yield* loops.run(
      followWorkspace(yield* followerOptions).pipe(Effect.annotateLogs({ direction: "workspace->neon" }))
    )
  })
)

/**
 * Follows the workspace through Realtime for the daemon's lifetime, when Realtime is configured (the
 * embedded demo has its stand-in); subscribed after the start-up reconcile, whose first subscription asks
 * for a catch-up, so nothing edited before it is live, or while it reconnects, is missed.
 */
export const realtimeFollowerLayer = Layer.unwrap(
  Effect.gen(function* () {
    const endpoints = yield* Endpoints
    const config = yield* SyncdConfig
    if (Option.isNone(endpoints.realtime)) return Layer.empty
    const realtime = endpoints.realtime.value
    const subscribed = Layer.unwrap(
      Effect.as(
        Startup,
        SupabaseListener.layer({
          url: realtime.url,
          apiKey: realtime.apiKey,
          tables: config.entities.map((e) => ({
            schema: e.workspaceTable.schema,
            name: e.workspaceTable.name,
            key: e.key
          })),
          dirtyColumn: "sync_dirty"
        })
      )
    )
    return Layer.effectDiscard(
      Effect.gen(function* () {
        const loops = yield* Loops
        const listener = yield* SupabaseListener
        yield* (yield* SyncMetrics).watchRealtime(listener.status)
        yield* loops.run(
          followRealtime(yield* followerOptions).pipe(Effect.annotateLogs({ direction: "workspace->neon" }))
        )
      })
    ).pipe(Layer.provide(subscribed))
  })
)
