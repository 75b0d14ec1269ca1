/**
 * What can go wrong starting or stopping a PostgreSQL server of this package, as one tagged error.
 *
 * Invariant: the message names the server and what failed (the postmaster's log lines when it exited
 * early), never its password.
 */
import * as Schema from "effect/Schema"

/** A server could not be started or stopped. */
export class PostgresServerError extends Schema.TaggedError<PostgresServerError>()("PostgresServerError", {
  server: Schema.String,
  /** `Start`: not running (bad binaries, data directory, port in use); `Stop`: did not stop in time */
  reason: Schema.Literals(["Start", "Stop"]),
  message: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {}

/** A start failure of `server`, with `cause` kept when there is one. */
export const startFailure = (server: string, message: string, cause?: unknown): PostgresServerError =>
  new PostgresServerError(
    cause === undefined ? { server, reason: "Start", message } : { server, reason: "Start", message, cause }
  )

/**
 * `cause` as a start failure of `server`: itself when it is one already, else wrapped with its message
 * (`otherwise` when it has none).
 */
export const asStartFailure = (server: string, cause: unknown, otherwise: string): PostgresServerError =>
  cause instanceof PostgresServerError
    ? cause
    : startFailure(server, cause instanceof Error ? cause.message : otherwise, cause)
