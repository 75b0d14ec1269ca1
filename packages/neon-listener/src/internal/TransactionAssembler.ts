/**
 * Turns the decoded message stream of one replication connection into what the listener does with it:
 * chunks of keys to deliver, and positions that carry nothing to deliver (so the slot can move past them).
 *
 * Invariants:
 * - Memory is bounded by `maxChunkChanges` keys whatever the size of a transaction: rows are reduced to
 *   their key on arrival and a full chunk is handed out before the next key is kept.
 * - Nothing is delivered twice across reconnects: a transaction whose commit record lies before
 *   `deliveredThrough` was already delivered (or held nothing) and is skipped whole (this also covers
 *   PostgreSQL 15 sending acknowledged transactions again after a restart, R4), and a transaction that a
 *   lost connection cut short resumes after the changes already delivered.
 * - Nothing is lost: every change of a followed table in a delivered transaction is in exactly one chunk,
 *   and a transaction's last chunk is handed out only at its commit.
 *
 * Pure: no I/O, no clock; feed it messages, read its outputs.
 */
import type { Lsn } from "@enrich-sync/core"
import type { Changes, KeyChange, TableName } from "../ListenerEvent.ts"
import type { RelationName, ReplicationMessage, Tuple } from "./ReplicationMessage.ts"

/** A table the listener follows and the column that identifies its rows (the Barton ID). */
export interface FollowedTable {
  readonly schema: string
  readonly name: string
  readonly key: string
}

/** Where a new connection picks up from what earlier connections delivered. */
export interface Resume {
  /** every transaction whose commit record lies before this position was delivered or held nothing */
  readonly deliveredThrough: Lsn
  /** a transaction that a lost connection cut short: its commit LSN and how many of its messages were delivered */
  readonly partial: { readonly commitLsn: Lsn; readonly delivered: number } | null
}

/** What a message leads to. */
export type AssemblerOutput =
  /** hand this chunk to the consumer */
  | { readonly _tag: "Deliver"; readonly chunk: Changes }
  /** nothing to deliver up to this position (an empty or unrelated transaction, or a keepalive) */
  | { readonly _tag: "Pass"; readonly position: Lsn }
  /** a change of a followed table without its key column: the replica identity does not include it */
  | { readonly _tag: "MissingKey"; readonly table: TableName; readonly op: KeyChange["op"] }

interface OpenTransaction {
  readonly xid: number
  readonly finalLsn: Lsn
  readonly commitTime: string
  /** delivered by an earlier connection (or skipped as such): deliver nothing */
  readonly skip: boolean
  /** messages still to skip because an earlier connection delivered them */
  toSkip: number
  /** messages of this transaction seen so far */
  seen: number
  /** messages handed out in chunks so far */
  delivered: number
  chunk: Map<string, KeyChange>
  truncated: Array<TableName>
  /** tables already reported truncated in this transaction */
  truncatedTables: Set<string>
}

const tableId = (schema: string, name: string) => `${schema}\u0000${name}`

/**
 * Formats microseconds since the Unix epoch as UTC ISO-8601 with six fractional digits
 * (`2026-11-21T10:00:00.123456Z`).
 */
export const formatCommitTime = (micros: bigint): string => {
  const millis = micros / 1000n - (micros % 1000n < 0n ? 1n : 0n)
  const rest = micros - millis * 1000n
  const iso = new Date(Number(millis)).toISOString()
  return `${iso.slice(0, -1)}${rest.toString().padStart(3, "0")}Z`
}

/** Assembles transactions for one connection. */
export class TransactionAssembler {
  readonly #tables: ReadonlyMap<string, FollowedTable>
  readonly #maxChunkChanges: number
  #deliveredThrough: Lsn
  /** the cut-short transaction of an earlier connection, until this connection reaches it */
  #partial: Resume["partial"]
  #open: OpenTransaction | null = null

  constructor(options: {
    readonly tables: ReadonlyArray<FollowedTable>
    /** the most keys in one chunk (at least 1) */
    readonly maxChunkChanges: number
    readonly resume: Resume
  }) {
    this.#tables = new Map(options.tables.map((t) => [tableId(t.schema, t.name), t]))
    this.#maxChunkChanges = Math.max(1, Math.floor(options.maxChunkChanges))
    this.#deliveredThrough = options.resume.deliveredThrough
    this.#partial = options.resume.partial
  }

  /** Whether a transaction has begun and not committed. */
  get isOpen(): boolean {
    return this.#open !== null
  }

  /** Where the next connection should pick up, if this one ended now. */
  get resume(): Resume {
    const open = this.#open
    const partial =
      open !== null && !open.skip && open.delivered > 0
        ? { commitLsn: open.finalLsn, delivered: open.delivered }
        : this.#partial
    return { deliveredThrough: this.#deliveredThrough, partial }
  }

  /** Feeds one message; returns what it leads to, in order. */
  push(message: ReplicationMessage): ReadonlyArray<AssemblerOutput> {
    switch (message._tag) {
      case "Begin":
        return this.#begin(message.xid, message.finalLsn, message.commitTime)
      case "Commit":
        return this.#commit(message.endLsn)
      case "Keepalive":
        return this.#pass(message.walEnd)
      case "Insert":
        return this.#change(message.relation, "insert", message.row, null)
      case "Update":
        return this.#change(message.relation, "update", message.row, message.before)
      case "Delete":
        return this.#change(message.relation, "delete", null, message.before)
      case "Truncate":
        return this.#truncate(message.relations)
    }
  }

  #begin(xid: number, finalLsn: Lsn, commitTime: bigint): ReadonlyArray<AssemblerOutput> {
    const skip = finalLsn < this.#deliveredThrough
    const partial = this.#partial
    const toSkip = !skip && partial !== null && partial.commitLsn === finalLsn ? partial.delivered : 0
    if (!skip && partial !== null && finalLsn >= partial.commitLsn) this.#partial = null
    this.#open = {
      xid,
      finalLsn,
      commitTime: formatCommitTime(commitTime),
      skip,
      toSkip,
      seen: 0,
      delivered: toSkip,
      chunk: new Map(),
      truncated: [],
      truncatedTables: new Set()
    }
    return []
  }

  #pass(position: Lsn): ReadonlyArray<AssemblerOutput> {
    if (this.#open !== null || position <= this.#deliveredThrough) return []
    this.#deliveredThrough = position
    return [{ _tag: "Pass", position }]
  }

  #commit(endLsn: Lsn): ReadonlyArray<AssemblerOutput> {
    const open = this.#open
    this.#open = null
    if (open === null || open.skip) {
      if (endLsn > this.#deliveredThrough) this.#deliveredThrough = endLsn
      return []
    }
    if (open.delivered === 0 && open.chunk.size === 0 && open.truncated.length === 0)
      return this.#pass(endLsn)
    const chunk = this.#chunk(open, endLsn, true)
    this.#deliveredThrough = endLsn
    return [{ _tag: "Deliver", chunk }]
  }

  #chunk(open: OpenTransaction, endLsn: Lsn, last: boolean): Changes {
    const chunk: Changes = {
      _tag: "Changes",
      xid: open.xid,
      commitLsn: open.finalLsn,
      endLsn,
      commitTime: open.commitTime,
      changes: [...open.chunk.values()],
      truncated: open.truncated,
      last
    }
    open.chunk = new Map()
    open.truncated = []
    open.delivered = open.seen
    return chunk
  }

  /** Counts a message of the open transaction; false when it is to be skipped. */
  #admit(open: OpenTransaction | null): open is OpenTransaction {
    if (open === null || open.skip) return false
    if (open.toSkip > 0) {
      open.toSkip -= 1
      open.seen += 1
      return false
    }
    return true
  }

  #change(
    relation: RelationName,
    op: KeyChange["op"],
    row: Tuple | null,
    before: Tuple | null
  ): ReadonlyArray<AssemblerOutput> {
    const open = this.#open
    if (!this.#admit(open)) return []
    const followed = this.#tables.get(tableId(relation.schema, relation.name))
    const table = { schema: relation.schema, name: relation.name }
    const outputs: Array<AssemblerOutput> = []
    if (followed !== undefined) {
      const key = keyOf(row, followed.key)
      const oldKey = keyOf(before, followed.key)
      if (op === "delete" ? oldKey === null : key === null) {
        open.seen += 1
        return [{ _tag: "MissingKey", table, op }]
      }
      // A key that changed (keys should never change) is reported gone, and the new one as updated.
      if (oldKey !== null && key !== null && oldKey !== key) this.#add(open, table, "delete", oldKey, outputs)
      this.#add(open, table, op, (op === "delete" ? oldKey : key) as string, outputs)
    }
    open.seen += 1
    return outputs
  }

  #add(
    open: OpenTransaction,
    table: TableName,
    op: KeyChange["op"],
    key: string,
    outputs: Array<AssemblerOutput>
  ) {
    const id = `${tableId(table.schema, table.name)}\u0000${key}`
    const existing = open.chunk.get(id)
    if (existing !== undefined) {
      open.chunk.set(id, { table: existing.table, op, key })
      return
    }
    if (open.chunk.size >= this.#maxChunkChanges) {
      outputs.push({ _tag: "Deliver", chunk: this.#chunk(open, this.#deliveredThrough, false) })
    }
    open.chunk.set(id, { table, op, key })
  }

  #truncate(relations: ReadonlyArray<RelationName>): ReadonlyArray<AssemblerOutput> {
    const open = this.#open
    if (!this.#admit(open)) return []
    for (const relation of relations) {
      const id = tableId(relation.schema, relation.name)
      if (this.#tables.has(id) && !open.truncatedTables.has(id)) {
        open.truncatedTables.add(id)
        open.truncated.push({ schema: relation.schema, name: relation.name })
      }
    }
    open.seen += 1
    return []
  }
}

/** The key column's value as text, or null when the tuple lacks it. */
const keyOf = (tuple: Tuple | null, column: string): string | null => {
  if (tuple === null) return null
  const value = tuple[column]
  if (value === null || value === undefined) return null
  if (typeof value === "string") return value
  if (typeof value === "number" || typeof value === "bigint") return String(value)
  if (value instanceof Uint8Array) return Buffer.from(value).toString("utf8")
  return String(value)
}
