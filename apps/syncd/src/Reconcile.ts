/**
 * Merging with retries, and the full reconcile of both sides.
 *
 * Invariant: a key handed to `mergeKeys` is merged on both sides before it returns; transient failures
 * (connection loss, contention) are retried with capped, jittered exponential backoff, and keys that lost
 * compare-and-swap races are merged again until they win. Only a failure retrying cannot fix escapes.
 */
import type { Entity, MergePolicy } from "@enrich-sync/core"
import type { KeyChange, SourceDatabase, WorkspaceDatabase } from "@enrich-sync/engine"
import { applyKeys, backfillEntity, DatabaseError, entities } from "@enrich-sync/engine"
import { Effect, Schedule } from "effect"
import { MergeLane } from "./MergeLane.ts"
import { SyncMetrics } from "./SyncMetrics.ts"

/** Backoff for transient failures: 100 ms doubling to 10 s, jittered, only while retrying can help. */
export const transientRetry = {
  schedule: Schedule.min([Schedule.exponential("100 millis"), Schedule.spaced("10 seconds")]).pipe(
    Schedule.jittered
  ),
  while: (e: unknown) => e instanceof DatabaseError && e.retryable
}

const logRetry = (what: string) => (e: unknown) =>
  e instanceof DatabaseError && e.retryable
    ? Effect.logWarning(`${what}: ${e.message}; retrying`)
    : Effect.void

/** Merges keys of one entity through the lane, in batches, until every one of them is merged. */
export const mergeKeys = (
  entity: Entity,
  changes: ReadonlyArray<KeyChange>,
  options: { readonly policy: MergePolicy; readonly batchSize: number }
): Effect.Effect<void, DatabaseError, SourceDatabase | WorkspaceDatabase | MergeLane | SyncMetrics> =>
  Effect.gen(function* () {
    const lane = yield* MergeLane
    const metrics = yield* SyncMetrics
    for (let i = 0; i < changes.length; i += options.batchSize) {
      let batch = changes.slice(i, i + options.batchSize)
      while (batch.length > 0) {
        const stats = yield* lane
          .run(applyKeys(entity, batch, { policy: options.policy }))
          .pipe(Effect.tapError(logRetry(`merging ${entity.label} records`)), Effect.retry(transientRetry))
        yield* metrics.merged(stats)
        // keys that kept losing races: merge them again after a pause, never drop them
        const contended = new Set(stats.contended)
        batch = batch.filter((c) => contended.has(c.key))
        if (batch.length > 0) yield* Effect.sleep("200 millis")
      }
    }
  })

/** Compares and merges both sides in full (startup, a recreated slot, a truncate). */
export const reconcile = (
  why: string,
  options: { readonly policy: MergePolicy; readonly batchSize: number },
  only: ReadonlyArray<Entity> = entities
): Effect.Effect<void, DatabaseError, SourceDatabase | WorkspaceDatabase | MergeLane | SyncMetrics> =>
  Effect.gen(function* () {
    const lane = yield* MergeLane
    const metrics = yield* SyncMetrics
    yield* Effect.logInfo(`reconciling both sides (${why})`)
    for (const entity of only) {
      const report = yield* lane
        .run(backfillEntity(entity, { policy: options.policy, batchSize: options.batchSize }))
        .pipe(Effect.tapError(logRetry(`reconciling ${entity.label} records`)), Effect.retry(transientRetry))
      if (report.merge !== null) yield* metrics.merged(report.merge)
      yield* Effect.logInfo(
        `reconciled ${entity.name}: ${report.sourceRows} Neon rows, ${report.copied} copied, ${report.candidates} merged, ${report.unchanged} unchanged`
      )
    }
    yield* metrics.update((m) => ({ ...m, reconciles: m.reconciles + 1 }))
  })
