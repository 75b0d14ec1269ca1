/**
 * The canonical JSON of a sync record and its md5, `last_sync_hash`.
 *
 * Canonical JSON is the layout Postgres prints for `jsonb`: object keys ordered by their UTF-8 length, then
 * their bytes; `": "` after a key and `", "` between members; strings escaped as `JSON.stringify` and
 * Postgres both do; with one difference from `jsonb` output: numbers are written as ECMAScript writes a
 * double (`1.50` and `1.5` are the same number; `-0` is `0`). So, in SQL, the canonical text of a stored
 * projection is simply its `jsonb::text` unless it holds a non-integer or very long number, and the
 * functions installed by the migrations (`sql/SyncHashSql.ts`) compute the same text byte for byte.
 */
import { hash } from "node:crypto"
import type { Entity } from "./Entity.ts"
import { compareCodePoints } from "./Entity.ts"
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
 * The canonical JSON text of a value. The values records are mostly made of (null, text, numbers) are
 * handled here, in a function small enough for V8 to inline into `recordSerializer`'s loop (the hash of
 * every row goes through it); the rest in `canonicalComposite`.
 */
export const canonicalJson = (value: unknown): string =>
  value === null || value === undefined
    ? "null"
    : typeof value === "string"
      ? quote(value)
      : typeof value === "number"
        ? JSON.stringify(value)
        : canonicalComposite(value)

/** What `JSON.stringify` escapes in a string: `"`, `\`, control characters, and (when lone) surrogates. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what it looks for
const escaped = /["\\\u0000-\u001f\ud800-\udfff]/

/** `JSON.stringify` of a string: most hold nothing to escape, and are quoted as they are. */
const quote = (text: string): string => (escaped.test(text) ? JSON.stringify(text) : `"${text}"`)

/** The canonical JSON text of a value that is not null, text or a number. */
const canonicalComposite = (value: unknown): string => {
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false"
    case "bigint":
      return value.toString()
    case "object": {
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(", ")}]`
      const object = value as { readonly [key: string]: unknown }
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
        if (v === undefined) continue
        out += `${out === "{" ? "" : ", "}${JSON.stringify(keys[i])}: ${canonicalJson(v)}`
      }
      return `${out}}`
    }
    default:
      throw new Error(`not a JSON value: ${typeof value}`)
  }
}

/**
 * The canonical JSON of a record with exactly the given field names, already in canonical order (an
 * entity's fields): the same text as `canonicalJson`, without looking at key order. Build one per entity
 * with `recordSerializer` and reuse it.
 */
export const recordSerializer = (
  names: ReadonlyArray<string>
): ((record: { readonly [k: string]: unknown }) => string) => {
  for (let i = 1; i < names.length; i++) {
    if (compareJsonbKeys(names[i - 1]!, names[i]!) >= 0)
      throw new Error(`fields not in canonical order: ${names.join(", ")}`)
  }
  const prefixes = names.map((name, i) => `${i === 0 ? "{" : ", "}${JSON.stringify(name)}: `)
  return (record) => {
    let out = ""
    for (let i = 0; i < names.length; i++) out += prefixes[i]! + canonicalJson(record[names[i]!])
    return names.length === 0 ? "{}" : `${out}}`
  }
}

/** The md5 (lower-case hex) of a text (UTF-8), as Postgres' `md5()`. */
export const md5 = (text: string): string => hash("md5", text, "hex")

/** `last_sync_hash`: the md5 of the canonical JSON of a sync record. */
export const syncHash = (record: SyncRecord): string => md5(canonicalJson(record))

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
 * Whether two JSON values are the same in canonical form (equal canonical JSON), compared structurally:
 * objects regardless of key order, arrays in order, numbers by value.
 */
export const sameValue = (a: unknown, b: unknown): boolean =>
  // the merge compares every field several times, mostly text or null: small enough to be inlined there
  a === b ||
  (typeof a === "object" && typeof b === "object" && a !== null && b !== null && sameComposite(a, b))

/** `sameValue` of two objects or arrays. */
const sameComposite = (a: object, b: object): boolean => {
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
