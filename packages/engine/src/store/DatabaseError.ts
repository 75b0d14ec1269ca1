/**
 * What can go wrong talking to a database, as one tagged error whose message names the problem and the
 * fix in one line, never a credential, and whose `reason` says whether retrying can help.
 */
import type { Side } from "@enrich-sync/core"
import { failureOfCode, failureOfMessage, postgresErrorFields, redactPatterns } from "@enrich-sync/core"
import * as Schema from "effect/Schema"

/** Why a database operation failed. */
export const DatabaseFailure = Schema.Literals([
  /** the server cannot be reached (refused, DNS, timeout, dropped connection): retrying may help */
  "Unreachable",
  /** wrong user or password, or no permission */
  "Authentication",
  /** the database named in the URL does not exist */
  "MissingDatabase",
  /** a table, column or function this project needs is missing or different: run `enrich-sync migrate` */
  "Schema",
  /** a serialization failure or deadlock: retrying helps */
  "Contention",
  /** the URL itself is wrong */
  "Configuration",
  /** any other error the server reported */
  "Query"
])
export type DatabaseFailure = typeof DatabaseFailure.Type

/** A failed database operation on one side. */
export class DatabaseError extends Schema.TaggedError<DatabaseError>()("DatabaseError", {
  side: Schema.Literals(["source", "workspace"]),
  reason: DatabaseFailure,
  /** one line: what went wrong and how to fix it (credentials redacted) */
  message: Schema.String,
  /** SQLSTATE or socket error code */
  code: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect())
}) {
  /** whether the same operation may succeed if tried again */
  get retryable(): boolean {
    return this.reason === "Unreachable" || this.reason === "Contention"
  }
}

/** How a side is named to the user, and the variable that configures it. */
export const sideNames: { readonly [S in Side]: { readonly label: string; readonly envVar: string } } = {
  source: { label: "Neon", envVar: "NEON_DATABASE_URL" },
  workspace: { label: "the workspace (Supabase)", envVar: "SUPABASE_DATABASE_URL" }
}

/** Translates a driver error into a `DatabaseError` with a message that says how to fix it. */
export const toDatabaseError = (side: Side, error: unknown, doing?: string): DatabaseError => {
  if (error instanceof DatabaseError) return error
  const info = postgresErrorFields(error)
  const { label, envVar } = sideNames[side]
  const what = doing === undefined ? "" : ` while ${doing}`
  const make = (reason: DatabaseFailure, message: string) =>
    new DatabaseError({
      side,
      reason,
      message: redactPatterns(message),
      ...(info.code === undefined ? {} : { code: info.code }),
      cause: error
    })
  switch (failureOfCode(info.code)) {
    case "Refused":
      return make(
        "Unreachable",
        `cannot connect to ${label}${what}: connection refused (${info.message}); check the host and port in ${envVar} and that the server is running`
      )
    case "UnknownHost":
      return make(
        "Unreachable",
        `cannot resolve the host of ${label}${what} (${info.message}); check the host name in ${envVar}`
      )
    case "SocketLost":
      return make(
        "Unreachable",
        `lost or could not open the connection to ${label}${what} (${info.message}); check the network and ${envVar}, it is retried`
      )
    case "Authentication":
      return make(
        "Authentication",
        `${label} refused the login${what}: ${info.message}; check the user and password in ${envVar}`
      )
    case "PermissionDenied":
      return make(
        "Authentication",
        `${label} denied permission${what}: ${info.message}; grant the role in ${envVar} the needed privileges or use the owner role`
      )
    case "MissingDatabase":
      return make(
        "MissingDatabase",
        `${label}${what}: ${info.message}; fix the database name at the end of ${envVar}`
      )
    case "MissingTableOrFunction":
      return make(
        "Schema",
        `${label} lacks what enrich-sync needs${what}: ${info.message}; run \`enrich-sync migrate\``
      )
    case "MissingColumn":
      return make(
        "Schema",
        `${label} has a table whose columns differ from what enrich-sync expects${what}: ${info.message}; run \`enrich-sync migrate\` (and \`enrich-sync status\` to see the differences)`
      )
    case "Contention":
      return make(
        "Contention",
        `${label} aborted a transaction because of concurrent work${what}: ${info.message}; it is retried`
      )
    case "ServerClosed":
      return make("Unreachable", `${label} closed the connection${what}: ${info.message}; it is retried`)
  }
  // a driver error without a code the switch knows: its words may still say what happened
  switch (failureOfMessage(info.message)) {
    case "DroppedConnection":
      return make(
        "Unreachable",
        `the connection to ${label} dropped or timed out${what} (${info.message}); check the network and ${envVar}, it is retried`
      )
    case "Tls":
      return make(
        "Configuration",
        /certificate|altnames|self[- ]signed|verify/i.test(info.message)
          ? `${label}'s certificate could not be verified${what} (${info.message}); with \`sslmode=verify-full\` in ${envVar} add \`sslrootcert=/path/to/ca.crt\` for a private authority (Supabase: Database Settings > SSL Configuration > Download certificate), or use \`sslmode=require\` (encrypted, not verified, as psql reads it)`
          : `${label} and enrich-sync disagree on TLS${what} (${info.message}); set \`?sslmode=require\` in ${envVar} for a server that requires TLS, or remove it for one that does not offer it`
      )
  }
  return make(
    "Query",
    `${label} rejected a query${what}: ${info.message}${info.detail === undefined ? "" : ` (${info.detail})`}${info.hint === undefined ? "" : `; hint: ${info.hint}`}`
  )
}
