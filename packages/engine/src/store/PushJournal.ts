/**
 * The push journal: what a push decided, kept on Neon (`enrich_sync.push_journal`, outside the publication)
 * from the push's own transaction until the workspace holds it; and its receipts in the workspace
 * (`enrich_sync.push_receipts`), which say which entries the workspace already holds.
 *
 * A push writes Neon, then the workspace, and the two share no transaction. So the push's Neon transaction
 * also writes one entry per pushed key: the workspace row's `last_sync_hash` as the push's merge read it,
 * the base the row takes if its own write does not land, and every conflict the merge resolved. That base
 * is the merge's new base, except that the fields the workspace write would have set keep the values the row
 * held when read: the next merge then sees Neon's side of those fields as the edit it still has to bring
 * in, and sees the pushed values as agreed. An entry is applied in one workspace transaction, by the write
 * that follows the push or by a later recovery (`PushJournalApply`): it claims the entry's receipt and,
 * only when the receipt is new, either the row's own write lands (with the merge's base) or the row's base
 * becomes the entry's, its field values untouched (a person's newer edit stays, and merges against what
 * both sides held after the push); the entry's conflicts are logged with it. Then the entry is deleted on
 * Neon; its receipt is deleted a day later (`sweepReceipts`).
 *
 * Invariants: an entry is applied at most once (its receipt is claimed in the transaction that applies it;
 * a concurrent claim waits for that transaction, then finds the receipt, and a late one finds it too: a
 * receipt outlives its entry by a day); a row's base becomes an entry's only while no write of the engine
 * has changed the row since the push's merge read it (its `last_sync_hash` is still the one read; a
 * person's edit does not change it).
 */
import type { Entity } from "@enrich-sync/core"
import { currentXidSql, qualified, workspaceHashFunction } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import type { ConflictRecord } from "./ConflictLog.ts"
import type { Row, Session } from "./Database.ts"
import { SourceDatabase, WorkspaceDatabase } from "./Database.ts"
import type { DatabaseError } from "./DatabaseError.ts"
import { arrayLiteral, stringLiteral } from "./RecordSet.ts"

/** The journal on Neon. */
const journalTable = "enrich_sync.push_journal"

/** The receipts in the workspace. */
const receiptTable = "enrich_sync.push_receipts"

/** What one push decided for one key, until the workspace holds it. */
export interface PushJournalEntry {
  /** a random UUID: the entry's id, and its receipt's */
  readonly pushId: string
  readonly key: string
  /** the workspace row's `last_sync_hash` when the push's merge read it */
  readonly priorHash: string | null
  /** the base the row takes when its own write does not land: the canonical record JSON (`recordJson`) */
  readonly base: string
  /** its hash, the row's `last_sync_hash` then */
  readonly baseHash: string
  /** every conflict of the push's merge, as rows of the conflict log */
  readonly conflicts: ReadonlyArray<ConflictRecord>
}

/** The record-set payload of entries (`journalInsertSql` reads it). */
export const journalPayload = (entries: ReadonlyArray<PushJournalEntry>): string =>
  JSON.stringify(
    entries.map((e) => ({
      push_id: e.pushId,
      key: e.key,
      prior_hash: e.priorHash,
      base: e.base,
      base_hash: e.baseHash,
      conflicts: e.conflicts
    }))
  )

/**
 * A data-modifying `WITH` member that journals the entries in parameter `$payload` (see `journalPayload`)
 * of entity `$entity` whose key the member `pushed` returns: written by the push's own statement, so an entry
 * exists exactly when its push committed.
 */
export const journalInsertSql = (payload: string, entity: string): string =>
  `INSERT INTO ${journalTable} (push_id, entity, record_key, prior_hash, base, base_hash, conflicts)
   SELECT j.push_id, ${entity}, j.key, j.prior_hash, j.base::jsonb, j.base_hash, j.conflicts
     FROM jsonb_to_recordset(${payload}::jsonb)
          AS j(push_id uuid, key text, prior_hash text, base text, base_hash text, conflicts jsonb)
     JOIN pushed ON pushed.key = j.key`

/** An SQL condition: the journal holds an entry of `entity` for the key `keySql` (an index probe). */
export const journaledSql = (entity: Entity, keySql: string): string =>
  `EXISTS (SELECT 1 FROM ${journalTable} AS j WHERE j.entity = '${entity.name}' AND j.record_key = ${keySql})`

/**
 * The journal entries of `entity`, of the given keys (all of them with null), oldest push first (a key has
 * more than one only when pushes of several processes raced).
 */
export const readJournal = (
  entity: Entity,
  keys: ReadonlyArray<string> | null
): Effect.Effect<ReadonlyArray<PushJournalEntry>, DatabaseError, SourceDatabase> =>
  Effect.gen(function* () {
    if (keys !== null && keys.length === 0) return []
    const db = yield* SourceDatabase
    const rows = yield* db.query(
      `SELECT push_id::text AS push_id, record_key, prior_hash, base::text AS base, base_hash, conflicts
         FROM ${journalTable}
        WHERE entity = $1 AND ($2::text[] IS NULL OR record_key = ANY($2::text[]))
        ORDER BY seq`,
      [entity.name, keys]
    )
    return rows.map((r) => ({
      pushId: String(r.push_id),
      key: String(r.record_key),
      priorHash: r.prior_hash === null ? null : String(r.prior_hash),
      base: String(r.base),
      baseHash: String(r.base_hash),
      conflicts: r.conflicts as ReadonlyArray<ConflictRecord>
    }))
  })

/** The ids of every entry the journal holds, of any entity. */
export const journalIds = (): Effect.Effect<ReadonlyArray<string>, DatabaseError, SourceDatabase> =>
  Effect.map(
    SourceDatabase.use((db) => db.query(`SELECT push_id::text AS push_id FROM ${journalTable}`)),
    (rows) => rows.map((r) => String(r.push_id))
  )

/**
 * Deletes journal entries (the workspace holds them, their receipts say so); returns the ids of the entries
 * left, of any entity (`sweepReceipts` keeps their receipts).
 */
export const deleteJournal = (
  pushIds: ReadonlyArray<string>
): Effect.Effect<ReadonlyArray<string>, DatabaseError, SourceDatabase> =>
  Effect.map(
    SourceDatabase.use((db) =>
      db.query(
        `WITH deleted AS (DELETE FROM ${journalTable} WHERE push_id = ANY($1::uuid[]))
         SELECT push_id::text AS push_id FROM ${journalTable} WHERE push_id <> ALL($1::uuid[])`,
        [arrayLiteral(pushIds)]
      )
    ),
    (rows) => rows.map((r) => String(r.push_id))
  )

/**
 * Claims the receipts of entries in the session's transaction; returns the ids claimed now (the others
 * were applied already). A receipt another transaction is claiming makes this wait until it ends.
 */
export const claimReceipts = (
  tx: Session,
  pushIds: ReadonlyArray<string>
): Effect.Effect<ReadonlySet<string>, DatabaseError> =>
  pushIds.length === 0
    ? Effect.succeed(new Set<string>())
    : Effect.map(tx.query(claimReceiptsSql(pushIds)), claimedIds)

/**
 * The statement that claims the receipts of `pushIds` (no parameters: it can go with a transaction's
 * `BEGIN`, see `TransactionOptions.begin`); `claimedIds` reads the ids claimed now from the rows.
 */
export const claimReceiptsSql = (pushIds: ReadonlyArray<string>): string =>
  `INSERT INTO ${receiptTable} (push_id) SELECT unnest(${stringLiteral(arrayLiteral(pushIds))}::uuid[])
     ON CONFLICT (push_id) DO NOTHING RETURNING push_id::text AS claimed_push_id`

/** The ids claimed now, from rows that include those of `claimReceiptsSql`. */
export const claimedIds = (rows: ReadonlyArray<Row>): ReadonlySet<string> =>
  new Set(rows.flatMap((r) => (r.claimed_push_id === undefined ? [] : [String(r.claimed_push_id)])))

/**
 * Makes the entries' bases those of their rows, in the session's transaction (the engine's write, see
 * `applyingSetting`): only where the row's `last_sync_hash` is still the one the push read, and only the
 * bookkeeping (field values and `updated_at` stay). The row is marked dirty, so it is merged again, and
 * pushed. Where a key has several entries, the newest one's base is taken (its push read Neon after the
 * others). Returns the keys whose base changed.
 */
export const rebaseRows = (
  tx: Session,
  entity: Entity,
  entries: ReadonlyArray<PushJournalEntry>
): Effect.Effect<ReadonlySet<string>, DatabaseError> => {
  const newest = new Map<string, PushJournalEntry>()
  for (const e of entries) newest.set(e.key, e)
  if (newest.size === 0) return Effect.succeed(new Set<string>())
  const chosen = [...newest.values()]
  return Effect.map(
    tx.query(
      `UPDATE ${qualified(entity.workspaceTable)} AS t SET
          sync_base = CASE WHEN ${workspaceHashFunction(entity)}(t) = v.base_hash THEN NULL ELSE v.base::jsonb END,
          last_sync_hash = v.base_hash,
          sync_dirty = true,
          pushed_to_neon_at = now() AT TIME ZONE 'UTC',
          sync_xid = ${currentXidSql}
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS v(key, prior_hash, base, base_hash)
       WHERE t.${entity.key} = v.key AND t.last_sync_hash IS NOT DISTINCT FROM v.prior_hash
       RETURNING t.${entity.key} AS key`,
      [
        arrayLiteral(chosen.map((e) => e.key)),
        arrayLiteral(chosen.map((e) => e.priorHash)),
        arrayLiteral(chosen.map((e) => e.base)),
        arrayLiteral(chosen.map((e) => e.baseHash))
      ]
    ),
    (rows) => new Set(rows.map((r) => String(r.key)))
  )
}

/**
 * How long a receipt outlives its entry: whoever read an entry before it was deleted (a recovery racing the
 * push's own write, in another process) still finds its receipt when it claims it, however late, within
 * reason; so an entry is never applied twice.
 */
const receiptGrace = "1 day"

/**
 * Deletes the receipts older than a day whose entry is not in `journaled` (the ids the journal holds, read
 * after the entries applied were deleted: a receipt is claimed after its entry is written, so the entry of
 * an old receipt exists then or never again). Returns how many it deleted.
 */
export const sweepReceipts = (
  journaled: ReadonlyArray<string>
): Effect.Effect<number, DatabaseError, WorkspaceDatabase> =>
  Effect.map(
    WorkspaceDatabase.use((db) =>
      db.execute(
        `DELETE FROM ${receiptTable}
          WHERE created_at < now() - interval '${receiptGrace}' AND push_id <> ALL($1::uuid[])`,
        [arrayLiteral(journaled)]
      )
    ),
    (r) => r.rowCount
  )
