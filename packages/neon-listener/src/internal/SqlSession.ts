/**
 * A plain (non-replication) SQL session to Neon: the only module of this package that touches `pg`
 * directly (`pg-logical-replication` uses it underneath, in `ReplicationConnection`).
 *
 * Invariant: the session is closed when its scope closes (within a timeout), and every failure is a
 * translated `NeonListenerError`; a connection lost between queries is reported by the next query,
 * never as an unhandled `error` event.
 */
import { libpqConnectionString } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import pg from "pg"
import type { NeonListenerError } from "../NeonListenerError.ts"
import { toListenerError } from "./ErrorTranslation.ts"

/** The `application_name` every connection of the listener reports. */
export const applicationName = "enrich-sync"
/** How long opening a connection may take. */
export const connectTimeoutMillis = 15_000
/** How long closing a connection may take before it is left to the server. */
export const closeTimeout = "5 seconds"

/** A plain (non-replication) connection. */
export interface SqlSession {
  /** Runs one statement; rows come back as plain objects (positions as text, cast them `::text`). */
  readonly query: <Row extends object = Record<string, unknown>>(
    sql: string,
    params?: ReadonlyArray<unknown>
  ) => Effect.Effect<ReadonlyArray<Row>, NeonListenerError>
}

/** Opens a plain SQL session to `url`, closed when the scope closes; `doing` words its errors. */
export const openSession = (
  url: Redacted.Redacted<string>,
  doing: string
): Effect.Effect<SqlSession, NeonListenerError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        const client = new pg.Client({
          connectionString: libpqConnectionString(Redacted.value(url)),
          application_name: applicationName,
          connectionTimeoutMillis: connectTimeoutMillis,
          keepAlive: true
        })
        // A connection lost between queries is reported on the next query; do not crash on the event.
        client.on("error", () => {})
        try {
          await client.connect()
        } catch (error) {
          client.end().catch(() => {})
          throw error
        }
        return client
      },
      catch: (error) => toListenerError(error, { doing, url, phase: "connect" })
    }),
    (client) =>
      Effect.promise(() => client.end().catch(() => {})).pipe(Effect.timeout(closeTimeout), Effect.ignore)
  ).pipe(
    Effect.map(
      (client): SqlSession => ({
        query: <Row extends object>(sql: string, params?: ReadonlyArray<unknown>) =>
          Effect.tryPromise({
            try: () => client.query(sql, params === undefined ? [] : [...params]),
            catch: (error) => toListenerError(error, { doing, url, phase: "connect" })
          }).pipe(Effect.map((result) => result.rows as ReadonlyArray<Row>))
      })
    )
  )
