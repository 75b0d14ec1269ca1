/**
 * The rows of the tables one side holds for the sync (Neon's invalid tables, the workspace tables), for
 * the sync manifest's record counts. Read-only.
 */
import type { RecordCounts } from "@enrich-sync/core"
import { entities, qualified } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import type { Database } from "../store/Database.ts"
import type { DatabaseError } from "../store/DatabaseError.ts"

/** Counts the rows of each entity's table on `db`'s side, keyed by `schema.table`, in one statement. */
export const countRecords = (db: Database): Effect.Effect<RecordCounts, DatabaseError> => {
  const tables = entities.map((e) => qualified(db.side === "source" ? e.sourceTable : e.workspaceTable))
  return Effect.map(
    db.query(tables.map((t) => `SELECT '${t}' AS t, count(*)::bigint AS n FROM ${t}`).join(" UNION ALL ")),
    (rows) => Object.fromEntries(rows.map((r) => [String(r.t), Number(r.n)]))
  )
}
