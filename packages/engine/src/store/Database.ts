/**
 * One database, Neon (the source) or the workspace (Supabase), as a service over a connection pool, and
 * the read of a batch of keys that both sides' stores make.
 *
 * Invariant: a `transaction` either commits every statement of its body or none (the body's failure or
 * interruption rolls back; on interruption the running statement is cancelled first, so stopping is
 * prompt), and a connection is always returned to the pool, destroyed if it errored.
 */

import type { Readable } from "node:stream"
import type { Side } from "@enrich-sync/core"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { DatabaseError, sideNames, toDatabaseError } from "./DatabaseError.ts"
import type { Connection, Exchanged, Pool, PoolOptions, Result } from "./internal/Pg.ts"
import { openPool } from "./internal/Pg.ts"

/** A row as returned by a query. */
export type Row = Record<string, unknown>

/** Statements run on one connection (inside a transaction or not). */
export interface Session {
  readonly query: (
    text: string,
    params?: ReadonlyArray<unknown>
  ) => Effect.Effect<ReadonlyArray<Row>, DatabaseError>
  /** the whole result, with the affected row count */
  readonly execute: (text: string, params?: ReadonlyArray<unknown>) => Effect.Effect<Result, DatabaseError>
  /** `COPY ... FROM STDIN` fed by a readable of COPY text; returns the rows copied */
  readonly copyIn: (sql: string, from: Readable) => Effect.Effect<number, DatabaseError>
  /** `COPY ... TO STDOUT`: a readable of COPY text, valid while the session is */
  readonly copyOut: (sql: string) => Effect.Effect<Readable, DatabaseError>
  /**
   * several statements and the data of their `COPY ... FROM STDIN`s in one round trip (see
   * `Connection.exchange`); without `BEGIN` they run as one transaction. Only on a `session` (a failure
   * can leave its connection in a failed transaction, which the session's release then destroys)
   */
  readonly exchange: (
    text: string,
    copyIn?: ReadonlyArray<ReadonlyArray<Buffer>>
  ) => Effect.Effect<Exchanged, DatabaseError>
}

/** Options of a transaction. */
export interface TransactionOptions {
  /**
   * statements sent with `BEGIN` in one message (one round trip less), such as the transaction's settings;
   * without parameters
   */
  readonly begin?: string
}

/** A database of one side. */
export interface Database extends Session {
  readonly side: Side
  /**
   * runs `body` in a transaction on one connection; `body` also gets the rows the statements sent with
   * `BEGIN` returned (see `TransactionOptions.begin`)
   */
  readonly transaction: <A, E, R>(
    body: (tx: Session, begun: ReadonlyArray<Row>) => Effect.Effect<A, E, R>,
    options?: TransactionOptions
  ) => Effect.Effect<A, E | DatabaseError, R>
  /** a connection of its own for the scope (COPY streams, session settings) */
  readonly session: Effect.Effect<Session, DatabaseError, Scope.Scope>
}

const sessionOf = (side: Side, connection: Connection): Session => ({
  query: (text, params) =>
    Effect.tryPromise({
      try: () => connection.query(text, params),
      catch: (e) => toDatabaseError(side, e)
    }).pipe(Effect.map((r) => r.rows)),
  execute: (text, params) =>
    Effect.tryPromise({ try: () => connection.query(text, params), catch: (e) => toDatabaseError(side, e) }),
  copyIn: (sql, from) =>
    Effect.tryPromise({
      try: () => connection.copyIn(sql, from),
      catch: (e) => toDatabaseError(side, e, "copying rows in")
    }),
  copyOut: (sql) =>
    Effect.try({
      try: () => connection.copyOut(sql),
      catch: (e) => toDatabaseError(side, e, "copying rows out")
    }),
  exchange: (text, copyIn) =>
    Effect.tryPromise({
      try: () => connection.exchange(text, copyIn),
      catch: (e) => toDatabaseError(side, e)
    })
})

/** Builds the service of one side over a pool (`poolOptions`: the pool's, for its transactions' settings). */
export const makeDatabase = (side: Side, pool: Pool, poolOptions: PoolOptions = {}): Database => {
  const limit = poolOptions.idleInTransactionTimeoutMs
  const begin =
    limit === undefined
      ? "BEGIN"
      : `BEGIN; SET LOCAL idle_in_transaction_session_timeout = ${Math.max(1, Math.round(limit))}`
  const checkout = Effect.acquireRelease(
    Effect.tryPromise({ try: () => pool.connect(), catch: (e) => toDatabaseError(side, e, "connecting") }),
    (connection, exit) =>
      Effect.sync(() =>
        connection.release(exit._tag === "Failure" ? new Error("released after a failure") : undefined)
      )
  )
  const session = Effect.map(checkout, (c) => sessionOf(side, c))
  const checkoutWithConnection = Effect.map(checkout, (c) => [sessionOf(side, c), c] as const)
  /** Cancels the statement a connection is running, from another connection. */
  const cancelStatement = (processId: number | undefined) =>
    processId === undefined
      ? Effect.void
      : Effect.tryPromise(() => pool.query("SELECT pg_cancel_backend($1)", [processId])).pipe(
          Effect.timeout("5 seconds"),
          Effect.ignore
        )
  return {
    side,
    query: (text, params) =>
      Effect.tryPromise({ try: () => pool.query(text, params), catch: (e) => toDatabaseError(side, e) }).pipe(
        Effect.map((r) => r.rows)
      ),
    execute: (text, params) =>
      Effect.tryPromise({ try: () => pool.query(text, params), catch: (e) => toDatabaseError(side, e) }),
    copyIn: (sql, from) => Effect.scoped(Effect.flatMap(session, (s) => s.copyIn(sql, from))),
    copyOut: () =>
      Effect.die(
        new Error("copyOut needs a session of its own: use `session` and keep it open while reading")
      ),
    exchange: () => Effect.die(new Error("exchange needs a session of its own: use `session`")),
    session,
    transaction: (body, options) =>
      Effect.scoped(
        Effect.gen(function* () {
          const [tx, connection] = yield* checkoutWithConnection
          // a statement sent with BEGIN that fails leaves the transaction aborted: the connection is then
          // released as failed, so the pool destroys it
          const begun = yield* tx.query(options?.begin === undefined ? begin : `${begin}; ${options.begin}`)
          return yield* body(tx, begun).pipe(
            Effect.onExit((exit) => {
              if (exit._tag === "Success") return tx.query("COMMIT").pipe(Effect.asVoid)
              // interrupted (Ctrl-C, shutdown): a statement may still be running, and the ROLLBACK would
              // queue behind it, so cancel it first
              const cancel = Cause.hasInterrupts(exit.cause)
                ? cancelStatement(connection.processId)
                : Effect.void
              return cancel.pipe(Effect.andThen(tx.query("ROLLBACK")), Effect.ignore)
            })
          )
        })
      )
  }
}

/** Checks a connection string before anything connects, naming the variable and the fix. */
export const parseDatabaseUrl = (side: Side, url: string): Effect.Effect<string, DatabaseError> => {
  const { label, envVar } = sideNames[side]
  const fail = (problem: string) =>
    Effect.fail(
      new DatabaseError({
        side,
        reason: "Configuration",
        message: `${envVar} ${problem}; set it to postgresql://USER:PASSWORD@HOST:5432/DATABASE (the ${label} connection string)`
      })
    )
  if (url.trim() === "") return fail("is empty")
  let parsed: URL
  try {
    parsed = new URL(url.trim())
  } catch {
    return fail("is not a URL")
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    return fail(`has the scheme "${parsed.protocol.replace(":", "")}", not postgresql`)
  }
  if (parsed.hostname === "") return fail("has no host")
  return Effect.succeed(url.trim())
}

const layerFor = <I>(
  tag: Context.Service<I, Database>,
  side: Side,
  url: Redacted.Redacted<string>,
  options?: PoolOptions
) =>
  Layer.effect(
    tag,
    Effect.gen(function* () {
      const checked = yield* parseDatabaseUrl(side, Redacted.value(url))
      const pool = yield* Effect.acquireRelease(
        Effect.sync(() => openPool(checked, options)),
        (p) => Effect.promise(() => p.end()).pipe(Effect.timeout("5 seconds"), Effect.ignore)
      )
      return makeDatabase(side, pool, options)
    })
  )

/** Neon: the invalid tables, the master tables and the validation log. */
export class SourceDatabase extends Context.Service<SourceDatabase, Database>()(
  "@enrich-sync/engine/SourceDatabase"
) {
  /** a pool on `url` (redacted: it never prints) */
  static readonly layer = (url: Redacted.Redacted<string>, options?: PoolOptions) =>
    layerFor(SourceDatabase, "source", url, options)
}

/** The Supabase workspace: the enrichment tables and the conflict log. */
export class WorkspaceDatabase extends Context.Service<WorkspaceDatabase, Database>()(
  "@enrich-sync/engine/WorkspaceDatabase"
) {
  /** a pool on `url` (redacted: it never prints) */
  static readonly layer = (url: Redacted.Redacted<string>, options?: PoolOptions) =>
    layerFor(WorkspaceDatabase, "workspace", url, options)
}

/**
 * The rows of a batch of keys on the side `database`: `sql` reads them (its one parameter, the keys), and
 * `toRow` makes each into what the caller reads, set under its key (column `keyColumn`, as text). A key
 * without a row is missing from the map; no keys, no query.
 */
export const readByKey = <I, A>(
  database: Context.Service<I, Database>,
  sql: string,
  keyColumn: string,
  keys: ReadonlyArray<string>,
  toRow: (row: Row, key: string) => A
): Effect.Effect<ReadonlyMap<string, A>, DatabaseError, I> =>
  Effect.gen(function* () {
    const read = new Map<string, A>()
    if (keys.length === 0) return read
    const db = yield* database
    for (const row of yield* db.query(sql, [keys])) {
      const key = String(row[keyColumn])
      read.set(key, toRow(row, key))
    }
    return read
  })
