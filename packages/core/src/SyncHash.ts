/**
 * The canonical JSON of a sync record and its md5, `last_sync_hash`.
 *
 * Canonical JSON is the text Postgres prints for `jsonb`: object keys ordered by their UTF-8 length, then
 * their bytes; `": "` after a key and `", "` between members; strings escaped as `JSON.stringify` and
 * Postgres both do; numbers as `jsonb` keeps them (`2.50` stays `2.50`, big integers stay whole, see
 * `Jsonb`). A record leaves out its fields that are SQL NULL, so a JSON field holding JSON `null`
 * (`jsonNull`) is told apart from one that is SQL NULL; a record's canonical JSON is then exactly the
 * `jsonb` text of itself, and the functions installed by the migrations (`sql/SyncHashSql.ts`) compute the
 * same text byte for byte.
 */
import { hash } from "node:crypto"
import type { Entity } from "./Entity.ts"
import { compareCodePoints } from "./Entity.ts"
import { isRawJson, numberText, numericText } from "./Jsonb.ts"
import type { SyncRecord } from "./Projection.ts"

/** The length in UTF-8 bytes (a lone surrogate counts 3, as its replacement character). */
const utf8Length = (s: string): number => {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1)
      if (d >= 0xdc00 && d < 0xe000) {
        n += 4
        i++
      } else n += 3
    } else n += 3
  }
  return n
}

/** Orders object keys as `jsonb` does: by UTF-8 byte length, then by bytes. */
export const compareJsonbKeys = (a: string, b: string): number => {
  if (a === b) return 0
  const la = utf8Length(a)
  const lb = utf8Length(b)
  return la !== lb ? la - lb : compareCodePoints(a, b)
}

/**
 * The canonical JSON text of a value (`null` and `undefined` are JSON null). The values records are mostly
 * made of (null, text, integers) are handled here, in a function small enough for V8 to inline into
 * `recordSerializer`'s loop (the hash of every row goes through it); the rest in `canonicalComposite`.
 */
export const canonicalJson = (value: unknown): string =>
  value === null || value === undefined
    ? "null"
    : typeof value === "string"
      ? quote(value)
      : typeof value === "number" && Number.isSafeInteger(value)
        ? String(value)
        : canonicalComposite(value)

/** What `JSON.stringify` escapes in a string: `"`, `\`, control characters, and (when lone) surrogates. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what it looks for
const escaped = /["\\\u0000-\u001f\ud800-\udfff]/

/** `JSON.stringify` of a string: most hold nothing to escape, and are quoted as they are. */
const quote = (text: string): string => (escaped.test(text) ? JSON.stringify(text) : `"${text}"`)

/** The canonical JSON text of a value that is not null, text or a safe integer. */
const canonicalComposite = (value: unknown): string => {
  switch (typeof value) {
    case "number":
      return numberText(value)
    case "boolean":
      return value ? "true" : "false"
    case "bigint":
      return value.toString()
    case "object": {
      if (isRawJson(value)) return canonicalRaw(value.rawJSON)
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(", ")}]`
      return canonicalObject(value as { readonly [key: string]: unknown }, false)
    }
    default:
      throw new Error(`not a JSON value: ${typeof value}`)
  }
}

/** The canonical text of a raw JSON value's text (a number kept exact, `jsonNull`, or any JSON). */
const canonicalRaw = (text: string): string =>
  text === "null" ? "null" : rawNumber.test(text) ? numericText(text) : canonicalJson(JSON.parse(text))

const rawNumber = /^-?[0-9]/

/**
 * The canonical JSON of an object: its members in `jsonb` key order, leaving out those whose value is
 * `undefined` (absent, as in JSON) and, when `omitNull` (a sync record, whose null is SQL NULL), `null`.
 */
const canonicalObject = (object: { readonly [key: string]: unknown }, omitNull: boolean): string => {
  const keys = Object.keys(object)
  // records are built in canonical order: check it (linear) before paying for a sort
  for (let i = 1; i < keys.length; i++) {
    if (compareJsonbKeys(keys[i - 1]!, keys[i]!) > 0) {
      keys.sort(compareJsonbKeys)
      break
    }
  }
  let out = "{"
  for (let i = 0; i < keys.length; i++) {
    const v = object[keys[i]!]
    if (v === undefined || (omitNull && v === null)) continue
    out += `${out === "{" ? "" : ", "}${JSON.stringify(keys[i])}: ${canonicalJson(v)}`
  }
  return `${out}}`
}

/**
 * The canonical JSON of a sync record (any fields): its fields in `jsonb` key order, those that are SQL
 * NULL (`null`) left out. `recordJson` gives the same text for an entity's records, faster.
 */
export const canonicalRecordJson = (record: SyncRecord): string => canonicalObject(record, true)

/**
 * The canonical JSON of a record with exactly the given field names, already in canonical order (an
 * entity's fields): the same text as `canonicalRecordJson`, without looking at key order. Build one per
 * entity with `recordSerializer` and reuse it.
 */
export const recordSerializer = (
  names: ReadonlyArray<string>
): ((record: { readonly [k: string]: unknown }) => string) => {
  for (let i = 1; i < names.length; i++) {
    if (compareJsonbKeys(names[i - 1]!, names[i]!) >= 0)
      throw new Error(`fields not in canonical order: ${names.join(", ")}`)
  }
  const members = names.map((name) => `${JSON.stringify(name)}: `)
  return (record) => {
    let out = "{"
    for (let i = 0; i < names.length; i++) {
      const value = record[names[i]!]
      if (value === null || value === undefined) continue
      out += `${out.length === 1 ? "" : ", "}${members[i]!}${canonicalJson(value)}`
    }
    return `${out}}`
  }
}

/** The md5 (lower-case hex) of a text (UTF-8), as Postgres' `md5()`. */
export const md5 = (text: string): string => hash("md5", text, "hex")

/** `last_sync_hash`: the md5 of the canonical JSON of a sync record (`canonicalRecordJson`). */
export const syncHash = (record: SyncRecord): string => md5(canonicalRecordJson(record))

const serializers = new WeakMap<Entity, (record: { readonly [k: string]: unknown }) => string>()

/** The canonical JSON of a sync record of `entity` (fast: the entity's fields are in canonical order). */
export const recordJson = (entity: Entity, record: SyncRecord): string => {
  let serialize = serializers.get(entity)
  if (serialize === undefined) {
    serialize = recordSerializer(entity.fields.map((f) => f.name))
    serializers.set(entity, serialize)
  }
  return serialize(record)
}

/** `last_sync_hash` of a sync record of `entity` (the same value as `syncHash`, faster). */
export const recordHash = (entity: Entity, record: SyncRecord): string => md5(recordJson(entity, record))

/**
 * Whether two values of a sync record are the same: equal canonical JSON, compared structurally (objects
 * regardless of key order, arrays in order, numbers by their canonical text), with SQL NULL (`null`) apart
 * from JSON null (`jsonNull`).
 */
export const sameValue = (a: unknown, b: unknown): boolean =>
  // the merge compares every field several times, mostly text or null: small enough to be inlined there
  a === b ||
  ((typeof a === "object" || typeof b === "object") && a !== null && b !== null && sameComposite(a, b))

/** `sameValue` of two values not both null, one of them an object (an array, or a raw JSON value). */
const sameComposite = (a: unknown, b: unknown): boolean => {
  // a number kept exact against any other number (a raw one is never equal to a double, unless made by hand)
  if (isRawJson(a) || isRawJson(b)) return canonicalJson(a) === canonicalJson(b)
  if (typeof a !== "object" || typeof b !== "object") return false
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false
    return true
  }
  if (Array.isArray(b)) return false
  const x = a as { readonly [key: string]: unknown }
  const y = b as { readonly [key: string]: unknown }
  // the same defined keys (undefined is absent, as in JSON), each with the same value
  let defined = 0
  for (const k of Object.keys(x)) {
    if (x[k] === undefined) continue
    defined++
    if (!Object.hasOwn(y, k) || !sameValue(x[k], y[k])) return false
  }
  for (const k of Object.keys(y)) if (y[k] !== undefined) defined--
  return defined === 0
}
