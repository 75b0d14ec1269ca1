/**
 * The DDL of the tables this project creates or extends, on either side, from a table's `Column` list: the
 * columns of the table's definition (the seed's) go into `CREATE TABLE IF NOT EXISTS`, the ones this project
 * adds (`added`) into `ADD COLUMN IF NOT EXISTS`, so a table that already exists, with rows, only gains
 * what it lacks.
 *
 * The text is part of each migration's checksum: changing it changes the checksum of an applied migration.
 */
import type { Column, TableName } from "../Entity.ts"
import { qualified } from "../Entity.ts"

/** `CREATE TABLE IF NOT EXISTS` with the columns that are not `added`, one per line. */
export const createTableSql = (table: TableName, columns: ReadonlyArray<Column>): string =>
  `CREATE TABLE IF NOT EXISTS ${qualified(table)} (\n  ${columns
    .filter((c) => c.added !== true)
    .map((c) => `${c.name} ${c.definition}`)
    .join(",\n  ")}\n)`

/** One `ADD COLUMN IF NOT EXISTS` per `added` column that migration `version` adds (see `Column.since`). */
export const addColumnsSql = (
  table: TableName,
  columns: ReadonlyArray<Column>,
  version = 1
): ReadonlyArray<string> =>
  columns
    .filter((c) => c.added === true && (c.since ?? 1) === version)
    .map((c) => `ALTER TABLE ${qualified(table)} ADD COLUMN IF NOT EXISTS ${c.name} ${c.definition}`)
