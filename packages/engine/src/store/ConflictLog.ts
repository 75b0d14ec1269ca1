/**
 * The conflict log (`public.sync_conflicts` in the workspace): one row per field a merge decided against
 * one side, with the base and both sides' values and edit times, so the losing value is never lost; and
 * its review: the conflicts read back with filters, marked reviewed (when, by whom) and restored.
 *
 * Invariant: conflicts are appended in the transaction that writes their merge, so a conflict is logged
 * exactly when its resolution is written (the conflicts of a push travel in the push journal and are
 * logged with the workspace write that applies it, once, see `PushJournal`). Rows are never deleted: a
 * review only sets its columns.
 */
import type { Conflict, Entity, SyncValue } from "@enrich-sync/core"
import { canonicalTimestamp, conflictTable } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import type { Session } from "./Database.ts"
import { WorkspaceDatabase } from "./Database.ts"
import type { DatabaseError } from "./DatabaseError.ts"

/** A conflict to log, with its record. */
export interface ConflictEntry {
  readonly key: string
  readonly conflict: Conflict
}

/**
 * A conflict as a row of the log, ready to insert (JSON): what the push journal keeps of a push's conflicts
 * until they are logged.
 */
export interface ConflictRecord {
  readonly entity: string
  readonly record_key: string
  readonly field: string
  readonly reason: string
  readonly winner: string
  readonly base_value: SyncValue
  readonly source_value: SyncValue
  readonly source_edited_at: string | null
  readonly workspace_value: SyncValue
  readonly workspace_edited_at: string | null
}

const conflictSql = `INSERT INTO ${conflictTable}
    (entity, record_key, field, reason, winner, base_value, source_value, source_edited_at, workspace_value, workspace_edited_at)
  SELECT v.entity, v.record_key, v.field, v.reason, v.winner, v.base_value, v.source_value, v.source_edited_at,
         v.workspace_value, v.workspace_edited_at
    FROM jsonb_to_recordset($1::jsonb) AS v(entity text, record_key text, field text, reason text, winner text,
         base_value jsonb, source_value jsonb, source_edited_at timestamp, workspace_value jsonb, workspace_edited_at timestamp)`

const pendingMark = " (pending push)"

/** JSON null and SQL NULL are both "no value" in the conflict log; keep JSON values as JSON. */
const jsonValue = (v: SyncValue) => (v === null ? null : v)

/** The rows of the log that record `conflicts`. */
export const conflictRecords = (
  entity: Entity,
  conflicts: ReadonlyArray<ConflictEntry>
): Array<ConflictRecord> =>
  conflicts.map(({ key, conflict: c }) => ({
    entity: entity.name,
    record_key: key,
    field: c.field,
    reason: c.pending ? `${c.reason}${pendingMark}` : c.reason,
    winner: c.winner,
    base_value: jsonValue(c.base),
    source_value: jsonValue(c.source.value),
    source_edited_at: c.source.editedAt,
    workspace_value: jsonValue(c.workspace.value),
    workspace_edited_at: c.workspace.editedAt
  }))

/** Appends rows to the conflict log in the session's transaction. */
export const logConflictRecords = (tx: Session, records: ReadonlyArray<ConflictRecord>) =>
  records.length === 0 ? Effect.void : tx.query(conflictSql, [JSON.stringify(records)]).pipe(Effect.asVoid)

/** Appends conflicts to the conflict log in the session's transaction. */
export const logConflicts = (tx: Session, entity: Entity, conflicts: ReadonlyArray<ConflictEntry>) =>
  logConflictRecords(tx, conflictRecords(entity, conflicts))

/** The log line of a conflict (the daemon logs one per conflict it logs). */
export const describeConflict = (entity: Entity, record: ConflictRecord): string => {
  const reason = record.reason.endsWith(pendingMark)
    ? `${record.reason.slice(0, -pendingMark.length)}, pending push`
    : record.reason
  return `conflict on ${entity.label} ${record.record_key}, field ${record.field}: ${record.winner} won (${reason}); the losing value is in sync_conflicts`
}

/** One side of a logged conflict: its value and when it was edited. */
export interface LoggedSide {
  readonly value: SyncValue
  /** canonical (UTC, microseconds); null when unknown */
  readonly editedAt: string | null
}

/** A conflict as the log holds it, with its review. */
export interface LoggedConflict {
  readonly id: number
  readonly entity: string
  readonly key: string
  readonly field: string
  /** why the edit lost: a `ConflictReason`, or `restored #ID` for the value a restore replaced */
  readonly reason: string
  /** the winner was a workspace edit held back by push gating (Neon's value is replaced when it is pushed) */
  readonly pending: boolean
  readonly winner: "source" | "workspace" | "base"
  readonly base: SyncValue
  readonly source: LoggedSide
  readonly workspace: LoggedSide
  /** when the merge logged it, canonical */
  readonly detectedAt: string
  readonly reviewedAt: string | null
  readonly reviewedBy: string | null
  /** when `conflicts restore` wrote its losing value back */
  readonly restoredAt: string | null
}

/** Which conflicts to read or mark; every part is optional and they all apply. */
export interface ConflictFilter {
  readonly entity?: string
  readonly key?: string
  /** detected at or after this instant (any ISO-8601 time) */
  readonly since?: string
  /** only those nobody reviewed yet */
  readonly unreviewed?: boolean
}

/** A page of the log: the newest conflicts that match, oldest first, and how many match in all. */
export interface ConflictPage {
  readonly conflicts: ReadonlyArray<LoggedConflict>
  /** conflicts that match the filter */
  readonly total: number
  /** of those, not reviewed yet */
  readonly unreviewed: number
}

/** The columns of a logged conflict; times in UTC (`detected_at` is stored in the session's time zone). */
const loggedColumns = `id, entity, record_key, field, reason, winner, base_value, source_value,
       source_edited_at::text AS source_edited_at, workspace_value, workspace_edited_at::text AS workspace_edited_at,
       (detected_at::timestamptz AT TIME ZONE 'UTC')::text AS detected_at,
       (reviewed_at AT TIME ZONE 'UTC')::text AS reviewed_at, reviewed_by,
       (restored_at AT TIME ZONE 'UTC')::text AS restored_at`

/** The filter's condition on parameters $1 (entity), $2 (key), $3 (since), $4 (unreviewed only). */
const filterCondition = `($1::text IS NULL OR entity = $1) AND ($2::text IS NULL OR record_key = $2)
   AND ($3::timestamptz IS NULL OR detected_at >= $3::timestamptz::timestamp)
   AND (NOT $4::boolean OR reviewed_at IS NULL)`

const filterParams = (filter: ConflictFilter) => [
  filter.entity ?? null,
  filter.key ?? null,
  filter.since ?? null,
  filter.unreviewed === true
]

const winnerOf = (value: unknown): LoggedConflict["winner"] =>
  value === "source" || value === "workspace" ? value : "base"

const toLogged = (r: Record<string, unknown>): LoggedConflict => {
  const reason = String(r.reason)
  const pending = reason.endsWith(pendingMark)
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v))
  return {
    id: Number(r.id),
    entity: String(r.entity),
    key: String(r.record_key),
    field: String(r.field),
    reason: pending ? reason.slice(0, -pendingMark.length) : reason,
    pending,
    winner: winnerOf(r.winner),
    base: (r.base_value ?? null) as SyncValue,
    source: {
      value: (r.source_value ?? null) as SyncValue,
      editedAt: canonicalTimestamp(r.source_edited_at)
    },
    workspace: {
      value: (r.workspace_value ?? null) as SyncValue,
      editedAt: canonicalTimestamp(r.workspace_edited_at)
    },
    detectedAt: canonicalTimestamp(r.detected_at) ?? String(r.detected_at),
    reviewedAt: canonicalTimestamp(r.reviewed_at),
    reviewedBy: text(r.reviewed_by),
    restoredAt: canonicalTimestamp(r.restored_at)
  }
}

/** Reads the newest `limit` conflicts that match `filter` (oldest first), with the counts of all that match. */
export const listConflicts = (
  filter: ConflictFilter,
  limit: number
): Effect.Effect<ConflictPage, DatabaseError, WorkspaceDatabase> =>
  Effect.gen(function* () {
    const db = yield* WorkspaceDatabase
    const params = filterParams(filter)
    const [[counts], rows] = yield* Effect.all(
      [
        db.query(
          `SELECT count(*)::bigint AS total, count(*) FILTER (WHERE reviewed_at IS NULL)::bigint AS unreviewed
             FROM ${conflictTable} WHERE ${filterCondition}`,
          params
        ),
        db.query(
          `SELECT ${loggedColumns} FROM ${conflictTable} WHERE ${filterCondition} ORDER BY id DESC LIMIT $5`,
          [...params, limit]
        )
      ],
      { concurrency: 2 }
    )
    return {
      conflicts: rows.map(toLogged).reverse(),
      total: Number(counts?.total ?? 0),
      unreviewed: Number(counts?.unreviewed ?? 0)
    }
  })

/** Reads one conflict (with `FOR UPDATE` in a transaction that will change it); undefined when there is none. */
export const readConflict = (
  session: Session,
  id: number,
  options: { readonly lock?: boolean } = {}
): Effect.Effect<LoggedConflict | undefined, DatabaseError> =>
  Effect.map(
    session.query(
      `SELECT ${loggedColumns} FROM ${conflictTable} WHERE id = $1${options.lock === true ? " FOR UPDATE" : ""}`,
      [id]
    ),
    (rows) => (rows[0] === undefined ? undefined : toLogged(rows[0]))
  )

/**
 * Marks conflicts reviewed by `by` (null when unknown): the one with `id`, or every unreviewed one that
 * matches `filter`. Conflicts already reviewed keep their first review. Returns the ids marked now.
 */
export const markReviewed = (
  target: { readonly id: number } | { readonly filter: ConflictFilter },
  by: string | null
): Effect.Effect<ReadonlyArray<number>, DatabaseError, WorkspaceDatabase> =>
  Effect.gen(function* () {
    const db = yield* WorkspaceDatabase
    const rows =
      "id" in target
        ? yield* db.query(
            `UPDATE ${conflictTable} SET reviewed_at = now(), reviewed_by = $2
              WHERE id = $1 AND reviewed_at IS NULL RETURNING id`,
            [target.id, by]
          )
        : yield* db.query(
            `UPDATE ${conflictTable} SET reviewed_at = now(), reviewed_by = $5
              WHERE ${filterCondition} AND reviewed_at IS NULL RETURNING id`,
            [...filterParams({ ...target.filter, unreviewed: true }), by]
          )
    return rows.map((r) => Number(r.id)).sort((a, b) => a - b)
  })

/** Conflicts of `entity` nobody reviewed yet. */
export const unreviewedConflicts = (session: Session, entity: Entity): Effect.Effect<number, DatabaseError> =>
  Effect.map(
    session.query(
      `SELECT count(*)::bigint AS n FROM ${conflictTable} WHERE entity = $1 AND reviewed_at IS NULL`,
      [entity.name]
    ),
    ([row]) => Number(row?.n ?? 0)
  )

/** A conflict written by hand (a restore), its values as the JSON text `jsonb` prints (null: SQL NULL). */
export interface ConflictRow {
  readonly entity: string
  readonly key: string
  readonly field: string
  readonly reason: string
  readonly winner: LoggedConflict["winner"]
  readonly base: string | null
  readonly source: { readonly json: string | null; readonly editedAt: string | null }
  readonly workspace: { readonly json: string | null; readonly editedAt: string | null }
  /** the winner waits for its push (see `LoggedConflict.pending`) */
  readonly pending: boolean
}

/** Appends one conflict in the session's transaction; returns its id. */
export const appendConflict = (tx: Session, row: ConflictRow): Effect.Effect<number, DatabaseError> =>
  Effect.map(
    tx.query(
      `INSERT INTO ${conflictTable}
         (entity, record_key, field, reason, winner, base_value, source_value, source_edited_at, workspace_value, workspace_edited_at)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8::timestamp, $9::jsonb, $10::timestamp)
       RETURNING id`,
      [
        row.entity,
        row.key,
        row.field,
        row.pending ? `${row.reason}${pendingMark}` : row.reason,
        row.winner,
        row.base,
        row.source.json,
        row.source.editedAt,
        row.workspace.json,
        row.workspace.editedAt
      ]
    ),
    ([r]) => Number(r?.id)
  )

/**
 * The values of a conflict as the JSON text `jsonb` prints them (exact, whatever the driver makes of JSON),
 * for writing one back.
 */
export const conflictValuesJson = (
  tx: Session,
  id: number
): Effect.Effect<{ readonly source: string | null; readonly workspace: string | null }, DatabaseError> =>
  Effect.map(
    tx.query(
      `SELECT source_value::text AS source, workspace_value::text AS workspace FROM ${conflictTable} WHERE id = $1`,
      [id]
    ),
    ([r]) => ({
      source: r?.source === null || r?.source === undefined ? null : String(r.source),
      workspace: r?.workspace === null || r?.workspace === undefined ? null : String(r.workspace)
    })
  )

/** Marks a conflict restored now, and reviewed by `by` unless it was reviewed before, in the session's transaction. */
export const markRestored = (
  tx: Session,
  id: number,
  by: string | null
): Effect.Effect<void, DatabaseError> =>
  tx
    .query(
      `UPDATE ${conflictTable}
          SET restored_at = now(),
              reviewed_by = CASE WHEN reviewed_at IS NULL THEN $2 ELSE reviewed_by END,
              reviewed_at = coalesce(reviewed_at, now())
        WHERE id = $1`,
      [id, by]
    )
    .pipe(Effect.asVoid)
