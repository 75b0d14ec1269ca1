/**
 * Checks that a side holds the tables, columns and functions this project needs, with the expected types,
 * before any command reads or writes. Every difference is named, so the user knows what to fix.
 */
import type { Column, Side, TableName } from "@enrich-sync/core"
import {
  conflictColumns,
  conflictTableName,
  entities,
  pushJournalColumns,
  pushJournalTableName,
  pushReceiptColumns,
  pushReceiptTableName,
  qualified,
  sourceHashFunction,
  workspaceHashFunction
} from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import type { Database } from "./Database.ts"
import { DatabaseError, sideNames } from "./DatabaseError.ts"

interface Expected {
  readonly table: TableName
  readonly columns: ReadonlyArray<Column>
}

const expectedTables = (side: Side): ReadonlyArray<Expected> =>
  side === "source"
    ? [
        ...entities.flatMap((e) => [
          { table: e.sourceTable, columns: e.sourceColumns },
          // a master table may have many more columns: only its key is required
          { table: e.masterTable, columns: e.masterColumns.filter((c) => c.name === e.key) }
        ]),
        // every push writes its journal entry (`PushJournal`)
        { table: pushJournalTableName, columns: pushJournalColumns }
      ]
    : [
        ...entities.map((e) => ({ table: e.workspaceTable, columns: e.workspaceColumns })),
        // the conflict log, with its review columns (`enrich-sync conflicts`, `status`)
        { table: conflictTableName, columns: conflictColumns },
        { table: pushReceiptTableName, columns: pushReceiptColumns }
      ]

/** Lists what differs from what this project expects on a side (empty when all is well). */
export const schemaProblems = (db: Database): Effect.Effect<ReadonlyArray<string>, DatabaseError> =>
  Effect.gen(function* () {
    const problems: Array<string> = []
    for (const { table, columns } of expectedTables(db.side)) {
      const rows = yield* db.query(
        `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
           FROM pg_attribute a
          WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped`,
        [qualified(table)]
      )
      if (rows.length === 0) {
        problems.push(`table ${qualified(table)} is missing`)
        continue
      }
      const actual = new Map(rows.map((r) => [String(r.name), String(r.type)]))
      for (const column of columns) {
        const type = actual.get(column.name)
        if (type === undefined)
          problems.push(`${qualified(table)}.${column.name} is missing (expected ${column.type})`)
        else if (type !== column.type)
          problems.push(`${qualified(table)}.${column.name} is ${type}, expected ${column.type}`)
      }
    }
    const functions = entities.map((e) =>
      db.side === "source" ? sourceHashFunction(e) : workspaceHashFunction(e)
    )
    const [found] = yield* db.query(
      `SELECT array_agg(f) FILTER (WHERE to_regproc(f) IS NULL) AS missing FROM unnest($1::text[]) AS f`,
      [functions]
    )
    for (const f of (found?.missing as Array<string> | null) ?? []) problems.push(`function ${f} is missing`)
    return problems
  })

/**
 * Fails with a `Schema` error naming every difference when a side is not ready, with the fix for each
 * kind: what is missing, `enrich-sync migrate` creates; a column of another type it leaves alone (it never
 * changes existing columns), so that one is for the user to alter.
 */
export const requireSchema = (db: Database): Effect.Effect<void, DatabaseError> =>
  Effect.flatMap(schemaProblems(db), (problems) => {
    if (problems.length === 0) return Effect.void
    const retyped = problems.filter((p) => p.includes(", expected "))
    const missing = problems.filter((p) => !retyped.includes(p))
    const fixes = [
      ...(missing.length > 0 ? ["run `enrich-sync migrate` to create what is missing"] : []),
      ...(retyped.length > 0
        ? [
            "change the mistyped columns to the expected types (ALTER TABLE ... ALTER COLUMN ... TYPE ...): migrate never changes existing columns"
          ]
        : [])
    ]
    return Effect.fail(
      new DatabaseError({
        side: db.side,
        reason: "Schema",
        message: `${sideNames[db.side].label} is not ready for enrich-sync: ${problems.join("; ")}; ${fixes.join("; then ")}`
      })
    )
  })
