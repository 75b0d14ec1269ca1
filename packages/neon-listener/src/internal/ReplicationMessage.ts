/**
 * What the replication connection hands to the rest of the package: the pgoutput messages that matter,
 * in our own types, with positions already parsed to `bigint` and times in microseconds.
 *
 * Invariant: these are delivered in stream order, one at a time; a transaction is `Begin`, its changes,
 * `Commit`, never interleaved with another transaction (protocol 2 without streaming of large
 * transactions), and a `Keepalive` never falls between a `Begin` and its `Commit`.
 */
import type { Lsn } from "@enrich-sync/core"

/** A table as pgoutput names it. */
export interface RelationName {
  readonly schema: string
  readonly name: string
}

/** A decoded tuple: column name to value (`null` for SQL NULL, `undefined` for an unchanged TOAST value). */
export type Tuple = Readonly<Record<string, unknown>>

/** The messages of the stream that the listener acts on. */
export type ReplicationMessage =
  | {
      readonly _tag: "Begin"
      /** the transaction id (unsigned) */
      readonly xid: number
      /** the LSN of the commit record (pgoutput's "final LSN") */
      readonly finalLsn: Lsn
      /** commit time in microseconds since the Unix epoch */
      readonly commitTime: bigint
    }
  | { readonly _tag: "Insert"; readonly relation: RelationName; readonly row: Tuple }
  | {
      readonly _tag: "Update"
      readonly relation: RelationName
      readonly row: Tuple
      /** the old replica identity (`key`) or whole old row (`old`), sent only when it changed or is FULL */
      readonly before: Tuple | null
    }
  | { readonly _tag: "Delete"; readonly relation: RelationName; readonly before: Tuple | null }
  | { readonly _tag: "Truncate"; readonly relations: ReadonlyArray<RelationName> }
  | {
      readonly _tag: "Commit"
      /** the LSN of the commit record (equals `Begin.finalLsn`) */
      readonly commitLsn: Lsn
      /** the end of the commit record: the position a client confirms once the transaction is applied */
      readonly endLsn: Lsn
      readonly commitTime: bigint
    }
  | {
      readonly _tag: "Keepalive"
      /** the server's sent position: every transaction committed before it has been sent */
      readonly walEnd: Lsn
      /** the server asks for a status update now */
      readonly replyRequested: boolean
    }
