/**
 * Stage 3, push: workspace rows whose enrichment status is pushable (default `complete`) and whose
 * projection differs from what both sides last agreed on are merged into Neon, re-validated in the same
 * Neon transaction, and logged to `shq_validation_log`; the outcome flows back to the workspace.
 *
 * Invariant: push is the merge of exactly those keys (compare-and-swap on both sides), so it never
 * overwrites an edit it has not seen, and a re-run with nothing new writes nothing.
 */
import type { Entity, MergePolicy } from "@enrich-sync/core"
import { defaultPolicy, qualified, workspaceHashFunction } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import type { ApplyStats } from "../merge/MergeApply.ts"
import { applyKeysInBatches } from "../merge/MergeApply.ts"
import { WorkspaceDatabase } from "../store/Database.ts"
import type { DatabaseError } from "../store/DatabaseError.ts"
import { pushableStatusSql } from "../store/WorkspaceStore.ts"
import type { EntityStage } from "./EntityStage.ts"
import { timed } from "./EntityStage.ts"
import type { Progress } from "./Progress.ts"

/** Options of a push. */
export interface PushOptions {
  /** keys merged per batch (default 2000) */
  readonly batchSize?: number
  /** plan and count, write nothing (default false) */
  readonly dryRun?: boolean
  /** which statuses push (default `complete`) */
  readonly policy?: MergePolicy
  readonly onProgress?: (progress: Progress) => void
}

/** What a push of one entity did. */
export interface PushReport {
  readonly entity: Entity["name"]
  /** pushable rows with edits not yet on Neon */
  readonly candidates: number
  readonly merge: ApplyStats | null
  readonly durationMs: number
}

/** The keys of pushable workspace rows holding edits that are not on Neon yet. */
export const pushCandidates = (
  entity: Entity,
  policy: MergePolicy = defaultPolicy
): Effect.Effect<ReadonlyArray<string>, DatabaseError, WorkspaceDatabase> =>
  WorkspaceDatabase.use((db) =>
    db
      .query(
        `SELECT t.${entity.key} AS key FROM ${qualified(entity.workspaceTable)} AS t
          WHERE t.sync_state = 'active'
            AND ${pushableStatusSql("$1")}
            AND ${workspaceHashFunction(entity)}(t) IS DISTINCT FROM t.last_sync_hash
          ORDER BY t.${entity.key}`,
        [policy.pushOn]
      )
      .pipe(Effect.map((rows) => rows.map((r) => String(r.key))))
  )

/**
 * Of `keys`, those whose workspace row's status is not one the policy pushes: edits there are held back
 * (they stay in the workspace, listed as unsynced, until the status allows them).
 */
export const heldBack = (
  entity: Entity,
  keys: ReadonlyArray<string>,
  policy: MergePolicy = defaultPolicy
): Effect.Effect<ReadonlySet<string>, DatabaseError, WorkspaceDatabase> =>
  keys.length === 0
    ? Effect.succeed(new Set<string>())
    : WorkspaceDatabase.use((db) =>
        db
          .query(
            `SELECT t.${entity.key} AS key FROM ${qualified(entity.workspaceTable)} AS t
              WHERE t.${entity.key} = ANY($1::text[])
                AND (${pushableStatusSql("$2")}) IS NOT TRUE`,
            [keys, policy.pushOn]
          )
          .pipe(Effect.map((rows) => new Set(rows.map((r) => String(r.key)))))
      )

/** Pushes one entity (see the module header). */
export const pushEntity: EntityStage<PushOptions, PushReport> = (entity, options = {}) =>
  Effect.gen(function* () {
    const policy = options.policy ?? defaultPolicy
    const keys = yield* pushCandidates(entity, policy)
    const merged = yield* applyKeysInBatches(
      entity,
      keys,
      options.batchSize ?? 2000,
      { policy, dryRun: options.dryRun ?? false },
      (done, total) => options.onProgress?.({ stage: "push", entity: entity.name, done, total })
    )
    return {
      entity: entity.name,
      candidates: keys.length,
      merge: merged
    }
  }).pipe(timed)
