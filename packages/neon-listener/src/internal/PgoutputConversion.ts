/**
 * The conversion of `pg-logical-replication`'s decoded pgoutput messages into ours
 * (`ReplicationMessage`): positions parsed to `bigint` (R5: never compared as text), the transaction id
 * unsigned, commit times as the message's microseconds (R6: the keepalive's timestamp is never used), and
 * the old row of an update or delete as its replica identity (`key`) or whole old row (`old`).
 *
 * Invariant: pure and cheap (it runs for every decoded change): a message and its relation's name are
 * the only allocations, nothing is kept. Only the library's types are read here; the library itself runs
 * in `ReplicationConnection`.
 */
import type { Lsn } from "@enrich-sync/core"
import { parseLsn } from "@enrich-sync/core"
import type { Pgoutput } from "pg-logical-replication"
import type { RelationName, ReplicationMessage } from "./ReplicationMessage.ts"

const relationName = (relation: Pgoutput.MessageRelation | undefined): RelationName | null =>
  relation === undefined ? null : { schema: relation.schema, name: relation.name }

const lsnOf = (text: string | null): Lsn => (text === null ? 0n : parseLsn(text))

/** A library message as ours; `null` for messages the listener ignores (relation, type, origin, ...). */
export const fromPgoutput = (message: Pgoutput.Message): ReplicationMessage | null => {
  switch (message.tag) {
    case "begin":
      return {
        _tag: "Begin",
        xid: message.xid >>> 0,
        finalLsn: lsnOf(message.commitLsn),
        commitTime: message.commitTime as bigint
      }
    case "commit":
      return {
        _tag: "Commit",
        commitLsn: lsnOf(message.commitLsn),
        endLsn: lsnOf(message.commitEndLsn),
        commitTime: message.commitTime as bigint
      }
    case "insert":
      return { _tag: "Insert", relation: relationName(message.relation)!, row: message.new }
    case "update":
      return {
        _tag: "Update",
        relation: relationName(message.relation)!,
        row: message.new,
        before: message.key ?? message.old
      }
    case "delete":
      return { _tag: "Delete", relation: relationName(message.relation)!, before: message.key ?? message.old }
    case "truncate":
      return {
        _tag: "Truncate",
        relations: message.relations.flatMap((r) => {
          const name = relationName(r)
          return name === null ? [] : [name]
        })
      }
    default:
      return null
  }
}
