/**
 * What can stop the Neon listener, as one tagged error whose message names the problem and its fix in
 * one line (never a password: URLs are redacted), and whose `reason` says whether retrying can help.
 */
import * as Schema from "effect/Schema"

/** Why the listener (or its preflight) failed. */
export const NeonListenerFailure = Schema.Literals([
  /** the URL is Neon's `-pooler` (PgBouncer) host, which cannot replicate */
  "PoolerUrl",
  /** `wal_level` is not `logical`: logical replication is off */
  "WalLevelNotLogical",
  /** the role may not replicate (no REPLICATION attribute) */
  "NotReplicationRole",
  /** a followed table does not exist: run the migrations */
  "MissingTable",
  /** a followed table's replica identity does not include its key column, so deletes would lose the key */
  "ReplicaIdentity",
  /** the publication exists but does not publish inserts, updates, deletes and truncates */
  "Publication",
  /** a slot of that name exists but is not a pgoutput logical slot of this database */
  "SlotMismatch",
  /** another connection holds the slot (retrying helps once it lets go) */
  "SlotInUse",
  /** the server cannot be reached or dropped the connection (retrying helps) */
  "Unreachable",
  /** the replication stream broke (a protocol or decoding failure; retrying helps) */
  "Stream",
  /** wrong user or password, or no permission */
  "Authentication",
  /** the configuration itself is wrong (a malformed URL, slot or publication name) */
  "Configuration",
  /** any other error the server reported */
  "Query"
])
export type NeonListenerFailure = typeof NeonListenerFailure.Type

const retryableReasons: ReadonlySet<NeonListenerFailure> = new Set(["SlotInUse", "Unreachable", "Stream"])

/** The listener or its preflight failed. */
export class NeonListenerError extends Schema.TaggedError<NeonListenerError>()("NeonListenerError", {
  reason: NeonListenerFailure,
  /** one line: what went wrong and how to fix it (credentials redacted) */
  message: Schema.String,
  /** SQLSTATE or socket error code */
  code: Schema.optional(Schema.String),
  /** for `SlotInUse`: the backend that holds the slot */
  pid: Schema.optional(Schema.Number),
  cause: Schema.optional(Schema.Defect())
}) {
  /** whether the same step may succeed if tried again */
  get retryable(): boolean {
    return retryableReasons.has(this.reason)
  }
}
