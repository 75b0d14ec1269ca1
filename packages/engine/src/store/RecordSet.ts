/**
 * Batched statements pass their rows in one of two shapes, so a batch of any size is one statement:
 * - columnar: one array parameter per column, expanded with `unnest($1::text[], $2::bigint[], ...)`; the
 *   shape of the hot paths (the merge's workspace writes), since arrays of scalars are much cheaper to build
 *   and to parse than JSON objects;
 * - a jsonb array expanded with `jsonb_to_recordset` (rare writes: conflicts, pushes, logs).
 * This module writes the column definitions for the fields of a sync record, by kind, for both. A JSON
 * field's value travels as its canonical text (`wireValue`), cast to `jsonb` by the server: never through
 * a float, and a JSON `null` stays JSON `null` (`jsonb_to_recordset` would make SQL NULL of it).
 */
import type { SyncField, SyncValue } from "@enrich-sync/core"
import { canonicalJson, sqlTypeOf } from "@enrich-sync/core"

/**
 * `name type` definitions of fields in a `jsonb_to_recordset`, keyed by the field name prefixed with `f_`:
 * a JSON field's is `text` (its canonical text, see `wireValue`; read it with `recordSetValue`).
 */
export const fieldDefinitions = (fields: ReadonlyArray<SyncField>): string =>
  fields.map((f) => `f_${f.name} ${f.kind === "json" ? "text" : sqlTypeOf(f.kind)}`).join(", ")

/** The record-set key of a field. */
export const fieldKey = (field: SyncField): string => `f_${field.name}`

/** The SQL value of a field in a `jsonb_to_recordset` aliased `alias` (see `fieldDefinitions`). */
export const recordSetValue = (field: SyncField, alias: string): string =>
  field.kind === "json" ? `${alias}.${fieldKey(field)}::jsonb` : `${alias}.${fieldKey(field)}`

/** A column of a columnar record set: its name under the alias `v`, and the SQL type of its elements. */
export interface SetColumn {
  readonly name: string
  readonly type: string
}

/** The columns of the given fields (`f_<name>`, typed by kind). */
export const fieldColumns = (fields: ReadonlyArray<SyncField>): ReadonlyArray<SetColumn> =>
  fields.map((f) => ({ name: fieldKey(f), type: sqlTypeOf(f.kind) }))

/** `unnest($first::type[], ...) AS v(name, ...)`: one array parameter per column, from `$first` on. */
export const unnestSql = (columns: ReadonlyArray<SetColumn>, first = 1): string =>
  `unnest(${columns.map((c, i) => `$${first + i}::${c.type}[]`).join(", ")}) AS v(${columns
    .map((c) => c.name)
    .join(", ")})`

/**
 * A field's value as an element of its array parameter or a member of a record set: SQL NULL for null, a
 * JSON value as its canonical text (exact numbers; `jsonNull` as `null`, which the server casts to JSON null).
 */
export const wireValue = (field: SyncField, value: SyncValue | undefined): unknown =>
  value === null || value === undefined ? null : field.kind === "json" ? canonicalJson(value) : value

const needsEscape = /["\\]/
const escapable = /["\\]/g

/**
 * The Postgres array literal of a column of scalars (text, numbers, booleans, null), to pass as one text
 * parameter cast to the column's array type: what the driver would send for a JavaScript array, built in
 * one pass (the driver's own conversion looks at every element's type and escapes it with two regular
 * expressions, which costs more than the statement's execution for wide batches).
 */
export const arrayLiteral = (values: ReadonlyArray<unknown>): string => {
  let out = "{"
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (i > 0) out += ","
    if (v === null || v === undefined) out += "NULL"
    else if (typeof v === "string")
      out += needsEscape.test(v) ? `"${v.replace(escapable, "\\$&")}"` : `"${v}"`
    else if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") out += String(v)
    else throw new Error(`arrayLiteral: not a scalar: ${typeof v}`)
  }
  return `${out}}`
}

/**
 * An SQL string literal of any text, for statements sent without parameters (with `BEGIN`, see
 * `TransactionOptions`): the escape-string form, so it reads the same whatever
 * `standard_conforming_strings` is.
 */
export const stringLiteral = (text: string): string => `E'${text.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`
