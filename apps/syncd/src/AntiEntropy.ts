/**
 * The periodic anti-entropy pass: compares both sides in full (bucketed hashes in SQL) and merges every
 * key that differs, so whatever an event missed is found and repaired within one period.
 *
 * Edits the push policy holds back (a row whose status it does not push) are not differences to repair: a
 * merge would leave them as they are; the pass counts them in its summary.
 *
 * Invariant: every pass is logged with what it found (nothing, or the keys out of sync and why), and
 * counted in the metrics with the differences it found.
 */
import type { Entity, MergePolicy } from "@enrich-sync/core"
import { heldBack, verifyEntity } from "@enrich-sync/engine"
import * as Clock from "effect/Clock"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { Loops } from "./Loops.ts"
import { mergeKeys, transientRetry } from "./Reconcile.ts"
import { Startup } from "./Startup.ts"
import { SyncdConfig } from "./SyncdConfig.ts"
import { SyncMetrics } from "./SyncMetrics.ts"

/** What a pass works on. */
export interface AntiEntropyOptions {
  readonly entities: ReadonlyArray<Entity>
  readonly policy: MergePolicy
  readonly batchSize: number
}

/** One pass over every entity; returns how many keys it merged. */
export const antiEntropyPass = (options: AntiEntropyOptions) =>
  Effect.gen(function* () {
    const metrics = yield* SyncMetrics
    const started = yield* Clock.currentTimeMillis
    let repaired = 0
    let heldEdits = 0
    for (const entity of options.entities) {
      const report = yield* verifyEntity(entity, { listLimit: Number.POSITIVE_INFINITY }).pipe(
        Effect.retry(transientRetry)
      )
      // edits the push policy holds back are where they belong until their status allows them: a merge
      // would leave them as they are
      const held = yield* heldBack(entity, report.unsyncedEdits.keys, options.policy).pipe(
        Effect.retry(transientRetry)
      )
      const unsynced = report.unsyncedEdits.keys.filter((k) => !held.has(k))
      heldEdits += held.size
      const keys = [
        ...new Set([
          ...report.missingInWorkspace.keys,
          ...report.missingOnNeon.keys,
          ...report.neonChanged.keys,
          ...unsynced
        ])
      ]
      if (keys.length > 0) {
        yield* Effect.logWarning(
          `anti-entropy found ${keys.length} ${entity.label} record(s) out of sync (${report.missingInWorkspace.count} missing in the workspace, ${report.missingOnNeon.count} gone from Neon, ${report.neonChanged.count} changed on Neon, ${unsynced.length} unsynced edits); merging them`
        ).pipe(Effect.annotateLogs({ entity: entity.name, keys: keys.length }))
        yield* mergeKeys(
          entity,
          keys.map((key) => ({ key })),
          { ...options, direction: "anti-entropy" }
        )
        repaired += keys.length
      }
    }
    const durationMs = (yield* Clock.currentTimeMillis) - started
    yield* metrics.update((m) => ({
      ...m,
      reconciles: m.reconciles + 1,
      antiEntropyRuns: m.antiEntropyRuns + 1,
      antiEntropyDifferences: m.antiEntropyDifferences + repaired
    }))
    const heldNote =
      heldEdits === 0
        ? ""
        : ` (${heldEdits} record(s) hold edits the push policy holds back, left as they are)`
    yield* Effect.logInfo(
      repaired === 0
        ? `anti-entropy pass: both sides agree${heldNote}`
        : `anti-entropy pass: merged ${repaired} record(s) that were out of sync${heldNote}`
    ).pipe(Effect.annotateLogs({ keys: repaired, durationMs }))
    return repaired
  })

/** Runs the pass every `period`, the first one after one period. */
export const runAntiEntropy = (period: Duration.Duration, options: AntiEntropyOptions) =>
  Effect.forever(Effect.andThen(Effect.sleep(period), antiEntropyPass(options)))

/** The anti-entropy pass every ENRICH_SYNC_ANTI_ENTROPY_MINUTES, once the daemon has started (off at 0). */
export const antiEntropyLayer = Layer.effectDiscard(
  Effect.gen(function* () {
    const config = yield* SyncdConfig
    if (Option.isNone(config.antiEntropy)) return
    yield* Startup
    const loops = yield* Loops
    yield* loops.run(
      runAntiEntropy(config.antiEntropy.value, {
        entities: config.entities,
        policy: config.policy,
        batchSize: config.batchSize
      }).pipe(Effect.annotateLogs({ direction: "anti-entropy" }))
    )
  })
)
