/**
 * Timestamps as the sync record holds them: UTC ISO-8601 with microseconds (`2025-11-07T16:32:09.123456Z`),
 * read from whatever Postgres or a caller hands over, compared by instant, and written straight from the
 * bytes of COPY text. Every date rule of the project (which days and times are real, how Postgres prints a
 * timestamp) lives here once.
 *
 * Invariant: the fast paths (text as Postgres prints it, the exact canonical form, COPY bytes) give exactly
 * what the general path gives; anything they cannot prove plain goes the general way.
 */
import { trimText } from "./TrimText.ts"

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

/** The number written by the two ASCII digits at `at` of a text. */
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
 * Whether the fields name a real day and time of day: the general path would carry an overflowing field
 * (`02-30`, `24:00`, `:60`) into the next one, the fast paths must not.
 */
const isRealDayAndTime = (
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number
): boolean =>
  month >= 1 &&
  month <= 12 &&
  day >= 1 &&
  day <= daysInMonth(year, month) &&
  hour <= 23 &&
  minute <= 59 &&
  second <= 59

/** Whether a text laid out as `YYYY-MM-DD?HH:MM:SS...` names a real day and time of day. */
const isRealDateTime = (text: string): boolean =>
  isRealDayAndTime(
    twoDigits(text, 0) * 100 + twoDigits(text, 2),
    twoDigits(text, 5),
    twoDigits(text, 8),
    twoDigits(text, 11),
    twoDigits(text, 14),
    twoDigits(text, 17)
  )

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

/** The number written by the two ASCII digits at `at` of bytes. */
const twoDigitBytes = (bytes: Uint8Array, at: number): number => (bytes[at]! - 48) * 10 + bytes[at + 1]! - 48

const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39

/**
 * Writes the canonical form (`2025-10-24T09:15:12.000000Z`) of a timestamp as Postgres prints it
 * (`2025-10-24 09:15:12`, with up to six fraction digits), found at `[start, end)` of `bytes`, into `target`
 * at `at`, and returns the end; -1 for any other text, or one naming no real day and time, which
 * `canonicalTimestamp` then reads.
 */
export const writeCanonicalTimestamp = (
  bytes: Uint8Array,
  start: number,
  end: number,
  target: Uint8Array,
  at: number
): number => {
  const s = start
  const n = end - s
  if (n !== 19 && (n < 21 || n > 26)) return -1
  for (let i = 0; i < 19; i++) {
    const b = bytes[s + i]!
    const ok =
      i === 4 || i === 7
        ? b === 0x2d
        : i === 10
          ? b === 0x20 || b === 0x54
          : i === 13 || i === 16
            ? b === 0x3a
            : isDigit(b)
    if (!ok) return -1
  }
  if (n > 19) {
    if (bytes[s + 19] !== 0x2e) return -1
    for (let i = s + 20; i < end; i++) if (!isDigit(bytes[i]!)) return -1
  }
  if (
    !isRealDayAndTime(
      twoDigitBytes(bytes, s) * 100 + twoDigitBytes(bytes, s + 2),
      twoDigitBytes(bytes, s + 5),
      twoDigitBytes(bytes, s + 8),
      twoDigitBytes(bytes, s + 11),
      twoDigitBytes(bytes, s + 14),
      twoDigitBytes(bytes, s + 17)
    )
  )
    return -1
  for (let i = 0; i < 10; i++) target[at++] = bytes[s + i]!
  target[at++] = 0x54 // T
  for (let i = 11; i < 19; i++) target[at++] = bytes[s + i]!
  target[at++] = 0x2e // .
  for (let i = 20; i < n; i++) target[at++] = bytes[s + i]!
  for (let i = Math.max(n - 20, 0); i < 6; i++) target[at++] = 0x30
  target[at++] = 0x5a // Z
  return at
}
