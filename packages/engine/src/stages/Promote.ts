/**
 * Stage 5, promote: PASSED rows of a Neon invalid table move to the master table, and FAILED rows that went
 * through enrichment are flagged `still_invalid`.
 *
 * The keys are the ones asked for, or every PASSED row (read once, in the one scan that also finds the rows to
 * flag `still_invalid`; they are flagged after the batches, each checked again). Per batch of keys, in ONE
 * Neon transaction: one statement deletes the rows still `PASSED` from the invalid table and, from the
 * deleted rows, inserts them into the master table (Barton IDs kept; columns mapped by name, so a master
 * table with more columns works; a key the master already holds is updated, never duplicated) and logs them
 * to `shq_validation_log` (action `promote`), returning every row whole; those rows are appended to the
 * run's backup file (JSON lines, one object per row with all its columns) and fsync'ed; only then does the
 * transaction commit. After the commit, their workspace rows are marked promoted (kept, never deleted), in a
 * few short transactions so that most of those updates stay on their page (see `markPromoted`).
 * Batches run in a few lanes at once (disjoint keys, a transaction each), so one batch's file write and
 * workspace marking overlap another's Neon statement.
 *
 * Invariants: a row is deleted from the invalid table only in the transaction that puts it into the master
 * table, and that transaction commits only after the row's backup line is durable on disk; a batch that
 * fails rolls back entirely (nothing of it reached the file), the run stops taking batches, and a re-run
 * continues with the rows still PASSED. A key that is not on Neon or not PASSED is never promoted:
 * it is reported with the reason. (A process killed mid-batch may leave that batch's lines in the file:
 * surplus lines of rows that were not promoted, never missing ones.)
 */

import type { FileHandle } from "node:fs/promises"
import { mkdir, open, unlink } from "node:fs/promises"
import { join, resolve } from "node:path"
import type { Entity } from "@enrich-sync/core"
import { isBartonId, qualified, quoteIdent } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Semaphore from "effect/Semaphore"
import type { Row, Session } from "../store/Database.ts"
import { SourceDatabase, WorkspaceDatabase } from "../store/Database.ts"
import { DatabaseError } from "../store/DatabaseError.ts"
import { markGone } from "../store/WorkspaceStore.ts"
import type { Progress } from "./Progress.ts"

/** The promotion backup could not be written: nothing of the batch was promoted. */
export class BackupError extends Schema.TaggedError<BackupError>()("BackupError", {
  /** the file or folder that could not be written */
  path: Schema.String,
  /** one line: what went wrong and how to fix it */
  message: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {}

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

/** A key that was not promoted, and why. */
export interface SkippedKey {
  readonly key: string
  readonly reason: string
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

/** The default folder of the backup files. */
export const defaultBackupDir = "./.enrich-sync/backups"

// ---------------------------------------------------------------------------------------------------------
// The master table's columns

/** How the master table is filled: its columns, each with the invalid table's column it takes. */
export interface MasterMapping {
  /** [master column, invalid column] */
  readonly columns: ReadonlyArray<readonly [string, string]>
  /** the master has a unique index on the key alone (so `ON CONFLICT (key)` applies) */
  readonly uniqueKey: boolean
}

const columnsSql = `SELECT a.attname AS name, a.atthasdef OR a.attidentity <> '' AS has_default,
                           a.attgenerated <> '' OR a.attidentity = 'a' AS read_only
                      FROM pg_attribute a
                     WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
                     ORDER BY a.attnum`

const uniqueKeySql = `SELECT EXISTS (
    SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
     WHERE i.indrelid = $1::regclass AND i.indisunique AND i.indimmediate AND i.indnkeyatts = 1
       AND i.indpred IS NULL AND i.indexprs IS NULL AND a.attname = $2) AS unique_key`

/**
 * Reads both tables from the catalog and maps the master's columns: a column takes the invalid table's
 * column of the same name or, failing that, of the sync record's other name for it (`source_batch_id`
 * takes `batch_id`, as in the workspace). The master's own `id` (with a default) is left to the master;
 * generated columns are skipped. Fails when the master lacks the key.
 */
export const masterMapping = (entity: Entity): Effect.Effect<MasterMapping, DatabaseError, SourceDatabase> =>
  Effect.gen(function* () {
    const db = yield* SourceDatabase
    const master = qualified(entity.masterTable)
    const masterColumns = yield* db.query(columnsSql, [master])
    const invalidColumns = new Set(
      (yield* db.query(columnsSql, [qualified(entity.sourceTable)])).map((r) => String(r.name))
    )
    const aliases = new Map(
      entity.fields.filter((f) => f.workspace !== f.source).map((f) => [f.workspace, f.source])
    )
    const columns: Array<readonly [string, string]> = []
    for (const row of masterColumns) {
      const name = String(row.name)
      if (row.read_only === true || (name === "id" && row.has_default === true)) continue
      const from = invalidColumns.has(name) ? name : aliases.get(name)
      if (from !== undefined && invalidColumns.has(from)) columns.push([name, from])
    }
    if (!columns.some(([name]) => name === entity.key)) {
      return yield* new DatabaseError({
        side: "source",
        reason: "Schema",
        message: `Neon's ${master} has no column ${entity.key} (the Barton ID) to promote ${entity.label} rows into; add it (TEXT UNIQUE NOT NULL) or run \`enrich-sync migrate\` on a database without that table`
      })
    }
    const [unique] = yield* db.query(uniqueKeySql, [master, entity.key])
    return { columns, uniqueKey: unique?.unique_key === true }
  })

/**
 * The statement that promotes the rows whose keys are `$1` and whose status is still `PASSED`, in one pass
 * over them: deletes them from the invalid table and, from the deleted rows, inserts them into the master
 * table (updating a key the master already holds) and logs them to `shq_validation_log`. Parameters: `$1`
 * keys, `$2` entity name, `$3` and `$4` the log's details for a new key and for a key the master held.
 * Returns one row per promoted row: its key, the whole row as a JSON object (its backup line) and whether
 * the master held the key. Every part sees the tables as they were before the statement, the statement
 * succeeds or fails as a whole, and nothing of it is visible before the transaction commits (which is
 * after the backup lines are on disk).
 */
export const promoteSql = (entity: Entity, mapping: MasterMapping): string => {
  const master = qualified(entity.masterTable)
  const invalid = qualified(entity.sourceTable)
  const key = quoteIdent(entity.key)
  const targets = mapping.columns.map(([to]) => quoteIdent(to)).join(", ")
  const values = mapping.columns.map(([, from]) => `g.${quoteIdent(from)}`).join(", ")
  const updatable = mapping.columns.filter(([to]) => to !== entity.key)
  const toMaster = mapping.uniqueKey
    ? `ins AS (
         INSERT INTO ${master} AS m (${targets}) SELECT ${values} FROM gone AS g
         ON CONFLICT (${key}) ${
           updatable.length === 0
             ? "DO NOTHING"
             : `DO UPDATE SET ${updatable.map(([to]) => `${quoteIdent(to)} = EXCLUDED.${quoteIdent(to)}`).join(", ")}`
         })`
    : `${
        updatable.length === 0
          ? ""
          : `upd AS (
         UPDATE ${master} AS m SET ${updatable.map(([to, from]) => `${quoteIdent(to)} = g.${quoteIdent(from)}`).join(", ")}
           FROM gone AS g WHERE m.${key} = g.${key}),
       `
      }ins AS (
         INSERT INTO ${master} (${targets}) SELECT ${values} FROM gone AS g
          WHERE NOT EXISTS (SELECT 1 FROM ${master} AS m WHERE m.${key} = g.${key}))`
  return `WITH gone AS (
         DELETE FROM ${invalid} AS t WHERE t.${key} = ANY($1::text[]) AND t.validation_status = 'PASSED'
         RETURNING t.*),
       existing AS (
         SELECT DISTINCT m.${key} AS key FROM ${master} AS m WHERE m.${key} = ANY($1::text[])),
       ${toMaster},
       logged AS (
         INSERT INTO public.shq_validation_log
                (record_id, entity, action, validation_status, validation_errors, details, batch_id)
         SELECT g.${key}, $2, 'promote', g.validation_status, g.validation_errors,
                CASE WHEN e.key IS NULL THEN $3::jsonb ELSE $4::jsonb END, g.batch_id
           FROM gone AS g LEFT JOIN existing AS e ON e.key = g.${key})
     SELECT g.${key} AS key, row_to_json(g)::text AS row_json, e.key IS NOT NULL AS existed
       FROM gone AS g LEFT JOIN existing AS e ON e.key = g.${key}
      ORDER BY g.${key}`
}

// ---------------------------------------------------------------------------------------------------------
// The backup file

/** The run's backup file, opened by the first batch that promotes something. */
interface BackupFile {
  readonly path: string
  readonly handle: FileHandle
  /** bytes written and fsync'ed */
  size: number
}

const backupError = (path: string, doing: string, cause: unknown) => {
  const detail = cause instanceof Error ? cause.message : String(cause)
  return new BackupError({
    path,
    message: `cannot ${doing} the promotion backup ${path} (${detail}); nothing of this batch was promoted: make the folder writable by this user (permissions), free disk space, or choose another backup folder, then run promote again`,
    cause
  })
}

const fileStamp = (date: Date) => date.toISOString().replace(/[-:]/g, "").replace(".", "-")

/** Creates the folder and a new backup file in it (never overwriting one), durable with its directory entry. */
const createBackup = (entity: Entity, dir: string): Effect.Effect<BackupFile, BackupError> => {
  const folder = resolve(dir)
  return Effect.tryPromise({
    try: async () => {
      await mkdir(folder, { recursive: true })
      const stamp = fileStamp(new Date())
      for (let n = 0; ; n++) {
        const path = join(folder, `${entity.name}-promote-${stamp}${n === 0 ? "" : `-${n}`}.jsonl`)
        try {
          const handle = await open(path, "wx+", 0o600)
          const directory = await open(folder, "r")
          await directory.sync().finally(() => directory.close())
          return { path, handle, size: 0 }
        } catch (error) {
          if ((error as { code?: string }).code !== "EEXIST") throw error
        }
      }
    },
    catch: (error) => backupError(folder, "create", error)
  })
}

/** Appends rows (each a JSON object) as lines and fsyncs; on failure the file is cut back to what it held. */
const appendBackup = (file: BackupFile, rows: ReadonlyArray<string>): Effect.Effect<void, BackupError> =>
  Effect.tryPromise({
    try: async () => {
      const data = Buffer.from(`${rows.join("\n")}\n`, "utf8")
      const start = file.size
      try {
        await file.handle.write(data, 0, data.length, start)
        await file.handle.sync()
      } catch (error) {
        await file.handle.truncate(start).catch(() => undefined)
        throw error
      }
      file.size = start + data.length
    },
    catch: (error) => backupError(file.path, "write", error)
  })

// ---------------------------------------------------------------------------------------------------------
// Batches

/** A row read for promotion: its key and its status. */
interface Candidate {
  readonly key: string
  readonly status: string | null
  readonly reasonCode: string | null
}

/** Reads the rows of `$1`: their status. */
const byKeysSql = (entity: Entity) =>
  `SELECT t.${quoteIdent(entity.key)} AS key, t.validation_status, t.reason_code
     FROM ${qualified(entity.sourceTable)} AS t WHERE t.${quoteIdent(entity.key)} = ANY($1::text[])`

/**
 * Every PASSED key (`id` null) and the id of every row to flag `still_invalid` (see `stillInvalidCondition`),
 * in one scan: a second scan of the table for the flag cost as much as the first. Unordered: the caller sorts
 * the keys (the server's sort, under the database's collation, took a third of the scan's time). The
 * condition is split so that each qual is false or NULL, which stops the evaluation, on almost every row
 * (inside one OR, a NULL from the ILIKE would not stop it from calling the canonical test).
 */
const scanSql = (entity: Entity) =>
  `SELECT t.${quoteIdent(entity.key)} AS key,
          CASE WHEN t.validation_status = 'PASSED' THEN NULL ELSE t.id::text END AS id
     FROM ${qualified(entity.sourceTable)} AS t
    WHERE (t.validation_status = 'PASSED' OR (${stillInvalidPrefilter}))
      AND (t.validation_status = 'PASSED' OR ${stillInvalidTest})`

const toCandidate = (row: Row): Candidate => ({
  key: String(row.key),
  status: row.validation_status === null ? null : String(row.validation_status),
  reasonCode: row.reason_code === null ? null : String(row.reason_code)
})

/** Why a row may not be promoted, or null when it may (its stored status is `PASSED`). */
const refusal = (row: Candidate): string | null => {
  if (row.status === "PASSED") return null
  if (row.status === null || row.status.trim() === "") {
    return "not validated (no validation_status): run revalidate first"
  }
  const reason = row.reasonCode === null || row.reasonCode === "" ? "" : ` (reason_code ${row.reasonCode})`
  return `validation_status is ${row.status}${reason}, not PASSED: enrich it, push it, and run revalidate`
}

/** Why keys asked for are not on Neon: promoted before, or never there. */
const missingReasons = (entity: Entity, session: Pick<Session, "query">, keys: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    if (keys.length === 0) return []
    const master = qualified(entity.masterTable)
    const invalid = qualified(entity.sourceTable)
    const promoted = new Set(
      (yield* session.query(
        `SELECT ${quoteIdent(entity.key)} AS key FROM ${master} WHERE ${quoteIdent(entity.key)} = ANY($1::text[])`,
        [keys]
      )).map((r) => String(r.key))
    )
    return keys.map(
      (key): SkippedKey => ({
        key,
        reason: promoted.has(key)
          ? `already in ${master} and not in ${invalid} (promoted before)`
          : isBartonId(key)
            ? `not in ${invalid}`
            : `not a Barton ID (NN.NN.NN.NN.NNNNN.NNN), and not in ${invalid}`
      })
    )
  })

/** The rows of one batch of keys, sorted into those to promote and those skipped. */
interface Batch {
  /** the keys promoted (in a dry run: that would be) */
  readonly promote: ReadonlyArray<string>
  readonly skipped: ReadonlyArray<SkippedKey>
}

/** Reads the rows of `keys` and sorts them into those that may be promoted and those that may not (why). */
const readBatch = (entity: Entity, session: Pick<Session, "query">, keys: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const rows = (yield* session.query(byKeysSql(entity), [keys])).map(toCandidate)
    const promote: Array<string> = []
    const skipped: Array<SkippedKey> = []
    for (const row of rows) {
      const reason = refusal(row)
      if (reason === null) promote.push(row.key)
      else skipped.push({ key: row.key, reason })
    }
    const found = new Set(rows.map((r) => r.key))
    skipped.push(
      ...(yield* missingReasons(
        entity,
        session,
        keys.filter((k) => !found.has(k))
      ))
    )
    const batch: Batch = { promote, skipped }
    return batch
  })

// the ILIKE is a cheap superset of the canonical test (a status that canonicalizes to "complete" contains
// those letters in some case), so the canonical expression runs only on the few rows it lets through
const stillInvalidPrefilter = `t.validation_status = 'FAILED' AND t.enrichment_status ILIKE '%complete%'`
const stillInvalidTest = `enrich_sync.canonical_status(t.enrichment_status) = '"complete"'`
const stillInvalidCondition = `${stillInvalidPrefilter} AND ${stillInvalidTest}`

/**
 * Flags FAILED rows that went through enrichment, in one statement; returns how many there are. `ids`: the
 * rows the key scan found so (each checked again here), or null for a scan of the table. (The flag is
 * idempotent and per row, so one transaction holds nothing worth batching.)
 */
const markStillInvalid = (entity: Entity, dryRun: boolean, ids: ReadonlyArray<string> | null) =>
  Effect.gen(function* () {
    if (ids !== null && ids.length === 0) return 0
    const db = yield* SourceDatabase
    const table = qualified(entity.sourceTable)
    const where =
      ids === null ? stillInvalidCondition : `t.id = ANY($1::bigint[]) AND ${stillInvalidCondition}`
    const [row] = yield* db.query(
      dryRun
        ? `SELECT count(*)::bigint AS n FROM ${table} AS t WHERE ${where}`
        : `WITH c AS (SELECT t.id, t.still_invalid FROM ${table} AS t WHERE ${where}),
                u AS (UPDATE ${table} AS t SET still_invalid = true FROM c
                       WHERE t.id = c.id AND c.still_invalid IS NOT TRUE)
           SELECT count(*)::bigint AS n FROM c`,
      ids === null ? [] : [ids]
    )
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

/** Active workspace rows among `keys` (what a real run would mark promoted). */
const activeWorkspaceCount = (entity: Entity, keys: ReadonlyArray<string>) =>
  keys.length === 0
    ? Effect.succeed(0)
    : WorkspaceDatabase.use((db) =>
        db.query(
          `SELECT count(*)::bigint AS n FROM ${qualified(entity.workspaceTable)}
            WHERE ${quoteIdent(entity.key)} = ANY($1::text[]) AND sync_state <> 'promoted'`,
          [keys]
        )
      ).pipe(Effect.map(([row]) => Number(row?.n ?? 0)))

/** Rows per workspace marking slice, at least (fewer make the transactions' own cost count). */
const minSliceRows = 500

/** Slices a batch's workspace marking is cut into, at most. */
const maxSlices = 8

/**
 * Marks the workspace rows of a committed batch promoted in a few slices, one transaction each, one after
 * the other: slice j takes every n-th key from the j-th. Why: rows promoted together usually sit side by side
 * in the workspace table (a backfill writes them in key order, about 20 to a page), and an UPDATE keeps the
 * new version of a row on its page, with no new index entries (a HOT update), only while the page has room:
 * fillfactor 85 leaves room for 2 or 3 versions, and the old ones cannot be pruned before their transaction
 * commits. The whole batch in one transaction writes most new versions to other pages, each with a new entry
 * in every index; slices of every 8th key (2 or 3 rows a page) committed in turn let each page be pruned
 * before the next slice reaches it (100k contiguous rows of a 1M-row workspace: 17% of the updates HOT and
 * 17.5 us of workspace CPU per row at once; 93 to 100% HOT and 9.5 us per row in slices).
 * Marking is idempotent, so a failure between slices leaves only rows a later backfill or syncd marks.
 */
export const markPromoted = (
  entity: Entity,
  keys: ReadonlyArray<string>
): Effect.Effect<number, DatabaseError, WorkspaceDatabase> =>
  Effect.gen(function* () {
    const slices = Math.max(1, Math.min(maxSlices, Math.floor(keys.length / minSliceRows)))
    let marked = 0
    for (let j = 0; j < slices; j++) {
      marked += yield* markGone(
        entity,
        keys.filter((_, i) => i % slices === j),
        []
      )
    }
    return marked
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
      const started = Date.now()
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
      yield* Effect.addFinalizer(() => {
        const file = run.backup
        return file === null ? Effect.void : Effect.promise(() => file.handle.close()).pipe(Effect.ignore)
      })
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
      const promoteBatch = (file: BackupFile, batchKeys: ReadonlyArray<string>) =>
        db.transaction((tx) =>
          Effect.gen(function* () {
            const details = (existing: boolean) =>
              JSON.stringify({ master, backup_file: file.path, updated_existing: existing })
            const rows = yield* tx.query(statement, [batchKeys, entity.name, details(false), details(true)])
            const promoted = rows.map((r) => String(r.key))
            let skipped: ReadonlyArray<SkippedKey> = []
            if (promoted.length < batchKeys.length) {
              const gone = new Set(promoted)
              skipped = (yield* readBatch(
                entity,
                tx,
                batchKeys.filter((k) => !gone.has(k))
              )).skipped
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

      /** A lane: takes batches until none is left or one failed; marks the workspace after each commit. */
      const lane = Effect.gen(function* () {
        while (true) {
          const batchKeys = yield* nextKeys
          if (batchKeys === null) return
          const file = run.backup
          if (dryRun || file === null) {
            const batch = yield* readBatch(entity, db, batchKeys)
            run.promoted += batch.promote.length
            const active = yield* activeWorkspaceCount(entity, batch.promote)
            run.workspaceMarked += active
            report(batch, batchKeys.length)
            continue
          }
          const result = yield* promoteBatch(file, batchKeys).pipe(
            Effect.mapError((error): BackupError | BatchFailed =>
              error._tag === "DatabaseError" ? { _tag: "BatchFailed", error, rows: batchKeys.length } : error
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
          report(result.batch, batchKeys.length)
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
        yield* Effect.promise(() => file.handle.close().then(() => unlink(file.path))).pipe(Effect.ignore)
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
        durationMs: Date.now() - started
      }
    })
  )
