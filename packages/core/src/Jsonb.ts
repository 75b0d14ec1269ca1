/**
 * JSON values as Postgres's `jsonb` holds them: read without a float round trip, and written back as the
 * text `jsonb` prints, which is their canonical form (`SyncHash`).
 *
 * `jsonb` keeps a number as a `numeric`: `2.50` stays `2.50`, a 23-digit integer stays whole, an exponent
 * is written out (`1e2` prints `100`, `1e-7` prints `0.0000001`), `-0` prints `0`. Here a number is a
 * JavaScript number exactly when the double loses nothing of it (its canonical text is the double's,
 * `numberText`: `1`, `1.5`, `0.0000001`), and otherwise a raw JSON value (`JSON.rawJSON`) holding its
 * canonical text (`2.50`, `12345678901234567890123`), which `JSON.stringify` writes as it is. A JSON `null`
 * that is a column's whole value is `jsonNull` (a raw `null`), so it stays apart from SQL NULL (`null`);
 * inside arrays and objects a JSON null is `null`.
 *
 * Invariant: `canonicalJson(parseJsonb(text)) === text` for every text `jsonb` prints, and every number's
 * canonical text is what `jsonb` prints for it (property-tested against real servers).
 */

/** A JSON value held as its JSON text (`JSON.rawJSON`): a number a double cannot hold, or `jsonNull`. */
export interface RawJson {
  readonly rawJSON: string
}

/** A JSON value: numbers as `Jsonb` describes them (a JavaScript number, or a raw one). */
export type Json =
  | null
  | boolean
  | number
  | string
  | RawJson
  | ReadonlyArray<Json>
  | { readonly [key: string]: Json }

/** What this module uses of `JSON` beyond the TypeScript library's types (Node 22 and later have it). */
const json = JSON as JSON & {
  rawJSON(text: string): RawJson
  isRawJSON(value: unknown): value is RawJson
  parse(
    text: string,
    reviver: (key: string, value: unknown, context: { readonly source?: string }) => unknown
  ): unknown
}

/** Whether a value is a raw JSON value (a number kept as its text, or `jsonNull`). */
export const isRawJson = (value: unknown): value is RawJson => json.isRawJSON(value)

/** A JSON `null` that is a column's whole value: not SQL NULL (which is `null`). */
export const jsonNull: RawJson = json.rawJSON("null")

/** Most digits before the decimal point, and after it, that a `numeric` holds (PostgreSQL 14 to 18). */
const maxIntegerDigits = 131072
const maxScale = 16383

const numberToken = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/

const outOfRange = (token: string) =>
  new RangeError(
    `the JSON number ${token.length > 40 ? `${token.slice(0, 40)}...` : token} is outside what Postgres's numeric holds (131072 digits before the decimal point, 16383 after)`
  )

/**
 * The text `jsonb` prints for a JSON number token: the exact decimal value, with as many decimals as the
 * token has after the point less its exponent (never fewer than 0), no leading zeros, no sign on zero.
 * Throws for a token that is not a JSON number, or that Postgres's `numeric` cannot hold.
 */
export const numericText = (token: string): string => {
  const m = numberToken.exec(token)
  if (m === null) throw new SyntaxError(`not a JSON number: ${token.slice(0, 40)}`)
  const sign = m[1]!
  const whole = m[2]!
  const fraction = m[3] ?? ""
  const exponent = m[4] === undefined ? 0 : Number(m[4])
  // beyond this, Postgres refuses the exponent itself
  if (!(Math.abs(exponent) < 1073741823)) throw outOfRange(token)
  const scale = Math.max(0, fraction.length - exponent)
  if (scale > maxScale) throw outOfRange(token)
  const digits = whole + fraction
  const point = whole.length + exponent
  let first = 0
  while (first < digits.length && digits.charCodeAt(first) === 0x30) first++
  if (first === digits.length) return scale === 0 ? "0" : `0.${"0".repeat(scale)}`
  if (point - first > maxIntegerDigits) throw outOfRange(token)
  let integer: string
  let decimals: string
  if (point <= first) {
    integer = "0"
    decimals = point >= 0 ? digits.slice(point) : "0".repeat(-point) + digits
  } else if (point >= digits.length) {
    integer = digits.slice(first) + "0".repeat(point - digits.length)
    decimals = ""
  } else {
    integer = digits.slice(first, point)
    decimals = digits.slice(point)
  }
  return scale === 0 ? sign + integer : `${sign}${integer}.${decimals}`
}

/**
 * The canonical text of a JavaScript number: what `jsonb` prints for the text `JSON.stringify` sends of it
 * (`1e21` prints `1000000000000000000000`); `null` for NaN and the infinities, as `JSON.stringify` writes.
 */
export const numberText = (n: number): string =>
  Number.isSafeInteger(n) ? String(n) : Number.isFinite(n) ? numericText(JSON.stringify(n)) : "null"

const smallInteger = /^-?[1-9][0-9]{0,14}$/

/**
 * A JSON number from its token: a JavaScript number when the double holds it exactly as `jsonb` prints it,
 * else a raw JSON value holding its canonical text. Throws as `numericText` does.
 */
export const jsonNumber = (token: string): number | RawJson => {
  if (smallInteger.test(token)) return Number(token)
  const text = numericText(token)
  const n = Number(text)
  return numberText(n) === text ? n : json.rawJSON(text)
}

/** The reviver that keeps every number exact. */
const keepNumbers = (_key: string, value: unknown, context: { readonly source?: string }): unknown =>
  typeof value === "number" ? jsonNumber(context.source!) : value

/**
 * Whether a JSON text may hold a number `JSON.parse` does not read as `jsonNumber` does: `-0`, one with a
 * fraction or an exponent, or one of 16 digits or more (every number starts the text or follows `[`, `:` or
 * `,`, and white space). Small integers and 0 it reads exactly. It may also match inside a string, which
 * only costs the slower, exact parse.
 */
const mayHoldOtherNumber = /(?:^|[[:,])\s*(?:-0|0[.eE]|-?[1-9][0-9]*[.eE]|-?[1-9][0-9]{15})/

/**
 * Parses a JSON text (a `jsonb` or `json` value as Postgres prints it) keeping every number exact (see
 * the module header); a whole value of JSON `null` is `jsonNull`. Throws on text that is not JSON.
 */
export const parseJsonb = (text: string): Json => {
  const value = (mayHoldOtherNumber.test(text) ? json.parse(text, keepNumbers) : JSON.parse(text)) as Json
  return value === null ? jsonNull : value
}
