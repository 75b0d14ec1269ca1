/**
 * Stage 5, promote: PASSED rows of a Neon invalid table move to the master table (`PromoteSql`, columns
 * mapped by `MasterMapping`), each batch in one Neon transaction whose rows are appended to the run's
 * backup file (`BackupFile`) before it commits; their workspace rows are then marked promoted
 * (`WorkspaceMarking`). A key whose workspace row holds edits Neon has not received is left out and
 * reported, so no edit is left behind in a row marked promoted. FAILED rows that went through enrichment are
 * flagged `still_invalid`. Batches run in a few lanes at once on disjoint keys; the first failure stops every
 * lane from taking another.
 *
 * Invariants: a row leaves the invalid table only in the transaction that puts it into the master table,
 * and that transaction commits only after the row's backup line is durable; a failed batch rolls back
 * entirely and a re-run continues with the rows still PASSED; a key not on Neon or not PASSED is never
 * promoted, it is reported with the reason (`Candidates`). A process killed mid-batch may leave surplus
 * backup lines, never missing ones.
 */
import type { Entity } from "@enrich-sync/core"
import { qualified } from "@enrich-sync/core"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Semaphore from "effect/Semaphore"
import type { WorkspaceDatabase } from "../../store/Database.ts"
import { SourceDatabase } from "../../store/Database.ts"
import { DatabaseError } from "../../store/DatabaseError.ts"
import type { Progress } from "../Progress.ts"
import type { BackupFile } from "./BackupFile.ts"
import {
  appendBackup,
  type BackupError,
  closeBackup,
  createBackup,
  defaultBackupDir,
  removeBackup
} from "./BackupFile.ts"
import type { Batch, SkippedKey } from "./Candidates.ts"
import { readBatch } from "./Candidates.ts"
import { masterMapping } from "./MasterMapping.ts"
import { promoteSql, scanSql, stillInvalidSql } from "./PromoteSql.ts"
import { activeWorkspaceCount, markPromoted, unpushedEdits } from "./WorkspaceMarking.ts"

/** Options of a promotion. */
export interface PromoteOptions {
  /** promote only these keys (e.g. `revalidate`'s PASSED ids); default: every PASSED row */
  readonly ids?: ReadonlyArray<string>
  /** rows per batch, one Neon transaction each (default 5000) */
  readonly batchSize?: number
  /** count and list what would happen, write nothing (no backup file either; default false) */
  readonly dryRun?: boolean
  /** the folder of the backup files, created when missing (default `./.enrich-sync/backups`) */
  readonly backupDir?: string
  /**
   * batches in flight at once, each in its own Neon transaction on disjoint keys (default 2): one batch's
   * workspace marking and file write overlap another's Neon statements
   */
  readonly concurrency?: number
  readonly onProgress?: (progress: Progress) => void
}

/** What a promotion of one entity did (or, in a dry run, would do). */
export interface PromoteReport {
  readonly entity: Entity["name"]
  /** the keys asked for, or the PASSED rows */
  readonly candidates: number
  /** rows moved to the master table */
  readonly promoted: number
  /** of those, keys the master table already held (updated in place) */
  readonly updatedInMaster: number
  readonly skipped: ReadonlyArray<SkippedKey>
  /** FAILED rows that went through enrichment (`complete`), flagged `still_invalid` */
  readonly stillInvalid: number
  /** the backup of every promoted row (JSON lines), absolute; null when nothing was promoted or in a dry run */
  readonly backupFile: string | null
  /** workspace rows marked promoted (dry run: active workspace rows that would be) */
  readonly workspaceMarked: number
  readonly durationMs: number
}

/**
 * Flags FAILED rows that went through enrichment, in one statement; returns how many there are. `ids`: the
 * rows the key scan found so (each checked again here), or null for a scan of the table. (The flag is
 * idempotent and per row, so one transaction holds nothing worth batching.)
 */
const markStillInvalid = (entity: Entity, dryRun: boolean, ids: ReadonlyArray<string> | null) =>
  Effect.gen(function* () {
    if (ids !== null && ids.length === 0) return 0
    const db = yield* SourceDatabase
    const [row] = yield* db.query(stillInvalidSql(entity, dryRun, ids !== null), ids === null ? [] : [ids])
    return Number(row?.n ?? 0)
  })

/** The error of a batch that rolled back, saying so, with what other batches did and what to do. */
const rolledBack = (
  entity: Entity,
  error: DatabaseError,
  batchRows: number,
  promotedElsewhere: number,
  backupFile: string | null
): DatabaseError => {
  const others =
    promotedElsewhere === 0
      ? ""
      : `; ${promotedElsewhere} rows promoted by other batches stay promoted${backupFile === null ? "" : ` (backup: ${backupFile})`}`
  return new DatabaseError({
    side: error.side,
    reason: error.reason,
    message: `promoting a batch of ${batchRows} ${entity.label} rows into ${qualified(entity.masterTable)} failed and was rolled back (nothing of it was written or deleted): ${error.message}${others}; fix the cause and run promote again, it continues with the rows still PASSED`,
    ...(error.code === undefined ? {} : { code: error.code }),
    cause: error
  })
}

/** The error of marking workspace rows promoted after their batch committed on Neon. */
const notMarked = (entity: Entity, error: DatabaseError, keys: number): DatabaseError =>
  new DatabaseError({
    side: error.side,
    reason: error.reason,
    message: `${keys} ${entity.label} rows were promoted on Neon, but marking their workspace rows promoted failed: ${error.message}; the next backfill (or syncd) marks them; run promote again for the rest`,
    ...(error.code === undefined ? {} : { code: error.code }),
    cause: error
  })

/**
 * A key left out because its workspace row holds edits Neon has not received (see `unpushedEdits`): promoted
 * now, those edits would stay behind in a row marked promoted, which syncs no more.
 */
const heldBack = (key: string, status: string | null): SkippedKey => ({
  key,
  reason: `its workspace row has edits not yet pushed to Neon (enrichment_status ${status === null ? "NULL" : JSON.stringify(status)}); promoting it now would leave them behind: push them (a row is pushed, and re-validated, once its enrichment_status is complete), then promote again`,
  unpushedEdits: true
})

/** The error of reading the workspace for a batch's unpushed edits (its transaction then rolls back). */
const notChecked = (entity: Entity, error: DatabaseError): DatabaseError =>
  new DatabaseError({
    side: error.side,
    reason: error.reason,
    message: `reading the workspace for ${entity.label} edits not yet pushed failed: ${error.message}`,
    ...(error.code === undefined ? {} : { code: error.code }),
    cause: error
  })

/** A batch's keys without those whose workspace row holds unpushed edits, and those, as skipped. */
const leaveOut = (taken: ReadonlyArray<string>, held: ReadonlyMap<string, string | null>) => ({
  batchKeys: held.size === 0 ? taken : taken.filter((k) => !held.has(k)),
  held: [...held].map(([key, status]) => heldBack(key, status))
})

/** A batch whose transaction failed (and rolled back). */
interface BatchFailed {
  readonly _tag: "BatchFailed"
  readonly error: DatabaseError
  readonly rows: number
}

/** Promotes one entity (see the module header). */
export const promoteEntity = (
  entity: Entity,
  options: PromoteOptions = {}
): Effect.Effect<PromoteReport, DatabaseError | BackupError, SourceDatabase | WorkspaceDatabase> =>
  Effect.scoped(
    Effect.gen(function* () {
      const started = yield* Clock.currentTimeMillis
      const db = yield* SourceDatabase
      const dryRun = options.dryRun ?? false
      const batchSize = Math.max(1, Math.floor(options.batchSize ?? 5000))
      const lanes = Math.max(1, Math.floor(options.concurrency ?? 2))
      // the keys to promote, in key order: the ones asked for, or every PASSED row (read once, in one scan
      // that also finds the rows to flag still_invalid at the end; with keys asked for, that is a scan of its own)
      let keys: Array<string>
      let stillInvalidIds: Array<string> | null = null
      if (options.ids === undefined) {
        keys = []
        stillInvalidIds = []
        for (const row of yield* db.query(scanSql(entity))) {
          if (row.id === null) keys.push(String(row.key))
          else stillInvalidIds.push(String(row.id))
        }
        keys.sort()
      } else {
        keys = [...new Set(options.ids.map((id) => id.trim()).filter((id) => id !== ""))].sort()
      }
      const statement = promoteSql(entity, yield* masterMapping(entity))
      const master = qualified(entity.masterTable)

      const run: {
        /** where the next batch of keys starts */
        offset: number
        backup: BackupFile | null
        failure: DatabaseError | BackupError | BatchFailed | null
        promoted: number
        updatedInMaster: number
        workspaceMarked: number
        done: number
        skipped: Array<SkippedKey>
      } = {
        offset: 0,
        backup: null,
        failure: null,
        promoted: 0,
        updatedInMaster: 0,
        workspaceMarked: 0,
        done: 0,
        skipped: []
      }
      yield* Effect.addFinalizer(() => (run.backup === null ? Effect.void : closeBackup(run.backup)))
      // the backup file exists before the first batch: its path goes into every batch's log entries
      if (!dryRun && keys.length > 0)
        run.backup = yield* createBackup(entity, options.backupDir ?? defaultBackupDir)
      const fileLock = yield* Semaphore.make(1)

      /** The next batch of keys (null when there is none or a batch failed). */
      const nextKeys = Effect.sync(() => {
        if (run.failure !== null || run.offset >= keys.length) return null
        const batch = keys.slice(run.offset, run.offset + batchSize)
        run.offset += batch.length
        return batch
      })

      const report = (batch: Batch, size: number) => {
        run.skipped.push(...batch.skipped)
        run.done += size
        options.onProgress?.({ stage: "promote", entity: entity.name, done: run.done, total: keys.length })
      }

      /**
       * One batch in one Neon transaction: one statement deletes the rows still PASSED from the invalid
       * table, puts them into the master table and logs them, returning each row whole; those rows are
       * appended to the backup file and fsync'ed; then the transaction commits. A backup that cannot be
       * written rolls the batch back. (A COMMIT that fails after the lines were written leaves surplus
       * lines: rows that were not promoted, never missing ones.)
       */
      const promoteBatch = (
        file: BackupFile,
        taken: ReadonlyArray<string>,
        check: Fiber.Fiber<ReadonlyMap<string, string | null>, DatabaseError>
      ) =>
        db.transaction((tx) =>
          Effect.gen(function* () {
            // the workspace check ran beside the transaction's BEGIN; nothing is written before it answers
            const { batchKeys, held } = leaveOut(taken, yield* Fiber.join(check))
            if (batchKeys.length === 0) return { batch: { promote: [], skipped: held }, existing: 0 }
            const details = (existing: boolean) =>
              JSON.stringify({ master, backup_file: file.path, updated_existing: existing })
            const rows = yield* tx.query(statement, [batchKeys, entity.name, details(false), details(true)])
            const promoted = rows.map((r) => String(r.key))
            let skipped: ReadonlyArray<SkippedKey> = held
            if (promoted.length < batchKeys.length) {
              const gone = new Set(promoted)
              skipped = [
                ...held,
                ...(yield* readBatch(
                  entity,
                  tx,
                  batchKeys.filter((k) => !gone.has(k))
                )).skipped
              ]
            }
            if (rows.length > 0) {
              yield* fileLock.withPermits(1)(
                appendBackup(
                  file,
                  rows.map((r) => String(r.row_json))
                )
              )
            }
            const batch: Batch = { promote: promoted, skipped }
            return { batch, existing: rows.filter((r) => r.existed === true).length }
          })
        )

      /**
       * A lane: takes batches until none is left or one failed; leaves out the keys whose workspace row
       * holds edits Neon has not received; marks the workspace after each commit.
       */
      const lane = Effect.gen(function* () {
        while (true) {
          const taken = yield* nextKeys
          if (taken === null) return
          const check = yield* Effect.forkChild(
            unpushedEdits(entity, taken).pipe(Effect.mapError((error) => notChecked(entity, error)))
          )
          const file = run.backup
          if (dryRun || file === null) {
            const { batchKeys, held } = leaveOut(taken, yield* Fiber.join(check))
            const batch = yield* readBatch(entity, db, batchKeys)
            run.promoted += batch.promote.length
            const active = yield* activeWorkspaceCount(entity, batch.promote)
            run.workspaceMarked += active
            report({ promote: batch.promote, skipped: [...held, ...batch.skipped] }, taken.length)
            continue
          }
          const result = yield* promoteBatch(file, taken, check).pipe(
            Effect.mapError((error): BackupError | BatchFailed =>
              error._tag === "DatabaseError" ? { _tag: "BatchFailed", error, rows: taken.length } : error
            )
          )
          const promotedKeys = result.batch.promote
          run.promoted += promotedKeys.length
          run.updatedInMaster += result.existing
          // read the count before adding: the lanes share `run`, and `x += yield* ...` would read x before yielding
          const marked = yield* markPromoted(entity, promotedKeys).pipe(
            Effect.mapError((error) => notMarked(entity, error, promotedKeys.length))
          )
          run.workspaceMarked += marked
          report(result.batch, taken.length)
        }
      }).pipe(
        // a failure stops every lane from taking another batch, but lets the batches in flight finish
        Effect.catch((error: DatabaseError | BackupError | BatchFailed) =>
          Effect.sync(() => {
            run.failure ??= error
          })
        )
      )

      yield* Effect.all(
        Array.from({ length: dryRun ? 1 : lanes }, () => lane),
        { concurrency: "unbounded", discard: true }
      )
      // a backup file that received nothing is removed
      const file = run.backup
      if (file !== null && file.size === 0) {
        run.backup = null
        yield* removeBackup(file)
      }
      if (run.failure !== null) {
        const failure = run.failure
        return yield* Effect.fail(
          failure._tag === "BatchFailed"
            ? rolledBack(entity, failure.error, failure.rows, run.promoted, run.backup?.path ?? null)
            : failure
        )
      }

      const stillInvalid = yield* markStillInvalid(entity, dryRun, stillInvalidIds)
      return {
        entity: entity.name,
        candidates: keys.length,
        promoted: run.promoted,
        updatedInMaster: run.updatedInMaster,
        skipped: run.skipped,
        stillInvalid,
        backupFile: run.backup === null ? null : run.backup.path,
        workspaceMarked: run.workspaceMarked,
        durationMs: (yield* Clock.currentTimeMillis) - started
      }
    })
  )
