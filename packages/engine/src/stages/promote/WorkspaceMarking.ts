/**
 * The workspace side of a promotion: which keys still hold edits Neon has not received (they are not
 * promoted), and marking the rows whose Neon row was promoted `promoted` (kept, never deleted), in slices
 * chosen so that most of those updates stay on their page.
 *
 * Invariant: marking is idempotent; a failure between slices leaves only rows that a later backfill or
 * syncd marks.
 */
import type { Entity } from "@enrich-sync/core"
import { qualified, quoteIdent, workspaceHashFunction } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import { readByKey, WorkspaceDatabase } from "../../store/Database.ts"
import type { DatabaseError } from "../../store/DatabaseError.ts"
import { markGoneInTurn, mayDifferSql } from "../../store/WorkspaceStore.ts"

/** Active workspace rows among `keys` (what a real run would mark promoted). */
export const activeWorkspaceCount = (entity: Entity, keys: ReadonlyArray<string>) =>
  keys.length === 0
    ? Effect.succeed(0)
    : WorkspaceDatabase.use((db) =>
        db.query(
          `SELECT count(*)::bigint AS n FROM ${qualified(entity.workspaceTable)}
            WHERE ${quoteIdent(entity.key)} = ANY($1::text[]) AND sync_state <> 'promoted'`,
          [keys]
        )
      ).pipe(Effect.map(([row]) => Number(row?.n ?? 0)))

/**
 * The keys among `keys` whose workspace row holds edits Neon has not received, with the row's
 * `enrichment_status`: active rows whose projection differs from what both sides last agreed on
 * (`last_sync_hash`); edits still held back by push gating (not `complete` yet) count too. Promoting such a
 * key would leave those edits behind in a row marked promoted, which syncs no more. Only rows that can
 * differ are hashed (hashing is the costly part): a row is its own agreed base (`sync_base` NULL) and not
 * `sync_dirty` until a person edits it through the workspace trigger; an edit made with the trigger bypassed
 * leaves neither mark, and is not seen here.
 */
export const unpushedEdits = (
  entity: Entity,
  keys: ReadonlyArray<string>
): Effect.Effect<ReadonlyMap<string, string | null>, DatabaseError, WorkspaceDatabase> =>
  readByKey(
    WorkspaceDatabase,
    `SELECT t.${quoteIdent(entity.key)} AS key, t.enrichment_status AS status
       FROM ${qualified(entity.workspaceTable)} AS t
      WHERE t.${quoteIdent(entity.key)} = ANY($1::text[]) AND t.sync_state = 'active'
        AND ${mayDifferSql}
        AND ${workspaceHashFunction(entity)}(t) IS DISTINCT FROM t.last_sync_hash`,
    "key",
    keys,
    (r) => (r.status === null ? null : String(r.status))
  )

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
 * before the next slice reaches it (figures in `bench/README.md`). The slices go as one message: one round
 * trip for the batch.
 */
export const markPromoted = (
  entity: Entity,
  keys: ReadonlyArray<string>
): Effect.Effect<number, DatabaseError, WorkspaceDatabase> => {
  const slices = Math.max(1, Math.min(maxSlices, Math.floor(keys.length / minSliceRows)))
  return markGoneInTurn(
    entity,
    Array.from({ length: slices }, (_, j) => ({
      promoted: keys.filter((_, i) => i % slices === j),
      removed: []
    }))
  )
}
