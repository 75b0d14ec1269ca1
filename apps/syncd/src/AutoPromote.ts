/**
 * Auto-promotion (ENRICH_SYNC_AUTO_PROMOTE=on): the rows re-validation marks PASSED are promoted as they
 * appear, with no command run: every few seconds, each entity's PASSED rows go through the engine's
 * promotion, the same as `enrich-sync promote`: the backup file (in ENRICH_SYNC_BACKUP_DIR) written and
 * fsync'ed before each batch commits, the master insert and the invalid delete and the log in that one
 * Neon transaction, the workspace rows marked promoted, batches of ENRICH_SYNC_BATCH_SIZE at most; a
 * failed batch rolls back and the next pass tries again.
 *
 * A PASSED row whose workspace row holds edits Neon has not received is left out by the promotion (see
 * the engine's `promoteEntity`); it is logged once, and looked at again only when its Neon row changes (its
 * edits pushed and re-validated) or after `heldFor`, so a row a person keeps editing does not make every
 * pass promote again.
 *
 * Invariant: a promotion runs through the merge lane, so it never interleaves with a merge; what it
 * promoted is counted, logged and reported as a webhook event.
 */
import type { Entity } from "@enrich-sync/core"
import { qualified, quoteIdent } from "@enrich-sync/core"
import { promoteEntity, SourceDatabase } from "@enrich-sync/engine"
import * as Clock from "effect/Clock"
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

/** How long a key left out for its unpushed workspace edits is passed over while its Neon row stays the same. */
const heldFor = 5 * 60_000

/**
 * PASSED keys left out for their unpushed workspace edits, per entity: each with the version (`xmin`) of its
 * Neon row then, and when that stops mattering.
 */
export type HeldKeys = Map<
  Entity["name"],
  { readonly keys: ReadonlyMap<string, string>; readonly until: number }
>

/** Whether `entity` has a PASSED row that is not held (with its Neon row unchanged since). */
const anyToPromote = (entity: Entity, held: ReadonlyMap<string, string>) =>
  Effect.gen(function* () {
    const neon = yield* SourceDatabase
    const key = quoteIdent(entity.key)
    const [row] = yield* neon.query(
      `SELECT EXISTS (
         SELECT 1 FROM ${qualified(entity.sourceTable)} AS t
          WHERE t.validation_status = 'PASSED'
            AND NOT EXISTS (SELECT 1 FROM unnest($1::text[], $2::text[]) AS h(key, version)
                             WHERE h.key = t.${key} AND h.version = t.xmin::text)) AS any`,
      [[...held.keys()], [...held.values()]]
    )
    return row?.any === true
  })

/** The Neon row versions of `keys` (those still on the invalid table). */
const versions = (entity: Entity, keys: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const neon = yield* SourceDatabase
    const key = quoteIdent(entity.key)
    const rows = yield* neon.query(
      `SELECT t.${key} AS key, t.xmin::text AS version FROM ${qualified(entity.sourceTable)} AS t
        WHERE t.${key} = ANY($1::text[])`,
      [keys]
    )
    return new Map(rows.map((r) => [String(r.key), String(r.version)]))
  })

/**
 * One pass over `entities`: promotes what is PASSED; returns how many records were promoted. `held`: the
 * keys earlier passes left out for their unpushed workspace edits (updated by the pass).
 */
export const promotePassed = (
  entities: ReadonlyArray<Entity>,
  options: { readonly batchSize: number; readonly backupDir: string },
  held: HeldKeys = new Map()
) =>
  Effect.gen(function* () {
    const lane = yield* MergeLane
    const metrics = yield* SyncMetrics
    const webhooks = yield* Webhooks
    let total = 0
    for (const entity of entities) {
      const now = yield* Clock.currentTimeMillis
      const before = held.get(entity.name)
      const heldKeys = before !== undefined && before.until > now ? before.keys : new Map<string, string>()
      // cheap: most passes find nothing to do
      if (!(yield* anyToPromote(entity, heldKeys))) continue
      const { report, left } = yield* lane
        .run(
          Effect.gen(function* () {
            const report = yield* promoteEntity(entity, {
              batchSize: options.batchSize,
              backupDir: options.backupDir
            })
            const keys = report.skipped.filter((s) => s.unpushedEdits === true).map((s) => s.key)
            // the versions of the keys left out, read before the lane lets the push of their edits (which
            // may wait behind this promotion) change them: a version read after it would hide that change
            return {
              report,
              left: keys.length === 0 ? new Map<string, string>() : yield* versions(entity, keys)
            }
          })
        )
        .pipe(Effect.retry(transientRetry))
      if (left.size === 0) held.delete(entity.name)
      else {
        // said once per key: a key held again once the 5 minutes are over is not news
        const newly = [...left.keys()].filter((k) => before?.keys.has(k) !== true)
        held.set(entity.name, { keys: left, until: now + heldFor })
        if (newly.length > 0)
          yield* Effect.logInfo(
            `${newly.length} PASSED ${entity.label} record(s) not promoted: their workspace rows hold edits not yet pushed to Neon; they are promoted once those edits are pushed and re-validated (e.g. ${newly.slice(0, 3).join(", ")})`
          ).pipe(Effect.annotateLogs({ entity: entity.name, keys: newly.length }))
      }
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
    const held: HeldKeys = new Map()
    const pass = promotePassed(
      config.entities,
      { batchSize: config.batchSize, backupDir: config.backupDir },
      held
    ).pipe(
      Effect.catch((e) => Effect.logWarning(`auto-promotion failed: ${e.message}; the next pass tries again`))
    )
    yield* loops.run(
      Effect.repeat(pass, Schedule.spaced(every)).pipe(Effect.annotateLogs({ direction: "promote" }))
    )
  })
)
