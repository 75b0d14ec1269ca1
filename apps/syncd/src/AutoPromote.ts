/**
 * Auto-promotion (ENRICH_SYNC_AUTO_PROMOTE=on): the rows re-validation marks PASSED are promoted as they
 * appear, with no command run: every few seconds, each entity's PASSED rows go through the engine's
 * promotion, the same as `enrich-sync promote`: the backup file (in ENRICH_SYNC_BACKUP_DIR) written and
 * fsync'ed before each batch commits, the master insert and the invalid delete and the log in that one
 * Neon transaction, the workspace rows marked promoted, batches of ENRICH_SYNC_BATCH_SIZE at most; a
 * failed batch rolls back and the next pass tries again.
 *
 * Invariant: a promotion runs through the merge lane, so it never interleaves with a merge; what it
 * promoted is counted, logged and reported as a webhook event.
 */
import type { Entity } from "@enrich-sync/core"
import { qualified } from "@enrich-sync/core"
import { promoteEntity, SourceDatabase } from "@enrich-sync/engine"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import { Loops } from "./Loops.ts"
import { MergeLane } from "./MergeLane.ts"
import { transientRetry } from "./Reconcile.ts"
import { Startup } from "./Startup.ts"
import { SyncdConfig } from "./SyncdConfig.ts"
import { SyncMetrics } from "./SyncMetrics.ts"
import { Webhooks } from "./Webhooks.ts"

/** How often the PASSED rows are looked for. */
const every = "2 seconds"

/** One pass over `entities`: promotes what is PASSED; returns how many records were promoted. */
export const promotePassed = (
  entities: ReadonlyArray<Entity>,
  options: { readonly batchSize: number; readonly backupDir: string }
) =>
  Effect.gen(function* () {
    const neon = yield* SourceDatabase
    const lane = yield* MergeLane
    const metrics = yield* SyncMetrics
    const webhooks = yield* Webhooks
    let total = 0
    for (const entity of entities) {
      // cheap: most passes find nothing to do
      const [waiting] = yield* neon.query(
        `SELECT EXISTS (SELECT 1 FROM ${qualified(entity.sourceTable)} WHERE validation_status = 'PASSED') AS any`
      )
      if (waiting?.any !== true) continue
      const report = yield* lane
        .run(promoteEntity(entity, { batchSize: options.batchSize, backupDir: options.backupDir }))
        .pipe(Effect.retry(transientRetry))
      if (report.promoted === 0) continue
      total += report.promoted
      yield* metrics.update((m) => ({ ...m, autoPromoted: m.autoPromoted + report.promoted }))
      yield* Effect.logInfo(
        `promoted ${report.promoted} ${entity.label} record(s) to ${entity.masterTable.name}; their backup is ${report.backupFile}`
      ).pipe(
        Effect.annotateLogs({ entity: entity.name, keys: report.promoted, durationMs: report.durationMs })
      )
      yield* webhooks.emit([
        {
          type: "records.promoted",
          payload: {
            entity: entity.name,
            count: report.promoted,
            updatedInMaster: report.updatedInMaster,
            masterTable: `${entity.masterTable.schema}.${entity.masterTable.name}`,
            backupFile: report.backupFile
          }
        }
      ])
    }
    return total
  })

/** Auto-promotion for the daemon's lifetime, when ENRICH_SYNC_AUTO_PROMOTE is on (a loop of `Loops`). */
export const autoPromoteLayer = Layer.effectDiscard(
  Effect.gen(function* () {
    const config = yield* SyncdConfig
    if (!config.autoPromote) return
    yield* Startup
    const loops = yield* Loops
    const pass = promotePassed(config.entities, {
      batchSize: config.batchSize,
      backupDir: config.backupDir
    }).pipe(
      Effect.catch((e) => Effect.logWarning(`auto-promotion failed: ${e.message}; the next pass tries again`))
    )
    yield* loops.run(
      Effect.repeat(pass, Schedule.spaced(every)).pipe(Effect.annotateLogs({ direction: "promote" }))
    )
  })
)
