/**
 * The workspace's side of the merge: reads the rows of a batch of keys (projection, base, hash, edit
 * time, lifecycle) and writes merge results with compare-and-swap, with the conflicts they resolved
 * (`ConflictLog`).
 *
 * Invariant: an update lands only on a row whose `last_sync_hash` and `updated_at` are still what was read
 * (any edit made by a person bumps `updated_at` through the trigger); everything of one batch, its conflict
 * log and the push journal entries it applies included, commits together or not at all. The engine's writes set `enrich_sync.applying` so the
 * trigger keeps the edit time they carry.
 */
import type { Entity, SyncRecord, SyncState, SyncValue } from "@enrich-sync/core"
import {
  applyingSetting,
  canonicalJson,
  canonicalTimestamp,
  currentXidSql,
  projectBase,
  projectWorkspace,
  qualified,
  recordHash,
  recordJson
} from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import type { ConflictEntry } from "./ConflictLog.ts"
import { conflictRecords, logConflictRecords } from "./ConflictLog.ts"
import { type Row, readByKey, type TransactionOptions, WorkspaceDatabase } from "./Database.ts"
import type { DatabaseError } from "./DatabaseError.ts"
import type { PushJournalEntry } from "./PushJournal.ts"
import { claimedIds, claimReceiptsSql, rebaseRows } from "./PushJournal.ts"
import type { SetColumn } from "./RecordSet.ts"
import { arrayLiteral, fieldColumns, fieldKey, stringLiteral, unnestSql, wireValue } from "./RecordSet.ts"

/** Marks the transaction's writes as the engine's: the trigger keeps the edit time they carry, marks nothing dirty. */
const engineWriteSetting = `SELECT set_config('${applyingSetting}', 'on', true)`

/** A transaction of the engine's writes: the setting goes with its `BEGIN` (one message, no round trip of its own). */
export const asEngineWrite: TransactionOptions = { begin: engineWriteSetting }

/** A workspace row as the merge sees it. */
export interface WorkspaceRow {
  readonly key: string
  readonly record: SyncRecord
  /**
   * The projection both sides last agreed on: the stored `sync_base` when there is one, else the row's own
   * projection when it still hashes to `last_sync_hash` (a clean row, see `WorkspaceMigrations`); null when
   * there is none (never merged) or it cannot be known (the row changed without the trigger noticing).
   */
  readonly base: SyncRecord | null
  /** whether `sync_base` holds a value (a row with pending edits, or one a person touched) */
  readonly storedBase: boolean
  readonly lastSyncHash: string | null
  /** `updated_at` as Postgres printed it (the compare-and-swap token) */
  readonly updatedAtRaw: string | null
  /** `updated_at`, canonical */
  readonly updatedAt: string | null
  readonly syncState: SyncState
  /** a person changed the row since the engine last merged it */
  readonly dirty: boolean
  /** the Neon row version last merged */
  readonly sourceXmin: number | null
}

/** A new workspace row: it holds `record`, which is also its base (stored implicitly). */
export interface WorkspaceInsert {
  readonly key: string
  readonly record: SyncRecord
  readonly hash: string
  readonly updatedAt: string | null
  /** the version of the Neon row it was made from */
  readonly sourceXmin: number
}

/** A merge result to write on an existing workspace row. */
export interface WorkspaceUpdate {
  readonly key: string
  readonly expectedHash: string | null
  readonly expectedUpdatedAt: string | null
  readonly set: { readonly [field: string]: SyncValue }
  /** the new base to store, or null when the row holds it after the write (no pending edit) */
  readonly base: SyncRecord | null
  readonly hash: string
  /** the `updated_at` to carry; null keeps the row's */
  readonly updatedAt: string | null
  /** source changes came in (sets `pulled_from_neon_at`) */
  readonly pulled: boolean
  /** workspace edits went to Neon (sets `pushed_to_neon_at`) */
  readonly pushed: boolean
  readonly syncState: SyncState
  /** the version of the Neon row the result was merged with (after the push, when there is one) */
  readonly sourceXmin: number
}

/** See `currentXidSql`: every write of the engine records its transaction (see `applyClean`). */
const currentXid = currentXidSql

/**
 * The workspace rows (alias `t`) whose projection may differ from their agreed hash: touched by a person
 * since the engine last merged them, never agreed, or holding edits not synced yet (a merge of a Neon change
 * into a row whose edits the push policy holds back clears its dirty mark; the row keeps its base). The
 * other rows are their agreed record, and need no hashing.
 */
export const mayDifferSql = "(t.sync_dirty OR t.sync_base IS NOT NULL OR t.last_sync_hash IS NULL)"

/** Whether the row's (alias `t`) status is one of `$param` (a text array): the push policy pushes it. */
export const pushableStatusSql = (param: string) =>
  `enrich_sync.canonical_status(t.enrichment_status)::json #>> '{}' = ANY(${param}::text[])`

const columnsOf = (entity: Entity) => [...new Set(entity.fields.map((f) => f.workspace))]

const selectSql = (entity: Entity) =>
  `SELECT ${columnsOf(entity)
    .map((c) => `t.${c}`)
    .join(", ")}, t.sync_base, t.last_sync_hash, t.updated_at, t.sync_state, t.sync_dirty, t.source_xmin
     FROM ${qualified(entity.workspaceTable)} AS t WHERE t.${entity.key} = ANY($1::text[])`

/** The base of a workspace row as read (see `WorkspaceRow.base`). */
const baseOf = (
  entity: Entity,
  record: SyncRecord,
  storedBase: unknown,
  lastSyncHash: string | null
): SyncRecord | null => {
  if (storedBase !== null && storedBase !== undefined) return projectBase(entity, storedBase)
  if (lastSyncHash === null) return null
  return recordHash(entity, record) === lastSyncHash ? record : null
}

/** Reads the workspace rows of `keys`. */
export const readWorkspace = (
  entity: Entity,
  keys: ReadonlyArray<string>
): Effect.Effect<ReadonlyMap<string, WorkspaceRow>, DatabaseError, WorkspaceDatabase> =>
  readByKey(WorkspaceDatabase, selectSql(entity), entity.key, keys, (r, key): WorkspaceRow => {
    const record = projectWorkspace(entity, r)
    const lastSyncHash = r.last_sync_hash === null ? null : String(r.last_sync_hash)
    return {
      key,
      record,
      base: baseOf(entity, record, r.sync_base, lastSyncHash),
      storedBase: r.sync_base !== null && r.sync_base !== undefined,
      lastSyncHash,
      updatedAtRaw: r.updated_at === null ? null : String(r.updated_at),
      updatedAt: canonicalTimestamp(r.updated_at),
      syncState: (r.sync_state as SyncState | null) ?? "active",
      dirty: r.sync_dirty !== false,
      sourceXmin: r.source_xmin === null || r.source_xmin === undefined ? null : Number(r.source_xmin)
    }
  })

const insertColumns = (entity: Entity): ReadonlyArray<SetColumn> => [
  ...fieldColumns(entity.fields),
  { name: "hash", type: "text" },
  { name: "updated_at", type: "timestamp" },
  { name: "source_xmin", type: "bigint" }
]

const insertSql = (entity: Entity) => {
  const fields = entity.fields
  return `INSERT INTO ${qualified(entity.workspaceTable)}
      (${fields.map((f) => f.workspace).join(", ")}, last_sync_hash, pulled_from_neon_at, updated_at, sync_state, sync_dirty, source_xmin, sync_xid)
    SELECT ${fields.map((f) => `v.${fieldKey(f)}`).join(", ")}, v.hash,
           now() AT TIME ZONE 'UTC', coalesce(v.updated_at, now() AT TIME ZONE 'UTC'), 'active', false, v.source_xmin,
           ${currentXid}
      FROM ${unnestSql(insertColumns(entity))}
    ON CONFLICT (${entity.key}) DO NOTHING
    RETURNING ${entity.key} AS key`
}

/** The fields an update may set (all but the key), each with its bit in the row's `mask`. */
const updatableFields = (entity: Entity) => {
  const fields = entity.fields.filter((f) => f.name !== entity.key)
  if (fields.length > 62) throw new Error(`entity ${entity.name}: too many fields for an update mask`)
  return fields
}

const updateColumns = (entity: Entity): ReadonlyArray<SetColumn> => [
  { name: "key", type: "text" },
  { name: "expected_hash", type: "text" },
  { name: "expected_updated_at", type: "timestamp" },
  { name: "mask", type: "bigint" },
  { name: "sync_base", type: "jsonb" },
  { name: "hash", type: "text" },
  { name: "updated_at", type: "timestamp" },
  { name: "pulled", type: "boolean" },
  { name: "pushed", type: "boolean" },
  { name: "sync_state", type: "text" },
  { name: "source_xmin", type: "bigint" },
  ...fieldColumns(updatableFields(entity))
]

const updateSql = (entity: Entity) => {
  const sets = updatableFields(entity).map(
    (f, i) =>
      `${f.workspace} = CASE WHEN v.mask & ${2 ** i} <> 0 THEN v.${fieldKey(f)} ELSE t.${f.workspace} END`
  )
  return `UPDATE ${qualified(entity.workspaceTable)} AS t SET
      ${sets.join(",\n      ")},
      sync_base = v.sync_base,
      last_sync_hash = v.hash,
      updated_at = coalesce(v.updated_at, t.updated_at),
      pulled_from_neon_at = CASE WHEN v.pulled THEN now() AT TIME ZONE 'UTC' ELSE t.pulled_from_neon_at END,
      pushed_to_neon_at = CASE WHEN v.pushed THEN now() AT TIME ZONE 'UTC' ELSE t.pushed_to_neon_at END,
      sync_state = v.sync_state,
      sync_dirty = false,
      source_xmin = v.source_xmin,
      sync_xid = ${currentXid},
      promoted_at = CASE WHEN v.sync_state = 'active' THEN NULL ELSE t.promoted_at END,
      removed_at = CASE WHEN v.sync_state = 'active' THEN NULL ELSE t.removed_at END
    FROM ${unnestSql(updateColumns(entity))}
    WHERE t.${entity.key} = v.key
      AND t.last_sync_hash IS NOT DISTINCT FROM v.expected_hash
      AND t.updated_at IS NOT DISTINCT FROM v.expected_updated_at
    RETURNING t.${entity.key} AS key`
}

/** The array parameters of a columnar record set (one literal per column), from one row of values per item. */
const columnsOfRows = (width: number, rows: ReadonlyArray<ReadonlyArray<unknown>>): Array<string> => {
  const columns: Array<Array<unknown>> = Array.from({ length: width }, () => new Array(rows.length))
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!
    for (let c = 0; c < width; c++) columns[c]![r] = row[c]
  }
  return columns.map(arrayLiteral)
}

/**
 * A row the merge found in sync: its dirty mark is cleared and the Neon version it was compared with is
 * recorded, if nobody touched it since it was read.
 */
export interface WorkspaceClean {
  readonly key: string
  readonly expectedUpdatedAt: string | null
  readonly sourceXmin: number
}

const cleanColumns: ReadonlyArray<SetColumn> = [
  { name: "key", type: "text" },
  { name: "expected_updated_at", type: "timestamp" },
  { name: "source_xmin", type: "bigint" }
]

const cleanSql = (entity: Entity) => `UPDATE ${qualified(entity.workspaceTable)} AS t
       SET sync_dirty = false, source_xmin = v.source_xmin, sync_xid = ${currentXid}
    FROM ${unnestSql(cleanColumns)}
    WHERE t.${entity.key} = v.key AND t.updated_at IS NOT DISTINCT FROM v.expected_updated_at
      AND (t.sync_dirty OR t.source_xmin IS DISTINCT FROM v.source_xmin)`

/** What a workspace batch wrote. */
export interface WorkspaceWritten {
  readonly inserted: ReadonlySet<string>
  readonly updated: ReadonlySet<string>
  /** the keys whose push journal entry this batch applied (their conflicts are logged) */
  readonly journaled: ReadonlySet<string>
  /** of those, the keys whose update did not land and whose base became the entry's */
  readonly rebased: ReadonlySet<string>
}

/**
 * Writes a batch in one transaction: inserts, compare-and-swap updates, the conflicts of the rows that were
 * written, and the push journal entries of the pushes that committed on Neon (`pushes`, see `PushJournal`):
 * each entry's receipt is claimed first; the update of a key whose entry was applied already (by a
 * recovery) is not written; an entry claimed now logs its conflicts (pass the conflicts of pushed keys in
 * their entries, not in `conflicts`), and where its key's update did not land, its base becomes the row's.
 * Keys missing from `inserted` and `updated` changed since they were read (or were inserted by someone
 * else, or their push was applied elsewhere) and must be merged again.
 */
export const writeWorkspace = (
  entity: Entity,
  inserts: ReadonlyArray<WorkspaceInsert>,
  updates: ReadonlyArray<WorkspaceUpdate>,
  conflicts: ReadonlyArray<ConflictEntry>,
  clean: ReadonlyArray<WorkspaceClean> = [],
  pushes: ReadonlyArray<PushJournalEntry> = []
): Effect.Effect<WorkspaceWritten, DatabaseError, WorkspaceDatabase> =>
  Effect.gen(function* () {
    if (inserts.length === 0 && updates.length === 0 && clean.length === 0 && pushes.length === 0) {
      return {
        inserted: new Set<string>(),
        updated: new Set<string>(),
        journaled: new Set(),
        rebased: new Set()
      }
    }
    const db = yield* WorkspaceDatabase
    const pushIds = pushes.map((p) => p.pushId)
    return yield* db.transaction(
      (tx, begun) =>
        Effect.gen(function* () {
          // claimed with BEGIN, first, so that a recovery applying the same entries waits for this transaction,
          // or this one for it
          const claimed = claimedIds(begun)
          const applied = pushes.filter((p) => claimed.has(p.pushId))
          const appliedElsewhere = new Set(pushes.filter((p) => !claimed.has(p.pushId)).map((p) => p.key))
          const toUpdate =
            appliedElsewhere.size === 0 ? updates : updates.filter((u) => !appliedElsewhere.has(u.key))
          const inserted = new Set<string>()
          if (inserts.length > 0) {
            const params = columnsOfRows(
              entity.fields.length + 3,
              inserts.map((i) => [
                ...entity.fields.map((f) => wireValue(f, i.record[f.name])),
                i.hash,
                i.updatedAt,
                i.sourceXmin
              ])
            )
            for (const r of yield* tx.query(insertSql(entity), params)) inserted.add(String(r.key))
          }
          const updated = new Set<string>()
          if (toUpdate.length > 0) {
            const fields = updatableFields(entity)
            const params = columnsOfRows(
              11 + fields.length,
              toUpdate.map((u) => {
                let mask = 0
                const values = fields.map((f, i) => {
                  if (!(f.name in u.set)) return null
                  mask += 2 ** i
                  return wireValue(f, u.set[f.name])
                })
                return [
                  u.key,
                  u.expectedHash,
                  u.expectedUpdatedAt,
                  mask,
                  u.base === null ? null : recordJson(entity, u.base),
                  u.hash,
                  u.updatedAt,
                  u.pulled,
                  u.pushed,
                  u.syncState,
                  u.sourceXmin,
                  ...values
                ]
              })
            )
            for (const r of yield* tx.query(updateSql(entity), params)) updated.add(String(r.key))
          }
          if (clean.length > 0) {
            yield* tx.query(
              cleanSql(entity),
              columnsOfRows(
                3,
                clean.map((c) => [c.key, c.expectedUpdatedAt, c.sourceXmin])
              )
            )
          }
          const rebased = yield* rebaseRows(
            tx,
            entity,
            applied.filter((p) => !updated.has(p.key))
          )
          yield* logConflictRecords(tx, [
            ...conflictRecords(
              entity,
              conflicts.filter((c) => updated.has(c.key) || inserted.has(c.key))
            ),
            ...applied.flatMap((p) => p.conflicts)
          ])
          return { inserted, updated, journaled: new Set(applied.map((p) => p.key)), rebased }
        }),
      pushIds.length === 0 ? asEngineWrite : { begin: `${engineWriteSetting}; ${claimReceiptsSql(pushIds)}` }
    )
  })

/** Rows gone from Neon: those promoted (in the master table) and those removed (deleted otherwise). */
export interface GoneRows {
  readonly promoted: ReadonlyArray<string>
  readonly removed: ReadonlyArray<string>
}

/** The statement that marks `gone` (keys written as array literals) and returns how many it marked. */
const markGoneSql = (entity: Entity, gone: GoneRows): string => {
  const table = qualified(entity.workspaceTable)
  const keysIn = (keys: ReadonlyArray<string>) =>
    `${entity.key} = ANY(${stringLiteral(arrayLiteral(keys))}::text[])`
  const marks = [
    ...(gone.promoted.length === 0
      ? []
      : [
          `UPDATE ${table} SET sync_state = 'promoted', promoted_at = now() AT TIME ZONE 'UTC'
            WHERE ${keysIn(gone.promoted)} AND sync_state <> 'promoted' RETURNING 1`
        ]),
    ...(gone.removed.length === 0
      ? []
      : [
          `UPDATE ${table} SET sync_state = 'removed', removed_at = now() AT TIME ZONE 'UTC'
            WHERE ${keysIn(gone.removed)} AND sync_state = 'active' RETURNING 1`
        ])
  ]
  return `WITH ${marks.map((m, i) => `m${i} AS (${m})`).join(", ")}
    SELECT ${marks.map((_, i) => `(SELECT count(*) FROM m${i})`).join(" + ")} AS marked`
}

const markedCount = (rows: ReadonlyArray<Row>): number =>
  rows.reduce((n, r) => n + (r.marked === undefined ? 0 : Number(r.marked)), 0)

/**
 * Marks workspace rows whose Neon row is gone: promoted when it reached the master table, else removed.
 *
 * One message, one round trip: the setting and the updates go as one text, which the server runs as one
 * transaction of its own (a text of several statements without `BEGIN` commits them together or not at
 * all).
 */
export const markGone = (
  entity: Entity,
  promoted: ReadonlyArray<string>,
  removed: ReadonlyArray<string>
): Effect.Effect<number, DatabaseError, WorkspaceDatabase> =>
  Effect.gen(function* () {
    if (promoted.length === 0 && removed.length === 0) return 0
    const db = yield* WorkspaceDatabase
    return markedCount(
      yield* db.query(`${engineWriteSetting}; ${markGoneSql(entity, { promoted, removed })}`)
    )
  })

/**
 * Marks several sets of gone rows, each in a transaction of its own committed before the next begins, all
 * sent as one message (one round trip in all). A failure stops at that set: the sets before it stay marked
 * (marking is idempotent: what is left is marked by a later backfill or syncd), the rest is not run, and the
 * connection, left in the failed transaction, is not reused.
 */
export const markGoneInTurn = (
  entity: Entity,
  sets: ReadonlyArray<GoneRows>
): Effect.Effect<number, DatabaseError, WorkspaceDatabase> =>
  Effect.gen(function* () {
    const statements = sets
      .filter((g) => g.promoted.length > 0 || g.removed.length > 0)
      .map((g) => `BEGIN; ${engineWriteSetting}; ${markGoneSql(entity, g)}; COMMIT;`)
    if (statements.length === 0) return 0
    const db = yield* WorkspaceDatabase
    return markedCount(yield* db.query(statements.join("\n")))
  })

/** The canonical JSON of a record, for logs. */
export const describeRecord = (record: SyncRecord): string => canonicalJson(record)
