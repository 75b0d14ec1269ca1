/**
 * Projection: a row of either side, read into the sync record both sides share.
 *
 * Normalises so that equal meaning gives equal records: strings are trimmed (ECMAScript whitespace), empty
 * string and NULL are the same (null), timestamps are UTC ISO-8601 with microseconds, a NULL or empty
 * enrichment status is `pending` (and its ASCII letters lower case), JSON is kept as parsed (its canonical text sorts keys, see `SyncHash`).
 * The SQL functions installed by the migrations (`sql/SyncHashSql.ts`) compute exactly the same thing.
 *
 * Every row goes through here, so the common cases have fast paths, each guarded by a strict check and
 * giving exactly what the general path gives (property tests hold them equal): timestamps as Postgres
 * prints them are rewritten as text, and canonical timestamps are compared as text.
 */
import type { Entity, FieldKind } from "./Entity.ts"

/** A JSON value. */
export type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }

/** A value of the sync record. */
export type SyncValue = Json

/** A sync record: field name to normalised value, every field of the entity present. */
export type SyncRecord = { readonly [field: string]: SyncValue }

/** A row as the driver returns it (column name to value). */
export type Row = { readonly [column: string]: unknown }

/**
 * The characters `String.prototype.trim` removes (ECMAScript WhiteSpace and LineTerminator), listed so the
 * SQL projection can use the same set.
 */
export const trimmedCharacters: ReadonlyArray<number> = [
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006,
  0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff
]

const trimClass = trimmedCharacters.map((c) => `\\u{${c.toString(16)}}`).join("")
const trimPattern = new RegExp(`^[${trimClass}]+|[${trimClass}]+$`, "gu")

const trimmedSet = new Set(trimmedCharacters)

// every trimmed character is at most U+0020 or at least U+00A0: most characters are decided without the set
const isTrimmed = (code: number): boolean => (code <= 0x20 || code >= 0xa0) && trimmedSet.has(code)

/** Trims the characters of `trimmedCharacters` from both ends. */
export const trimText = (value: string): string => {
  if (value === "") return value
  // most values need nothing: look at both ends before running the pattern
  if (!isTrimmed(value.charCodeAt(0)) && !isTrimmed(value.charCodeAt(value.length - 1))) return value
  return value.replace(trimPattern, "")
}

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

const pad = (n: number, width: number): string => String(n).padStart(width, "0")

const timestampPattern =
  /^(-?\d{4,})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)?$/

/**
 * How Postgres prints a `timestamp` in UTC (`2025-10-24 09:15:12`, `2025-10-24 09:15:12.123456`), and the
 * canonical form itself (`T`, six digits, `Z`): the text most timestamps arrive as, which
 * `canonicalTimestamp` rewrites with string operations alone (no zone to apply, nothing to round).
 */
const plainTimestampPattern = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z?$/

/** The canonical form exactly: a 4-digit year and six fraction digits. */
const canonicalPattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/

/** The number written by the two ASCII digits at `at`. */
const twoDigits = (text: string, at: number): number =>
  (text.charCodeAt(at) - 48) * 10 + text.charCodeAt(at + 1) - 48

const daysInMonth = (year: number, month: number): number =>
  month === 2
    ? year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
      ? 29
      : 28
    : month === 4 || month === 6 || month === 9 || month === 11
      ? 30
      : 31

/**
 * Whether a text laid out as `YYYY-MM-DD?HH:MM:SS...` names a real day and time of day: the general path
 * would carry an overflowing field (`02-30`, `24:00`, `:60`) into the next one, the fast paths must not.
 */
const isRealDateTime = (text: string): boolean => {
  const month = twoDigits(text, 5)
  const day = twoDigits(text, 8)
  return (
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(twoDigits(text, 0) * 100 + twoDigits(text, 2), month) &&
    twoDigits(text, 11) <= 23 &&
    twoDigits(text, 14) <= 59 &&
    twoDigits(text, 17) <= 59
  )
}

/**
 * Whether a value is a canonical timestamp in the exact canonical form with real fields: such timestamps
 * order as their text does (fixed-width fields, most significant first).
 */
const isExactCanonical = (value: string | null | undefined): value is string =>
  value !== null &&
  value !== undefined &&
  value.length === 27 &&
  canonicalPattern.test(value) &&
  isRealDateTime(value)

/** `canonicalTimestamp` of a text matching `plainTimestampPattern` with real fields. */
const canonicalOfPlain = (text: string): string => {
  if (text.length === 27 && text.charCodeAt(10) === 0x54) return text // already canonical (`T`, 6 digits, `Z`)
  const end = text.charCodeAt(text.length - 1) === 0x5a ? text.length - 1 : text.length
  const fraction = text.slice(20, end) // "" without a fraction
  return `${text.slice(0, 10)}T${text.slice(11, 19)}.${fraction.padEnd(6, "0")}Z`
}

/**
 * A timestamp as UTC ISO-8601 with microseconds. Accepts a `Date`, or text as Postgres prints `timestamp`
 * and `timestamptz` values (a missing zone means UTC), or ISO-8601. `infinity` and `-infinity` stay as they
 * are. Throws on text that is not a timestamp.
 */
export const canonicalTimestamp = (value: unknown): string | null => {
  if (value === null || value === undefined) return null
  if (typeof value === "string" && plainTimestampPattern.test(value) && isRealDateTime(value))
    return canonicalOfPlain(value)
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new Error("invalid Date")
    return `${value.toISOString().slice(0, -1)}000Z`
  }
  const text = trimText(String(value))
  if (text === "") return null
  if (text === "infinity" || text === "-infinity") return text
  const m = timestampPattern.exec(text)
  if (m === null) throw new Error(`not a timestamp: ${text}`)
  const [, y, mo, d, h = "0", mi = "0", s = "0", fraction = "", zone] = m
  let micros = Number((fraction + "000000").slice(0, 6))
  if (fraction.length > 6 && Number(fraction[6]) >= 5) micros += 1
  let offsetSeconds = 0
  if (zone !== undefined && zone !== "Z" && zone !== "z") {
    const sign = zone.startsWith("-") ? -1 : 1
    const digits = zone.slice(1).replaceAll(":", "")
    offsetSeconds =
      sign *
      (Number(digits.slice(0, 2)) * 3600 +
        Number(digits.slice(2, 4) || "0") * 60 +
        Number(digits.slice(4, 6) || "0"))
  }
  const date = new Date(0)
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d))
  date.setUTCHours(Number(h), Number(mi), Number(s) - offsetSeconds, 0)
  let ms = date.getTime()
  if (micros >= 1_000_000) {
    ms += 1000
    micros -= 1_000_000
  }
  const utc = new Date(ms)
  const year = utc.getUTCFullYear()
  return (
    `${year < 0 ? "-" + pad(-year, 4) : pad(year, 4)}-${pad(utc.getUTCMonth() + 1, 2)}-${pad(utc.getUTCDate(), 2)}` +
    `T${pad(utc.getUTCHours(), 2)}:${pad(utc.getUTCMinutes(), 2)}:${pad(utc.getUTCSeconds(), 2)}.${pad(micros, 6)}Z`
  )
}

/** Microseconds since the epoch of a canonical timestamp (`-infinity`/`infinity` map to the extremes). */
export const timestampMicros = (canonical: string | null | undefined): bigint | null => {
  if (canonical === null || canonical === undefined) return null
  if (canonical === "infinity") return 2n ** 62n
  if (canonical === "-infinity") return -(2n ** 62n)
  if (isExactCanonical(canonical) && !canonical.startsWith("00")) {
    // the fields read as numbers rather than parsed again (Date.UTC would read years 0-99 as 1900-1999)
    const second = Date.UTC(
      twoDigits(canonical, 0) * 100 + twoDigits(canonical, 2),
      twoDigits(canonical, 5) - 1,
      twoDigits(canonical, 8),
      twoDigits(canonical, 11),
      twoDigits(canonical, 14),
      twoDigits(canonical, 17)
    )
    return BigInt(second) * 1000n + BigInt(Number(canonical.slice(20, 26)))
  }
  const ms = Date.parse(canonical.slice(0, 23) + "Z")
  if (Number.isNaN(ms)) throw new Error(`not a canonical timestamp: ${canonical}`)
  const micros = BigInt(canonical.slice(23, 26))
  return BigInt(ms) * 1000n + micros
}

/**
 * Orders two canonical timestamps by instant, null before any: the sign of comparing their
 * `timestampMicros`, and throws where that throws. The merge compares edit times of every row with it, so
 * timestamps in the exact canonical form are compared as text, without parsing.
 */
export const compareTimestamps = (a: string | null | undefined, b: string | null | undefined): number => {
  const aPlain = a === null || a === undefined || isExactCanonical(a)
  const bPlain = b === null || b === undefined || isExactCanonical(b)
  if (aPlain && bPlain) {
    if (a === null || a === undefined) return b === null || b === undefined ? 0 : -1
    if (b === null || b === undefined) return 1
    return a < b ? -1 : a > b ? 1 : 0
  }
  const ma = timestampMicros(a)
  const mb = timestampMicros(b)
  if (ma === null || mb === null) return ma === mb ? 0 : ma === null ? -1 : 1
  return ma < mb ? -1 : ma > mb ? 1 : 0
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

const project = (entity: Entity, row: Row, column: "source" | "workspace" | "name"): SyncRecord => {
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

/** Re-normalises a stored projection (a `sync_base` read back from jsonb), keeping only the entity's fields. */
export const projectBase = (entity: Entity, stored: unknown): SyncRecord | null => {
  if (stored === null || stored === undefined || typeof stored !== "object" || Array.isArray(stored))
    return null
  return project(entity, stored as Row, "name")
}

/**
 * How values must arrive from Postgres for the projection, by type OID: timestamps as the text Postgres
 * prints (never as a `Date`, which would lose the microseconds and guess a zone) and `int8` as a number
 * (ids stay far below 2^53; larger values are a defect, not a silent rounding).
 */
export const wireParsers: { readonly [oid: number]: (text: string) => unknown } = {
  20: (text) => normaliseInteger(text),
  1082: (text) => text,
  1114: (text) => text,
  1184: (text) => text
}
