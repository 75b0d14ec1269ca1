/**
 * Neon's side of the merge: reads the rows of a batch of keys (projected, with the hash of their
 * projection) and writes pushed fields with compare-and-swap.
 *
 * Invariant: a write lands only on a row whose projection still hashes to what was read; a row edited in
 * between is left alone and reported, so the caller re-reads and merges again (no edit is overwritten
 * unseen). Pushes and their re-validation are logged to `shq_validation_log`, and what each push decided
 * is journaled (`PushJournal`), in the same transaction.
 */
import type { Entity, SyncField, SyncRecord, SyncValue } from "@enrich-sync/core"
import { canonicalTimestamp, projectSource, qualified, sourceHashFunction } from "@enrich-sync/core"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { readByKey, SourceDatabase } from "./Database.ts"
import { DatabaseError } from "./DatabaseError.ts"
import type { PushJournalEntry } from "./PushJournal.ts"
import { journaledSql, journalInsertSql, journalPayload } from "./PushJournal.ts"
import { fieldDefinitions, fieldKey, recordSetValue, wireValue } from "./RecordSet.ts"
import { logPayload, logSql } from "./ValidationLog.ts"

/** A Neon row as the merge sees it. */
export interface SourceRow {
  readonly key: string
  readonly record: SyncRecord
  /** `updated_at`, canonical */
  readonly updatedAt: string | null
  /** the row version (`xmin`) read */
  readonly xmin: number
  /** the push journal holds an entry for the key: it is applied before the key is merged (`PushJournal`) */
  readonly journaled: boolean
}

/** A pushed change to one Neon row. */
export interface SourceWrite {
  readonly key: string
  /**
   * the projection hash the row had when read (the compare-and-swap token, checked in SQL): the TypeScript
   * hash of the projection is the SQL one byte for byte (property-tested against real servers), so reads
   * cost Neon nothing, and rows that are not pushed are never hashed
   */
  readonly expectedHash: string
  /** the fields to set (shared fields and re-validation outcome) */
  readonly set: { readonly [field: string]: SyncValue }
  /** `updated_at` to carry (the newest edit pushed); the row's own is kept when newer */
  readonly updatedAt: string | null
  /** what the push decided, journaled by the same statement (see `PushJournal`) */
  readonly journal: PushJournalEntry
  /** the re-validation logged with the push */
  readonly log: {
    readonly validationStatus: string | null
    readonly validationErrors: SyncValue
    readonly details: SyncValue
    readonly batchId: string | null
  }
}

/** The fields a push may write on Neon: the shared ones and the re-validation outcome. */
export const writableSourceFields = (entity: Entity): ReadonlyArray<SyncField> =>
  entity.fields.filter(
    (f) =>
      f.name !== entity.key &&
      (f.owner === "shared" ||
        ["validation_errors", "validation_warnings", "reason_code", "validation_status"].includes(f.name))
  )

/**
 * One row of a compare-and-swap write's record set: the key, the hash the row must still have (`expected`),
 * the names of the fields set, the `extra` members, and each of `fields` that is set, as its wire value.
 */
export const compareAndSwapRow = (
  fields: ReadonlyArray<SyncField>,
  key: string,
  expected: string,
  set: { readonly [field: string]: SyncValue },
  extra: { readonly [member: string]: unknown }
): Record<string, unknown> => {
  const row: Record<string, unknown> = { key, expected, set: Object.keys(set), ...extra }
  for (const f of fields) if (f.name in set) row[fieldKey(f)] = wireValue(f, set[f.name])
  return row
}

const selectSql = (entity: Entity) => {
  const table = qualified(entity.sourceTable)
  const columns = [...new Set(entity.fields.map((f) => f.source))].map((c) => `t.${c}`).join(", ")
  return `SELECT ${columns}, t.updated_at, t.xmin::text::bigint AS source_xmin,
                 ${journaledSql(entity, `t.${entity.key}`)} AS journaled
            FROM ${table} AS t WHERE t.${entity.key} = ANY($1::text[])`
}

const toSourceRow = (entity: Entity, row: Record<string, unknown>, key: string): SourceRow => {
  const record = projectSource(entity, row)
  return {
    key,
    record,
    updatedAt: canonicalTimestamp(row.updated_at),
    xmin: Number(row.source_xmin),
    journaled: row.journaled === true
  }
}

/**
 * How many of the transaction ids in `xids` (an expression of type `bigint[]`: 32-bit ids, as the
 * replication stream gives them) are committed and not yet visible to a new snapshot.
 */
export const invisibleCountSql = (xids: string) => `SELECT count(*)::int AS invisible
  FROM (SELECT pg_current_snapshot() AS s) AS snap,
       LATERAL (SELECT pg_snapshot_xmax(snap.s)::text::bigint AS xmax) AS m,
       LATERAL (SELECT ((m.xmax >> 32) << 32) | x AS near FROM unnest(${xids}) AS x) AS n,
       -- the 64-bit id nearest to the snapshot's xmax: a committed transaction may not be visible yet, and
       -- then its id is at or above xmax (xmax is the latest completed id + 1), so look both ways
       LATERAL (SELECT CASE WHEN n.near - m.xmax > 2147483648 THEN n.near - 4294967296
                            WHEN m.xmax - n.near > 2147483648 THEN n.near + 4294967296
                            ELSE n.near END AS full) AS t
 WHERE t.full >= 3 AND NOT pg_visible_in_snapshot(t.full::text::xid8, snap.s)`

const invisibleSql = invisibleCountSql("$1::bigint[]")

/**
 * Repeats `look` (a read that also counts how many of the transactions it waits for are not visible yet)
 * until that count is 0, and returns what the last look read: every millisecond at first, then every 10;
 * after 30 s of Clock time a retryable `Contention` error.
 */
export const untilVisible = <A, R>(
  look: Effect.Effect<{ readonly invisible: number; readonly read: A }, DatabaseError, R>
): Effect.Effect<A, DatabaseError, R> =>
  Effect.gen(function* () {
    const started = yield* Clock.currentTimeMillis
    for (let attempt = 0; ; attempt++) {
      const { invisible, read } = yield* look
      if (invisible === 0) return read
      if ((yield* Clock.currentTimeMillis) - started > 30_000)
        return yield* new DatabaseError({
          side: "source",
          reason: "Contention",
          message: `Neon reported committed transactions that stay invisible after 30 s (${invisible} transaction ids); it is retried`
        })
      yield* Effect.sleep(attempt < 10 ? "1 millis" : "10 millis")
    }
  })

/**
 * Logical decoding can hand out a commit a moment before the committing transaction becomes visible to
 * other sessions (the commit record is flushed, and decoded, before the backend leaves the proc array).
 * Reading the row in that moment returns its previous version. This waits until every given transaction id
 * (32-bit, as pgoutput reports it) is visible to a new snapshot, so the read that follows sees them.
 */
export const awaitVisible = (
  xids: ReadonlyArray<number>
): Effect.Effect<void, DatabaseError, SourceDatabase> =>
  Effect.gen(function* () {
    if (xids.length === 0) return
    const db = yield* SourceDatabase
    yield* untilVisible(
      Effect.map(db.query(invisibleSql, [[...new Set(xids)]]), ([row]) => ({
        invisible: Number(row?.invisible ?? 0),
        read: undefined
      }))
    )
  })

/** Reads the Neon rows of `keys` (absent keys are simply missing from the map). */
export const readSource = (
  entity: Entity,
  keys: ReadonlyArray<string>
): Effect.Effect<ReadonlyMap<string, SourceRow>, DatabaseError, SourceDatabase> =>
  readByKey(SourceDatabase, selectSql(entity), entity.key, keys, (row, key) => toSourceRow(entity, row, key))

const updateSql = (entity: Entity) => {
  const table = qualified(entity.sourceTable)
  const fields = writableSourceFields(entity)
  const sets = fields.map((f) => {
    const value =
      f.kind === "json" && f.source === "validation_errors"
        ? `coalesce(${recordSetValue(f, "v")}, '{}'::jsonb)`
        : f.name === "reason_code"
          ? `coalesce(v.${fieldKey(f)}, '')`
          : recordSetValue(f, "v")
    return `${f.source} = CASE WHEN v.set ? '${f.name}' THEN ${value} ELSE t.${f.source} END`
  })
  return `WITH pushed AS (
    UPDATE ${table} AS t SET
      ${sets.join(",\n      ")},
      updated_at = CASE WHEN v.updated_at IS NULL THEN t.updated_at ELSE greatest(t.updated_at, v.updated_at) END
    FROM jsonb_to_recordset($1::jsonb) AS v(key text, expected text, set jsonb, updated_at timestamp, ${fieldDefinitions(fields)})
    WHERE t.${entity.key} = v.key AND ${sourceHashFunction(entity)}(t) = v.expected
    RETURNING t.${entity.key} AS key, t.xmin::text::bigint AS xmin
  ), journaled AS (
    ${journalInsertSql("$2", "$3")}
  ), logged AS (
    ${logSql("$4", "pushed")}
  )
  SELECT key, xmin FROM pushed`
}

/**
 * Writes pushes with their log entries and their journal entries (`PushJournal`) in one statement, so in
 * one transaction and one round trip; returns the keys written with the row version they now have (the
 * others changed since they were read, and have no journal entry).
 */
export const writeSource = (
  entity: Entity,
  writes: ReadonlyArray<SourceWrite>
): Effect.Effect<ReadonlyMap<string, number>, DatabaseError, SourceDatabase> =>
  Effect.gen(function* () {
    if (writes.length === 0) return new Map<string, number>()
    const db = yield* SourceDatabase
    const fields = writableSourceFields(entity)
    const payload = writes.map((w) =>
      compareAndSwapRow(fields, w.key, w.expectedHash, w.set, { updated_at: w.updatedAt })
    )
    // one statement (so one round trip, and atomic by itself): the rows, their journal and log entries
    const rows = yield* db.query(updateSql(entity), [
      JSON.stringify(payload),
      journalPayload(writes.map((w) => w.journal)),
      entity.name,
      logPayload(
        entity,
        writes.map((w) => ({
          recordId: w.key,
          action: "push",
          validationStatus: w.log.validationStatus,
          validationErrors: w.log.validationErrors,
          details: w.log.details,
          batchId: w.log.batchId
        }))
      )
    ])
    return new Map(rows.map((r) => [String(r.key), Number(r.xmin)]))
  })

/** Which of `keys` are in the master table (promoted records). */
export const readPromoted = (
  entity: Entity,
  keys: ReadonlyArray<string>
): Effect.Effect<ReadonlySet<string>, DatabaseError, SourceDatabase> =>
  Effect.gen(function* () {
    if (keys.length === 0) return new Set<string>()
    const db = yield* SourceDatabase
    const rows = yield* db.query(
      `SELECT ${entity.key} AS key FROM ${qualified(entity.masterTable)} WHERE ${entity.key} = ANY($1::text[])`,
      [keys]
    )
    return new Set(rows.map((r) => String(r.key)))
  })
