/**
 * Workspace to Neon: finds workspace rows a person changed since the engine last merged them (the
 * `sync_dirty` mark the trigger sets, read through a partial index) and merges them, so complete edits
 * reach Neon within a poll interval. Until the Realtime listener lands this is the workspace's event source;
 * it is also the catch-up that every Realtime (re)subscribe will need.
 *
 * Invariant: a dirty row is merged (which clears its mark) or stays dirty; nothing is skipped.
 */
import type { MergePolicy } from "@enrich-sync/core"
import { qualified } from "@enrich-sync/core"
import { entities, WorkspaceDatabase } from "@enrich-sync/engine"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { mergeKeys, transientRetry } from "./Reconcile.ts"
import { SyncMetrics } from "./SyncMetrics.ts"

/** How the workspace follower polls. */
export interface WorkspaceFollowerOptions {
  readonly policy: MergePolicy
  readonly batchSize: number
  readonly poll: Duration.Duration
}

/** One pass: merges every dirty row; returns how many were merged. */
export const catchUpWorkspace = (options: WorkspaceFollowerOptions) =>
  Effect.gen(function* () {
    const db = yield* WorkspaceDatabase
    const metrics = yield* SyncMetrics
    let total = 0
    for (const entity of entities) {
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
