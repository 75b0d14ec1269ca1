/**
 * Translates what `pg` and `pg-logical-replication` throw (and what the server reports) into a
 * `NeonListenerError` whose message says how to fix it. What a code means is core's `PostgresFailure`;
 * this module only words the listener's messages and picks the reason.
 *
 * Invariant: every message is redacted (no password, whatever the driver wrote), keeps the driver's
 * error as its `cause`, and is retryable only when retrying can help: connection losses, a slot that
 * another connection holds, and failures of a stream that had started.
 */
import {
  failureOfCode,
  failureOfMessage,
  postgresErrorFields,
  redactPatterns,
  redactUrl
} from "@enrich-sync/core"
import * as Redacted from "effect/Redacted"
import { NeonListenerError, type NeonListenerFailure } from "../NeonListenerError.ts"

/** The backend pid named in a 55006 "replication slot ... is active for PID n" message. */
const activePid = (message: string): number | undefined => {
  const match = /PID (\d+)/i.exec(message)
  return match === null ? undefined : Number(match[1])
}

/** What was going on when the error came, for its message and its reason. */
export interface ErrorContext {
  /** what the listener was doing, for the message (`starting replication from slot x`) */
  readonly doing: string
  readonly url: Redacted.Redacted<string>
  /** `stream` for errors after replication started: unknown ones are then retried */
  readonly phase: "connect" | "stream"
}

/**
 * Translates a driver or server error into a `NeonListenerError` whose message says how to fix it (a
 * `NeonListenerError` is returned as it is).
 */
export const toListenerError = (error: unknown, context: ErrorContext): NeonListenerError => {
  if (error instanceof NeonListenerError) return error
  const info = postgresErrorFields(error)
  const where = redactUrl(Redacted.value(context.url))
  const doing = context.doing
  const make = (
    reason: NeonListenerFailure,
    message: string,
    extra?: { readonly pid?: number | undefined }
  ) =>
    new NeonListenerError({
      reason,
      message: redactPatterns(message),
      ...(info.code === undefined ? {} : { code: info.code }),
      ...(extra?.pid === undefined ? {} : { pid: extra.pid }),
      cause: error
    })
  const text = `${info.message}${info.detail === undefined ? "" : ` (${info.detail})`}`
  if (/unsupported startup parameter: replication/i.test(info.message)) {
    return make(
      "PoolerUrl",
      `Neon replication needs the direct host, but ${where} is a connection pooler (${info.message}); set NEON_REPLICATION_URL to the direct URL (the host without "-pooler")`
    )
  }
  const failure = failureOfCode(info.code)
  switch (failure) {
    case "ObjectInUse": {
      const pid = activePid(info.message)
      return make(
        "SlotInUse",
        `${info.message} while ${doing}: another connection is following the slot (another enrich-sync daemon?); it is retried, or stop that process${pid === undefined ? "" : ` or run SELECT pg_terminate_backend(${pid})`}`,
        { pid }
      )
    }
    case "Authentication":
      return make(
        "Authentication",
        `Neon refused the login while ${doing}: ${info.message}; check the user and password in the URL (${where})`
      )
    case "PermissionDenied":
      if (/replication|walsender/i.test(info.message)) {
        return make(
          "NotReplicationRole",
          `the role in ${where} may not replicate (${info.message}); on Neon use a role created in the Console, CLI or API (roles created with SQL cannot get REPLICATION), elsewhere ALTER ROLE ... WITH REPLICATION`
        )
      }
      return make(
        "Authentication",
        `Neon denied permission while ${doing}: ${text}; use the database owner's role or grant the privilege`
      )
    case "MissingDatabase":
      return make(
        "Configuration",
        `${text} while ${doing}; fix the database name at the end of the URL (${where})`
      )
    case "Refused":
    case "UnknownHost":
    case "SocketLost":
    case "ServerClosed":
    case "ProtocolViolation":
    case "ConnectionLimit":
      return make("Unreachable", `cannot reach Neon at ${where} while ${doing}: ${text}; it is retried`)
  }
  // an error without a code the switch knows: its words may still say what happened
  switch (failureOfMessage(info.message)) {
    case "DroppedConnection":
      return make(
        "Unreachable",
        `the connection to Neon at ${where} dropped or timed out while ${doing}: ${text}; it is retried`
      )
    case "Tls":
      return make(
        "Configuration",
        `Neon and enrich-sync disagree on TLS while ${doing} (${text}); set or remove ?sslmode=require in the URL`
      )
  }
  // MissingObject: the slot or the publication vanished; ObjectNotInState: the slot was invalidated. The
  // next attempt's preflight recreates them.
  if (context.phase === "stream" || failure === "MissingObject" || failure === "ObjectNotInState") {
    return make(
      "Stream",
      `the replication stream from ${where} failed while ${doing}: ${text}; it is retried`
    )
  }
  return make(
    "Query",
    `Neon rejected a query while ${doing}: ${text}${info.hint === undefined ? "" : `; hint: ${info.hint}`}`
  )
}
