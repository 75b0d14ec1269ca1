/**
 * How the master table is filled: its columns, read from the catalog, each with the invalid table's column
 * it takes (same name, or the sync record's other name for it), and whether the key alone is unique there.
 * A master table with more columns than this project creates works; one without the key is refused.
 */
import type { Entity } from "@enrich-sync/core"
import { qualified } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import { SourceDatabase } from "../../store/Database.ts"
import { DatabaseError } from "../../store/DatabaseError.ts"

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
