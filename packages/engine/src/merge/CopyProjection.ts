/**
 * The copy path's row encoder: Neon's `COPY TO` text of an entity's source columns in, the workspace's
 * `COPY FROM` text out, each row projected to its sync record, hashed (`last_sync_hash`) and stamped, all
 * on bytes: no row, record or line is ever a JavaScript string or object.
 *
 * Invariant: every output row is byte for byte what core's projection gives (`projectSource`, then
 * `recordJson` and `md5` for the hash, each value written as COPY text): the fast paths below only take
 * values they can prove need no normalising, escaping or decoding, and give every other value to core. A
 * JSON column's text is `jsonb` output (the schema check holds the columns to `jsonb`), which is its
 * canonical JSON already (`Jsonb`): unescaped, it goes into the hashed record as it is, never parsed.
 */
import { hash } from "node:crypto"
import type { Entity, FieldKind } from "@enrich-sync/core"
import {
  canonicalJson,
  canonicalTimestamp,
  normalise,
  parseJsonb,
  trimText,
  writeCanonicalTimestamp
} from "@enrich-sync/core"
import { copyValue, unescapeField } from "../store/CopyFormat.ts"

const tab = 0x09
const newline = 0x0a
const backslash = 0x5c
const quote = 0x22

/**
 * The columns of Neon's COPY text that `CopyProjection` reads, in order, as a select list over the source
 * table aliased `t`: the entity's fields, the edit time (`t.updated_at` unless given another expression),
 * and the row version.
 */
export const projectionSourceColumns = (entity: Entity, editedAt = "t.updated_at"): string =>
  `${entity.fields.map((f) => `t.${f.source}`).join(", ")}, ${editedAt}, t.xmin::text::bigint`

/** The workspace columns of the COPY text that `CopyProjection` writes, in order. */
export const projectionWorkspaceColumns = (entity: Entity): ReadonlyArray<string> => [
  ...entity.fields.map((f) => f.workspace),
  "last_sync_hash",
  "pulled_from_neon_at",
  "updated_at",
  "sync_state",
  "sync_dirty",
  "source_xmin"
]

/**
 * One value, encoded: its COPY text and its canonical JSON in the hashed record, as UTF-8 bytes; no JSON
 * for SQL NULL (the record leaves the field out).
 */
interface EncodedValue {
  readonly copy: Uint8Array
  readonly json: Uint8Array | null
}

const utf8 = (text: string): Uint8Array => Buffer.from(text, "utf8")

const nullValue: EncodedValue = { copy: utf8("\\N"), json: null }

/** A null field's COPY text, its tab included. */
const nullField = utf8("\\N\t")

/** A COPY column as the projection reads it: unescaped, `\N` as null. */
const columnValue = (raw: string): string | null =>
  raw === "\\N" ? null : raw.includes("\\") ? unescapeField(raw) : raw

/** A value of any kind through core's projection: what every fast path must equal. */
const encodeValue = (kind: FieldKind, raw: string): EncodedValue => {
  const text = columnValue(raw)
  const value = normalise(kind, kind === "json" && text !== null ? parseJsonb(text) : text)
  if (value === null) return nullValue
  const json = canonicalJson(value)
  const copy = kind === "json" ? json : typeof value === "string" ? value : String(value)
  return { copy: utf8(copyValue(copy)), json: utf8(json) }
}

/**
 * Most distinct values a field's memo keeps: statuses and validation errors (those whose COPY text holds
 * escapes: the others take no memo) repeat across millions of rows and are encoded once each; once a
 * field's memo is full (values that rarely repeat), it keeps what it holds and adds nothing, so memory
 * stays bounded.
 */
const memoCapacity = 4096

/** Output is handed on in pieces of about this many bytes. */
const pieceSize = 256 * 1024

/** Whether a byte may start or end a value that `trimText` changes (ASCII space and controls, non-ASCII). */
const mayTrim = (byte: number): boolean => byte <= 0x20 || byte >= 0x80

/** Whether the COPY bytes `[start, end)` hold a digit string Postgres prints for an integer. */
const isPlainInteger = (bytes: Uint8Array, start: number, end: number): boolean => {
  let i = bytes[start] === 0x2d ? start + 1 : start
  const digits = end - i
  // at most 15 digits: always a safe integer; no leading zero (nor "-0"): the text is its canonical form
  if (digits < 1 || digits > 15) return false
  if (bytes[i] === 0x30 && (digits > 1 || i > start)) return false
  for (; i < end; i++) {
    const b = bytes[i]!
    if (b < 0x30 || b > 0x39) return false
  }
  return true
}

/** What one row needs that is the same for every row of a run. */
interface Constants {
  /** each field's member name in the record's JSON (`"name": `) */
  readonly members: ReadonlyArray<Uint8Array>
  /** the most the record's JSON takes beyond its values: braces, separators and member names */
  readonly prefixLength: number
  readonly pulledAt: Uint8Array
  readonly lifecycle: Uint8Array
  /** the most the bookkeeping columns take beyond the row version's own bytes */
  readonly tailLength: number
}

/** The most bytes a fast path adds to a field's input, in its COPY text or its JSON. */
const fieldSlack = 12

/**
 * Encodes Neon COPY text (an entity's fields in order, then `updated_at` and the row version `xmin`) as
 * workspace COPY text (the fields, `last_sync_hash`, `pulled_from_neon_at`, `updated_at`, `sync_state`,
 * `sync_dirty`, `source_xmin`). Feed it the chunks of the Neon stream in order with `write`, then `end`;
 * both return the output completed so far (rows may be split across pieces, as COPY allows).
 */
export class CopyProjection {
  private readonly kinds: ReadonlyArray<FieldKind>
  private readonly memos: Array<Map<string, EncodedValue> | null>
  /** each field's encoding of `\N` */
  private readonly nulls: ReadonlyArray<EncodedValue>
  private readonly constants: Constants
  private readonly count: number
  private json: Buffer = Buffer.allocUnsafe(4096)
  private out: Buffer = Buffer.allocUnsafe(pieceSize)
  private at = 0
  private pieces: Array<Buffer> = []
  private carry: Buffer | null = null
  /** the room the current row's fast paths may take, in the output and in the JSON */
  private rowBound = 0
  private jsonBound = 0
  /** rows encoded so far */
  rows = 0

  constructor(entity: Entity, pulledAt: string) {
    this.kinds = entity.fields.map((f) => f.kind)
    this.memos = this.kinds.map((k) => (k === "text" ? null : new Map()))
    this.count = this.kinds.length
    this.nulls = this.kinds.map((k) => encodeValue(k, "\\N"))
    const members = entity.fields.map((f) => utf8(`${JSON.stringify(f.name)}: `))
    const pulled = utf8(pulledAt)
    const lifecycle = utf8("\tactive\tf\t")
    this.constants = {
      members,
      prefixLength: members.reduce((n, m) => n + 2 + m.length, 1),
      pulledAt: pulled,
      lifecycle,
      // hash, tab, pull time, tab, edit time (a canonical timestamp, or the pull time), newline
      tailLength: 33 + pulled.length + 1 + Math.max(pulled.length, 64) + lifecycle.length + 1
    }
  }

  /** Encodes the complete rows of `chunk` (and of what an earlier chunk left unfinished). */
  write(chunk: Buffer): Array<Buffer> {
    let from = 0
    if (this.carry !== null) {
      const nl = chunk.indexOf(newline)
      if (nl === -1) {
        this.carry = Buffer.concat([this.carry, chunk])
        return this.take()
      }
      const row = Buffer.concat([this.carry, chunk.subarray(0, nl + 1)])
      this.carry = null
      this.encodeRow(row, 0, row.length - 1)
      from = nl + 1
    }
    for (;;) {
      const nl = chunk.indexOf(newline, from)
      if (nl === -1) break
      this.encodeRow(chunk, from, nl)
      from = nl + 1
    }
    if (from < chunk.length) this.carry = Buffer.from(chunk.subarray(from))
    return this.take()
  }

  /**
   * Encodes what is left (a last row without its newline) and returns the rest of the output. The
   * projection can go on with another text after it: what it returned stays as it is.
   */
  end(): Array<Buffer> {
    if (this.carry !== null) {
      const row = this.carry
      this.carry = null
      this.encodeRow(row, 0, row.length)
    }
    const pieces = this.take()
    if (this.at > 0) {
      pieces.push(this.out.subarray(0, this.at))
      // what follows goes after the piece just handed out, never over it
      this.out = this.out.subarray(this.at)
      this.at = 0
    }
    return pieces
  }

  private take(): Array<Buffer> {
    const pieces = this.pieces
    this.pieces = []
    return pieces
  }

  /** Makes room for `n` more output bytes. */
  private reserve(n: number): void {
    if (this.at + n <= this.out.length) return
    if (this.at > 0) this.pieces.push(this.out.subarray(0, this.at))
    this.out = Buffer.allocUnsafe(Math.max(pieceSize, n))
    this.at = 0
  }

  /** Makes room for `n` more bytes of the record's JSON, `used` of which are written. */
  private reserveJson(used: number, n: number): void {
    if (used + n <= this.json.length) return
    const bigger = Buffer.allocUnsafe(Math.max(2 * this.json.length, used + n))
    this.json.copy(bigger, 0, 0, used)
    this.json = bigger
  }

  /** Encodes the row at `[start, end)` of `bytes` (`end` is its newline or the end of the text). */
  private encodeRow(bytes: Buffer, start: number, end: number): void {
    const { count, kinds, constants } = this
    const members = constants.members
    // room for every fast path at once: a field's COPY text and JSON take at most its input and a few bytes
    // (`\N` for an empty text, quotes, a timestamp's `T`, fraction and `Z`), then the bookkeeping columns;
    // memoised and general values reserve their own room
    this.rowBound = end - start + fieldSlack * count + constants.tailLength
    this.jsonBound = constants.prefixLength + end - start + fieldSlack * count + 1
    this.reserve(this.rowBound)
    this.reserveJson(0, this.jsonBound)
    let out = this.out
    let at = this.at
    let json = this.json
    json[0] = 0x7b // {
    let j = 1
    let p = start
    for (let f = 0; f < count; f++) {
      const s = p
      // the field's member, `, "name": ` (undone when the field is SQL NULL: the record leaves it out)
      const member = members[f]!
      const memberStart = j
      if (j > 1) {
        json[j++] = 0x2c
        json[j++] = 0x20
      }
      for (let i = 0; i < member.length; i++) json[j + i] = member[i]!
      j += member.length
      const kind = kinds[f]
      if (kind === "text") {
        const outStart = at
        const jsonStart = j
        if (bytes[p] === backslash && bytes[p + 1] === 0x4e && bytes[p + 2] === tab) {
          // `\N`: null
          at = put(out, at, nullField)
          j = memberStart
          p += 3
          continue
        }
        // copy while the bytes need no (un)escaping, to the COPY text and quoted to the JSON
        json[j++] = quote
        while (p < end) {
          const b = bytes[p]!
          if (b < 0x20 || b === quote || b === backslash) break
          out[at++] = b
          json[j++] = b
          p++
        }
        if (p === end) throw columnCount(f + 1, count)
        if (bytes[p] === tab) {
          if (p === s) {
            // empty: null
            at = put(out, outStart, nullField)
            j = memberStart
            p++
            continue
          }
          if (!mayTrim(bytes[s]!) && !mayTrim(bytes[p - 1]!)) {
            out[at++] = tab
            json[j++] = quote
            p++
            continue
          }
        }
        // anything else (escapes, quotes, controls, what trimming may change): through the projection
        p = fieldEnd(bytes, p, end)
        if (p === end) throw columnCount(f + 1, count)
        at = outStart
        this.at = at
        j = this.putValue(jsonStart, memberStart, encodeText(bytes.toString("utf8", s, p)))
      } else {
        p = fieldEnd(bytes, p, end)
        if (p === end) throw columnCount(f + 1, count)
        if (kind === "json" && !isNull(bytes, s, p)) {
          // `jsonb` output without COPY escapes: the COPY text as it is, and the canonical JSON as well
          const outStart = at
          const jsonStart = j
          let i = s
          for (; i < p; i++) {
            const b = bytes[i]!
            if (b === backslash) break
            out[at++] = b
            json[j++] = b
          }
          if (i === p) {
            out[at++] = tab
            p++
            continue
          }
          at = outStart
          j = jsonStart
        }
        if (kind === "integer" && isPlainInteger(bytes, s, p)) {
          for (let i = s; i < p; i++) {
            const b = bytes[i]!
            out[at++] = b
            json[j++] = b
          }
          out[at++] = tab
          p++
          continue
        }
        if (kind === "timestamp") {
          const jsonStart = j
          json[j++] = quote
          const jsonEnd = writeCanonicalTimestamp(bytes, s, p, json, j)
          if (jsonEnd !== -1) {
            // the canonical text, unquoted, is also the COPY text
            for (let i = j; i < jsonEnd; i++) out[at++] = json[i]!
            out[at++] = tab
            j = jsonEnd
            json[j++] = quote
            p++
            continue
          }
          j = jsonStart
        }
        let value: EncodedValue | undefined
        if (isNull(bytes, s, p)) value = this.nulls[f]!
        else {
          const memo = this.memos[f]!
          const key = bytes.toString("latin1", s, p)
          value = memo.get(key)
          if (value === undefined) {
            value = encodeValue(kind!, bytes.toString("utf8", s, p))
            if (memo.size < memoCapacity) memo.set(key, value)
          }
        }
        this.at = at
        j = this.putValue(j, memberStart, value)
      }
      // a general value may have moved both buffers
      out = this.out
      at = this.at
      json = this.json
      p++
    }
    json[j++] = 0x7d // }

    // the bookkeeping columns: hash, pull time, edit time, lifecycle, Neon row version
    const digest = hash("md5", json.subarray(0, j), "hex")
    for (let i = 0; i < 32; i++) out[at++] = digest.charCodeAt(i)
    out[at++] = tab
    at = put(out, at, constants.pulledAt)
    out[at++] = tab
    const editedAt = p
    p = fieldEnd(bytes, p, end)
    if (p === end) throw columnCount(count + 1, count)
    const plainEnd = writeCanonicalTimestamp(bytes, editedAt, p, out, at)
    if (plainEnd !== -1) at = plainEnd
    else {
      const updatedAt = canonicalTimestamp(columnValue(bytes.toString("utf8", editedAt, p)))
      if (updatedAt === null) at = put(out, at, constants.pulledAt)
      else at += out.write(updatedAt, at, "utf8")
    }
    at = put(out, at, constants.lifecycle)
    p++
    const version = p
    p = fieldEnd(bytes, p, end)
    if (p !== end) throw new Error(`a Neon COPY row has more than ${count + 2} columns`)
    for (let i = version; i < p; i++) out[at++] = bytes[i]!
    out[at++] = newline
    this.at = at
    this.rows++
  }

  /**
   * Writes an encoded value at the output's end and its JSON at `j`; returns the JSON's new end (for SQL
   * NULL, `memberStart`: the record leaves the field out).
   */
  private putValue(j: number, memberStart: number, value: EncodedValue): number {
    // with room for the rest of the row's fast paths too
    this.reserve(value.copy.length + 1 + this.rowBound)
    this.at = put(this.out, this.at, value.copy)
    this.out[this.at++] = tab
    if (value.json === null) return memberStart
    this.reserveJson(j, value.json.length + this.jsonBound)
    return put(this.json, j, value.json)
  }
}

const columnCount = (found: number, count: number) =>
  new Error(`a Neon COPY row has ${found} columns, expected ${count + 2}`)

/** Copies `bytes` into `target` at `at`; returns the end. */
const put = (target: Uint8Array, at: number, bytes: Uint8Array): number => {
  for (let i = 0; i < bytes.length; i++) target[at++] = bytes[i]!
  return at
}

/** Whether the COPY column at `[start, end)` is `\N` (NULL). */
const isNull = (bytes: Uint8Array, start: number, end: number): boolean =>
  end - start === 2 && bytes[start] === backslash && bytes[start + 1] === 0x4e

/** The end of the COPY column that goes on at `from`: its tab, or `end`. */
const fieldEnd = (bytes: Uint8Array, from: number, end: number): number => {
  let p = from
  while (p < end && bytes[p] !== tab) p++
  return p
}

/** A text field through the projection (trimmed, empty is null), from its COPY text. */
const encodeText = (raw: string): EncodedValue => {
  const value = raw === "\\N" ? "" : trimText(columnValue(raw)!)
  if (value === "") return nullValue
  return { copy: utf8(copyValue(value)), json: utf8(canonicalJson(value)) }
}
