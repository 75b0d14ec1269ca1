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
import * as Result from "effect/Result"
import { type Database, SourceDatabase, WorkspaceDatabase } from "./Database.ts"
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

/** A side's differences (at least one). */
interface NotReady {
  readonly side: Side
  readonly problems: ReadonlyArray<string>
}

/**
 * What is wrong on the sides that are not ready: each side's differences, then the fix for each kind,
 * once: what is missing, `enrich-sync migrate` creates; a column of another type it leaves alone (it never
 * changes existing columns), so that one is for the user to alter.
 */
const notReadyMessage = (sides: ReadonlyArray<NotReady>): string => {
  const all = sides.flatMap((s) => s.problems)
  const retyped = all.some((p) => p.includes(", expected "))
  const missing = all.some((p) => !p.includes(", expected "))
  const fixes = [
    ...(missing ? ["run `enrich-sync migrate` to create what is missing"] : []),
    ...(retyped
      ? [
          "change the mistyped columns to the expected types (ALTER TABLE ... ALTER COLUMN ... TYPE ...): migrate never changes existing columns"
        ]
      : [])
  ]
  const named = sides.map(
    (s) => `${sideNames[s.side].label} is not ready for enrich-sync: ${s.problems.join("; ")}`
  )
  return `${named.join("; ")}; ${fixes.join("; then ")}`
}

const notReadyError = (sides: ReadonlyArray<NotReady>): DatabaseError =>
  new DatabaseError({ side: sides[0]!.side, reason: "Schema", message: notReadyMessage(sides) })

/** Fails with a `Schema` error naming every difference, and how to fix each kind, when a side is not ready. */
export const requireSchema = (db: Database): Effect.Effect<void, DatabaseError> =>
  Effect.flatMap(schemaProblems(db), (problems) =>
    problems.length === 0 ? Effect.void : Effect.fail(notReadyError([{ side: db.side, problems }]))
  )

/**
 * `requireSchema` of both sides at once, in one error naming all there is to fix: when neither side is
 * ready, the differences of both with each fix once (one `enrich-sync migrate` fixes what is missing);
 * when a side cannot be reached (or refuses the role), its error first, as its fix comes before any
 * migration, then the other side's.
 */
export const requireSchemas: Effect.Effect<void, DatabaseError, SourceDatabase | WorkspaceDatabase> =
  Effect.gen(function* () {
    const [source, workspace] = yield* Effect.all(
      [
        Effect.result(SourceDatabase.use(schemaProblems)),
        Effect.result(WorkspaceDatabase.use(schemaProblems))
      ],
      { concurrency: 2 }
    )
    const sides = [
      ["source", source],
      ["workspace", workspace]
    ] as const
    const failed = sides.flatMap(([, r]) => (Result.isFailure(r) ? [r.failure] : []))
    const notReady = sides.flatMap(([side, r]) =>
      Result.isSuccess(r) && r.success.length > 0 ? [{ side, problems: r.success }] : []
    )
    const first = failed[0]
    if (first === undefined) {
      if (notReady.length > 0) return yield* notReadyError(notReady)
      return
    }
    const rest = [...failed.slice(1).map((e) => e.message), ...notReady.map((n) => notReadyMessage([n]))]
    if (rest.length === 0) return yield* first
    return yield* new DatabaseError({
      side: first.side,
      reason: first.reason,
      message: [first.message, ...rest].join("; "),
      ...(first.code === undefined ? {} : { code: first.code }),
      ...(first.cause === undefined ? {} : { cause: first.cause })
    })
  })
