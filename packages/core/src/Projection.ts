/**
 * Projection: a row of either side, read into the sync record both sides share.
 *
 * Normalises so that equal meaning gives equal records: strings are trimmed (`TrimText`), empty string and
 * NULL are the same (null), timestamps are canonical (`Timestamp`), a NULL or empty enrichment status is
 * `pending` (and its ASCII letters lower case), JSON is kept as `jsonb` holds it: its numbers exact, a
 * JSON `null` (`jsonNull`) apart from SQL NULL (`null`), see `Jsonb` (its canonical text sorts keys, see
 * `SyncHash`).
 *
 * Invariant: the SQL functions installed by the migrations (`sql/SyncHashSql.ts`) compute exactly the same
 * record (property-tested against real servers).
 */
import type { Entity, FieldKind } from "./Entity.ts"
import type { Json } from "./Jsonb.ts"
import { isRawJson, jsonNull, parseJsonb } from "./Jsonb.ts"
import { canonicalTimestamp } from "./Timestamp.ts"
import { trimText } from "./TrimText.ts"

/** A value of the sync record: null is SQL NULL (a JSON field's JSON `null` is `jsonNull`). */
export type SyncValue = Json

/** A sync record: field name to normalised value, every field of the entity present. */
export type SyncRecord = { readonly [field: string]: SyncValue }

/** A row as the driver returns it (column name to value). */
export type Row = { readonly [column: string]: unknown }

const normaliseText = (value: unknown): string | null => {
  if (value === null || value === undefined) return null
  const text = typeof value === "string" ? value : String(value)
  const trimmed = trimText(text)
  return trimmed === "" ? null : trimmed
}

const normaliseInteger = (value: unknown): number | null => {
  if (value === null || value === undefined || value === "") return null
  const n = Number(value)
  if (!Number.isSafeInteger(n)) throw new Error(`not a safe integer: ${String(value)}`)
  return n
}

/**
 * Lower-cases ASCII letters only: Unicode case mapping differs between JavaScript and Postgres (and between
 * Postgres locales), and statuses are ASCII words anyway.
 */
export const asciiLowerCase = (text: string): string =>
  asciiUpperCase.test(text) ? text.replace(/[A-Z]+/g, (s) => s.toLowerCase()) : text

const asciiUpperCase = /[A-Z]/

const normaliseStatus = (value: unknown): string => {
  const text = normaliseText(value)
  return text === null ? "pending" : asciiLowerCase(text)
}

const normaliseJson = (value: unknown): Json => {
  if (value === undefined || value === null) return null
  return value as Json
}

/** Normalises one value of a field of the given kind. */
export const normalise = (kind: FieldKind, value: unknown): SyncValue => {
  switch (kind) {
    case "text":
      return normaliseText(value)
    case "integer":
      return normaliseInteger(value)
    case "timestamp":
      return canonicalTimestamp(value)
    case "json":
      return normaliseJson(value)
    case "status":
      return normaliseStatus(value)
  }
}

const emptyRecords = new WeakMap<Entity, SyncRecord>()

/**
 * A new record of `entity` with every field null, in the entity's order, to fill in. Records are built this
 * way because copying one of these is several times cheaper than adding the fields one by one to `{}`,
 * which V8 turns into a slow dictionary past a dozen fields.
 */
export const emptyRecord = (entity: Entity): { [field: string]: SyncValue } => {
  let empty = emptyRecords.get(entity)
  if (empty === undefined) {
    // not frozen: copies of a frozen object are made the slow way
    empty = Object.fromEntries(entity.fields.map((field) => [field.name, null]))
    emptyRecords.set(entity, empty)
  }
  return { ...empty }
}

const project = (entity: Entity, row: Row, column: "source" | "workspace"): SyncRecord => {
  const record = emptyRecord(entity)
  const fields = entity.fields
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!
    record[field.name] = normalise(field.kind, row[field[column]])
  }
  return record
}

/** Projects a row of the Neon invalid table. */
export const projectSource = (entity: Entity, row: Row): SyncRecord => project(entity, row, "source")

/** Projects a row of the workspace table. */
export const projectWorkspace = (entity: Entity, row: Row): SyncRecord => project(entity, row, "workspace")

/**
 * Re-normalises a stored projection (a `sync_base` read back from jsonb, see `canonicalRecordJson`),
 * keeping only the entity's fields: a field left out is SQL NULL, and a JSON field stored as `null` holds
 * JSON `null`.
 */
export const projectBase = (entity: Entity, stored: unknown): SyncRecord | null => {
  if (typeof stored !== "object" || stored === null || Array.isArray(stored) || isRawJson(stored)) return null
  const row = stored as Row
  const record = emptyRecord(entity)
  for (const field of entity.fields) {
    const value = row[field.name]
    record[field.name] = field.kind === "json" && value === null ? jsonNull : normalise(field.kind, value)
  }
  return record
}

/**
 * How values must arrive from Postgres for the projection, by type OID: timestamps as the text Postgres
 * prints (never as a `Date`, which would lose the microseconds and guess a zone), `int8` as a number (ids
 * stay far below 2^53; larger values are a defect, not a silent rounding), and `json` / `jsonb` parsed with
 * every number exact and a JSON `null` as `jsonNull` (`parseJsonb`; never through a float).
 */
export const wireParsers: { readonly [oid: number]: (text: string) => unknown } = {
  20: (text) => normaliseInteger(text),
  114: parseJsonb,
  1082: (text) => text,
  1114: (text) => text,
  1184: (text) => text,
  3802: parseJsonb
}
