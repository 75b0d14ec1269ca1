/**
 * Merging with retries, and the full reconcile of both sides (every Neon row compared with its workspace copy).
 *
 * Invariant: a key handed to `mergeKeys` is merged on both sides before it returns; transient failures
 * (connection loss, contention) are retried with capped, jittered exponential backoff, and keys that lost
 * compare-and-swap races are merged again until they win. Only a failure retrying cannot fix escapes.
 */
import { type Entity, type MergePolicy, qualified } from "@enrich-sync/core"
import {
  type ApplyStats,
  applyKeys,
  applyPrepared,
  backfillEntity,
  DatabaseError,
  type KeyChange,
  type PreparedKeys,
  prepareKeys,
  SourceDatabase,
  type WorkspaceDatabase
} from "@enrich-sync/engine"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import { MergeLane } from "./MergeLane.ts"
import { type Direction, SyncMetrics } from "./SyncMetrics.ts"
import { type WebhookEvent, Webhooks } from "./Webhooks.ts"

/**
 * The webhook events of a merge that committed: the records pushed to Neon, how their re-validation came
 * out (read back from Neon), and the conflicts logged.
 */
const reportEvents = (entity: Entity, stats: ApplyStats) =>
  Effect.gen(function* () {
    const webhooks = yield* Webhooks
    if (!webhooks.enabled) return
    const pushed = stats.pushedKeys
    const events: Array<WebhookEvent> = []
    if (pushed.length > 0) {
      events.push({ type: "records.pushed", payload: { entity: entity.name, keys: pushed } })
      const outcome = yield* SourceDatabase.use((db) =>
        db.query(
          `SELECT ${entity.key} AS key, validation_status AS status FROM ${qualified(entity.sourceTable)} WHERE ${entity.key} = ANY($1)`,
          [pushed]
        )
      ).pipe(Effect.orElseSucceed(() => []))
      events.push({
        type: "records.revalidated",
        payload: {
          entity: entity.name,
          passed: outcome.filter((r) => r.status === "PASSED").map((r) => String(r.key)),
          failed: outcome.filter((r) => r.status !== "PASSED").map((r) => String(r.key))
        }
      })
    }
    if (stats.conflictKeys.length > 0)
      events.push({
        type: "conflicts.logged",
        payload: {
          entity: entity.name,
          count: stats.conflictKeys.length,
          keys: [...new Set(stats.conflictKeys)]
        }
      })
    yield* webhooks.emit(events)
  })

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

/**
 * Merges one batch of keys through the lane until every one of them is merged. With `prepared` (the same
 * keys read and planned outside the lane, see `prepareKeys`), the first attempt writes that plan; a retry
 * after a failure reads both sides afresh. The batch runs beside the merges in flight that hold none of its
 * keys (see `MergeLane`).
 */
export const mergeBatch = (
  entity: Entity,
  batch: ReadonlyArray<KeyChange>,
  options: { readonly policy: MergePolicy; readonly direction: Direction },
  prepared?: PreparedKeys
): Effect.Effect<
  void,
  DatabaseError,
  SourceDatabase | WorkspaceDatabase | MergeLane | SyncMetrics | Webhooks
> =>
  Effect.gen(function* () {
    const lane = yield* MergeLane
    const metrics = yield* SyncMetrics
    let plan = prepared
    let left = batch
    while (left.length > 0) {
      const keys = left
      const attempt = Effect.suspend(() => {
        const ready = plan
        plan = undefined
        return lane.runKeys(
          entity.name,
          keys.map((c) => c.key),
          ready === undefined
            ? // keys a person edited never take the clean path
              applyKeys(entity, keys, {
                policy: options.policy,
                clean: options.direction !== "workspace->neon"
              })
            : applyPrepared(ready)
        )
      })
      const started = yield* Clock.currentTimeMillis
      const stats = yield* attempt.pipe(
        Effect.tapError(logRetry(`merging ${entity.label} records`)),
        Effect.retry(transientRetry)
      )
      const seconds = ((yield* Clock.currentTimeMillis) - started) / 1000
      yield* metrics.merged(stats, { direction: options.direction, entity: entity.name, seconds })
      yield* reportEvents(entity, stats)
      // keys that kept losing races: merge them again after a pause, never drop them
      const contended = new Set(stats.contended)
      left = keys.filter((c) => contended.has(c.key))
      if (left.length > 0) yield* Effect.sleep("200 millis")
    }
  })

/**
 * Merges keys of one entity through the lane, in batches, until every one of them is merged. A person's
 * edits (full merges) are read and planned a batch ahead, outside the lane, while the batch before is
 * written, so the reads and the plan of the next batch overlap the writes of this one (the batches' keys
 * are distinct; what changes between a plan and its write loses its compare-and-swap and is merged again).
 */
export const mergeKeys = (
  entity: Entity,
  changes: ReadonlyArray<KeyChange>,
  options: { readonly policy: MergePolicy; readonly batchSize: number; readonly direction: Direction }
): Effect.Effect<
  void,
  DatabaseError,
  SourceDatabase | WorkspaceDatabase | MergeLane | SyncMetrics | Webhooks
> =>
  Effect.gen(function* () {
    const batches: Array<ReadonlyArray<KeyChange>> = []
    for (let i = 0; i < changes.length; i += options.batchSize)
      batches.push(changes.slice(i, i + options.batchSize))
    if (options.direction !== "workspace->neon" || batches.length < 2) {
      for (const batch of batches) yield* mergeBatch(entity, batch, options)
      return
    }
    // a plan that could not be made ahead (a failure) is made again in the lane, with retries; one still
    // being made when a batch fails is interrupted
    yield* Effect.scoped(
      Effect.gen(function* () {
        const planAhead = (batch: ReadonlyArray<KeyChange>) =>
          Effect.forkScoped(
            prepareKeys(entity, batch, { policy: options.policy, clean: false }).pipe(Effect.option)
          )
        let ahead = yield* planAhead(batches[0]!)
        for (let i = 0; i < batches.length; i++) {
          const prepared = yield* Fiber.join(ahead)
          if (i + 1 < batches.length) ahead = yield* planAhead(batches[i + 1]!)
          yield* mergeBatch(entity, batches[i]!, options, Option.getOrUndefined(prepared))
        }
      })
    )
  })

/**
 * Compares every Neon row with its workspace copy and merges the keys Neon added, changed or removed since
 * they were last merged (start-up, a recreated slot, a truncate). Workspace edits are not looked for here:
 * the workspace follower finds them by their `sync_dirty` mark (its first pass runs at start-up).
 */
export const reconcile = (
  why: string,
  options: { readonly policy: MergePolicy; readonly batchSize: number; readonly direction: Direction },
  only: ReadonlyArray<Entity>
): Effect.Effect<
  void,
  DatabaseError,
  SourceDatabase | WorkspaceDatabase | MergeLane | SyncMetrics | Webhooks
> =>
  Effect.gen(function* () {
    const lane = yield* MergeLane
    const metrics = yield* SyncMetrics
    yield* Effect.logInfo(`reconciling both sides (${why})`).pipe(
      Effect.annotateLogs({ direction: "reconcile" })
    )
    for (const entity of only) {
      const report = yield* lane
        .run(backfillEntity(entity, { policy: options.policy, batchSize: options.batchSize }))
        .pipe(Effect.tapError(logRetry(`reconciling ${entity.label} records`)), Effect.retry(transientRetry))
      if (report.merge !== null)
        yield* metrics.merged(report.merge, { direction: options.direction, entity: entity.name })
      // rows copied into an empty workspace table are applied too
      const key = `${options.direction}/${entity.name}`
      yield* metrics.update((m) => ({
        ...m,
        merged: { ...m.merged, [key]: (m.merged[key] ?? 0) + report.copied }
      }))
      yield* Effect.logInfo(
        `reconciled ${entity.name}: ${report.sourceRows} Neon rows, ${report.copied} copied, ${report.candidates} merged, ${report.unchanged} unchanged`
      ).pipe(
        Effect.annotateLogs({
          direction: "reconcile",
          entity: entity.name,
          keys: report.candidates + report.copied
        })
      )
    }
    yield* metrics.update((m) => ({ ...m, reconciles: m.reconciles + 1 }))
  })
