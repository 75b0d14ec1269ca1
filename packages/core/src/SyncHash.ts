/**
 * The canonical JSON of a sync record and its md5, `last_sync_hash`.
 *
 * Canonical JSON: no whitespace; object keys sorted by Unicode code point; strings escaped as
 * `JSON.stringify` does (which is also how Postgres escapes JSON); numbers as ECMAScript prints a double
 * (`-0` as `0`). `enrich_sync.canonical_json(jsonb)` and the row hash functions installed by the migrations
 * produce the same text byte for byte, so the databases can compare and find unsynced rows themselves.
 */
import { createHash } from "node:crypto"
import { compareCodePoints } from "./Entity.ts"
import type { SyncRecord } from "./Projection.ts"

/** The canonical JSON text of a value. */
export const canonicalJson = (value: unknown): string => {
  if (value === null || value === undefined) return "null"
  switch (typeof value) {
    case "string":
      return JSON.stringify(value)
    case "number":
      return JSON.stringify(value)
    case "boolean":
      return value ? "true" : "false"
    case "bigint":
      return value.toString()
    case "object": {
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`
      const entries = Object.entries(value as object)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => compareCodePoints(a, b))
      return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`
    }
    default:
      throw new Error(`not a JSON value: ${typeof value}`)
  }
}

/** The md5 (lower-case hex) of a text, as Postgres' `md5()`. */
export const md5 = (text: string): string => createHash("md5").update(text, "utf8").digest("hex")

/** `last_sync_hash`: the md5 of the canonical JSON of a sync record. */
export const syncHash = (record: SyncRecord): string => md5(canonicalJson(record))

/** Whether two values are the same in canonical form. */
export const sameValue = (a: unknown, b: unknown): boolean => {
  if (a === b) return true
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false
  return canonicalJson(a) === canonicalJson(b)
}
