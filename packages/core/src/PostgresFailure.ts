/**
 * What a failed talk with Postgres means, read from the error alone: the SQLSTATE a server sends, the Node
 * code of a socket error, or, for a driver error without a code, the driver's words. Pure: no driver is
 * imported; every translator of driver errors into this project's tagged errors (the engine's database
 * errors, the listener's replication errors) classifies through here and only words its own messages.
 *
 * Invariant: a code is classified the same way wherever it arrives; codes not listed are `undefined`
 * (the translator's "any other error").
 */

/** What an error names, coarse enough to decide a reaction, fine enough for each translator's message. */
export type PostgresFailure =
  /** `ECONNREFUSED`: nothing listens at the host and port */
  | "Refused"
  /** `ENOTFOUND`, `EAI_AGAIN`: the host name does not resolve (now) */
  | "UnknownHost"
  /** `ETIMEDOUT`, `ECONNRESET`, `EPIPE`, `EHOSTUNREACH`, `ENETUNREACH`: the socket could not open or broke */
  | "SocketLost"
  /**
   * `57P01`-`57P03`, `57P05`, `25P03`, `08000`, `08001`, `08003`, `08004`, `08006`: the server ended or refused
   * the session (`25P03`, `57P05`: it sat idle, in a transaction or not, past the session's timeout)
   */
  | "ServerClosed"
  /** `08P01`: the protocol was violated (a connection in a state the server no longer follows) */
  | "ProtocolViolation"
  /** `53300`, `53400`: too many connections, or another configured limit */
  | "ConnectionLimit"
  /** a driver error without a code whose words say the connection dropped or timed out */
  | "DroppedConnection"
  /** a driver error without a code whose words are about SSL, TLS or certificates */
  | "Tls"
  /** `28P01`, `28000`: the login was refused */
  | "Authentication"
  /** `42501`: the role lacks a privilege */
  | "PermissionDenied"
  /** `3D000`: the database named does not exist */
  | "MissingDatabase"
  /** `42P01`, `3F000`, `42883`: a table, schema or function is missing */
  | "MissingTableOrFunction"
  /** `42703`: a column is missing */
  | "MissingColumn"
  /** `42704`: another named object (a replication slot, a publication, a type, a role) is missing */
  | "MissingObject"
  /** `40001`, `40P01`, `55P03`: a serialization failure, a deadlock, a lock not available */
  | "Contention"
  /** `55006`: the object is in use (a replication slot another connection follows) */
  | "ObjectInUse"
  /** `55000`: the object is not in the state the operation needs (an invalidated slot) */
  | "ObjectNotInState"
  /** `23505`: a unique constraint was violated */
  | "UniqueViolation"

const byCode: { readonly [code: string]: PostgresFailure } = {
  ECONNREFUSED: "Refused",
  ENOTFOUND: "UnknownHost",
  EAI_AGAIN: "UnknownHost",
  ETIMEDOUT: "SocketLost",
  ECONNRESET: "SocketLost",
  EPIPE: "SocketLost",
  EHOSTUNREACH: "SocketLost",
  ENETUNREACH: "SocketLost",
  "57P01": "ServerClosed",
  "57P02": "ServerClosed",
  "57P03": "ServerClosed",
  "57P05": "ServerClosed",
  "25P03": "ServerClosed",
  "08000": "ServerClosed",
  "08001": "ServerClosed",
  "08003": "ServerClosed",
  "08004": "ServerClosed",
  "08006": "ServerClosed",
  "08P01": "ProtocolViolation",
  "53300": "ConnectionLimit",
  "53400": "ConnectionLimit",
  "28P01": "Authentication",
  "28000": "Authentication",
  "42501": "PermissionDenied",
  "3D000": "MissingDatabase",
  "42P01": "MissingTableOrFunction",
  "3F000": "MissingTableOrFunction",
  "42883": "MissingTableOrFunction",
  "42703": "MissingColumn",
  "42704": "MissingObject",
  "40001": "Contention",
  "40P01": "Contention",
  "55P03": "Contention",
  "55006": "ObjectInUse",
  "55000": "ObjectNotInState",
  "23505": "UniqueViolation"
}

/**
 * The words of `pg` and `pg-logical-replication` for a connection that dropped or timed out without a
 * code (`timeout expired`, `Connection terminated unexpectedly`, `... is not queryable`, ...).
 */
const droppedConnectionWords =
  /timeout expired|timed out|Connection terminated|ended unexpectedly|not queryable|connection error|socket hang up|socket closed|Client was closed|Connection ended|ECONN/i

const tlsWords = /SSL|TLS|certificate/i

/** The failure a SQLSTATE or Node socket error code names; `undefined` for a missing or unlisted code. */
export const failureOfCode = (code: string | undefined): PostgresFailure | undefined =>
  code === undefined || !Object.hasOwn(byCode, code) ? undefined : byCode[code]

/**
 * The failure a driver error's message names when its code does not (`DroppedConnection` or `Tls`);
 * `undefined` for any other message.
 */
export const failureOfMessage = (message: string): "DroppedConnection" | "Tls" | undefined =>
  droppedConnectionWords.test(message) ? "DroppedConnection" : tlsWords.test(message) ? "Tls" : undefined

const transient: ReadonlySet<PostgresFailure> = new Set<PostgresFailure>([
  "Refused",
  "UnknownHost",
  "SocketLost",
  "ServerClosed",
  "ProtocolViolation",
  "ConnectionLimit",
  "DroppedConnection",
  "Contention"
])

/** Whether the same operation may succeed if tried again (the connection or a lock may come back). */
export const isTransientFailure = (failure: PostgresFailure | undefined): boolean =>
  failure !== undefined && transient.has(failure)

/** Whether the failure is about reaching the server (the session is gone or never was), not about a query. */
export const isConnectionFailure = (failure: PostgresFailure | undefined): boolean =>
  failure !== undefined && failure !== "Contention" && transient.has(failure)

/** The fields of a driver error that classifying and describing it need. */
export interface PostgresErrorFields {
  /** the SQLSTATE of a server error, the Node code (`ECONNREFUSED`, ...) of a socket error */
  readonly code: string | undefined
  readonly message: string
  readonly detail: string | undefined
  readonly hint: string | undefined
  readonly table: string | undefined
  readonly column: string | undefined
}

const text = (value: unknown): string | undefined =>
  typeof value === "string" && value !== "" ? value : undefined

/**
 * Reads the fields of anything a driver threw (an `Error` with a server's fields, an `AggregateError` of
 * the addresses a connect tried, which carries them on its first error, or not an object at all).
 */
export const postgresErrorFields = (error: unknown): PostgresErrorFields => {
  const e = (typeof error === "object" && error !== null ? error : {}) as Record<string, unknown>
  const nested =
    Array.isArray(e.errors) && e.errors.length > 0 ? (e.errors[0] as Record<string, unknown>) : undefined
  return {
    code: text(e.code) ?? text(nested?.code),
    message: text(e.message) ?? text(nested?.message) ?? String(error),
    detail: text(e.detail),
    hint: text(e.hint),
    table: text(e.table),
    column: text(e.column)
  }
}
