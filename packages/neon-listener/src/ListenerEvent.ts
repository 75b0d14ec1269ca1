/**
 * What the Neon listener emits: the keys that committed transactions touched, in commit order, cut into
 * bounded chunks, and the notice that the slot had to be (re)created.
 *
 * Invariant: an event says only "these keys changed in this transaction"; it never carries row values
 * (the engine reads the rows), so a chunk's size is bounded by its number of keys, whatever the rows hold.
 * Transactions that touch none of the followed tables (and empty ones) produce no event: the listener
 * moves the slot past them itself, once everything delivered before them is acknowledged.
 */
import type { Lsn } from "@enrich-sync/core"

/** A followed table. */
export interface TableName {
  readonly schema: string
  readonly name: string
}

/** One key a transaction touched, with the last operation seen on it in the chunk. */
export interface KeyChange {
  readonly table: TableName
  readonly op: "insert" | "update" | "delete"
  /** the value of the table's key column (the Barton ID), as text */
  readonly key: string
}

/**
 * A chunk of one committed transaction. A transaction comes as one or more chunks in order, the one that
 * ends it with `last: true`. Within a chunk a key appears once (with its last operation).
 */
export interface Changes {
  readonly _tag: "Changes"
  /** the transaction id (unsigned 32-bit) */
  readonly xid: number
  /** the LSN of the transaction's commit record (pgoutput Begin's final LSN) */
  readonly commitLsn: Lsn
  /**
   * The position to acknowledge (with `NeonListener.ack`) once this chunk and everything before it is
   * applied. On the last chunk it is the end of the commit record; on earlier chunks it is the position
   * just before the transaction, so acknowledging it never confirms part of a transaction.
   */
  readonly endLsn: Lsn
  /** commit time, UTC ISO-8601 with microseconds (`2026-11-21T10:00:00.123456Z`) */
  readonly commitTime: string
  readonly changes: ReadonlyArray<KeyChange>
  /** followed tables this transaction truncated (each listed once, in the chunk where it happened) */
  readonly truncated: ReadonlyArray<TableName>
  /** whether this chunk ends the transaction (its commit was seen) */
  readonly last: boolean
}

/**
 * The listener had to create the replication slot, so the slot holds nothing from before `position`.
 * `first-start`: there was no slot when the listener started (nobody ran `ensureSlot` before a backfill).
 * `missing`: the slot the listener was following disappeared (Neon drops slots that stop confirming
 * progress, a branch restore drops them all) or was invalidated, and was created again: changes committed
 * in between were never streamed, so the daemon must reconcile both sides in full. Either way it comes
 * before any `Changes` from the new slot.
 */
export interface SlotCreated {
  readonly _tag: "SlotCreated"
  readonly reason: "first-start" | "missing"
  /** the new slot's starting position */
  readonly position: Lsn
}

/** An event of the listener's stream. */
export type ListenerEvent = Changes | SlotCreated
