/**
 * A small Neon-like source for the listener's integration tests: tables shaped like the invalid tables
 * (`id bigserial primary key`, a unique, NOT NULL Barton ID made the replica identity, as the migrations
 * do), a SQL client, a listener bound to the test's scope with a consumer that records what it gets, and
 * polling helpers (no fixed sleeps where a condition can be awaited), a role that may not replicate, and the
 * check of a failure's message. A test that needs a server to itself gets one with its source
 * (`sourceOfItsOwn`).
 */
import { assert } from "@effect/vitest"
import { type Lsn, parseLsn } from "@enrich-sync/core"
import type { ServerInfo } from "@enrich-sync/testing"
import { PostgresServer, TestDatabase } from "@enrich-sync/testing"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import type * as Latch from "effect/Latch"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import pg from "pg"
import type { Changes, ListenerEvent } from "../../src/ListenerEvent.ts"
import { NeonListener } from "../../src/NeonListener.ts"
import type { FollowedTable, NeonListenerConfig } from "../../src/NeonListenerConfig.ts"
import type { NeonListenerError } from "../../src/NeonListenerError.ts"

export const company: FollowedTable = {
  schema: "marketing",
  name: "company_invalid",
  key: "company_unique_id"
}
export const people: FollowedTable = { schema: "marketing", name: "people_invalid", key: "unique_id" }
export const followed: ReadonlyArray<FollowedTable> = [company, people]

export const schemaSql = [
  "CREATE SCHEMA marketing",
  `CREATE TABLE marketing.company_invalid (
     id bigserial PRIMARY KEY,
     company_unique_id text NOT NULL UNIQUE,
     company_name text,
     validation_errors jsonb,
     updated_at timestamptz NOT NULL DEFAULT now()
   )`,
  "ALTER TABLE marketing.company_invalid REPLICA IDENTITY USING INDEX company_invalid_company_unique_id_key",
  `CREATE TABLE marketing.people_invalid (
     id bigserial PRIMARY KEY,
     unique_id text NOT NULL UNIQUE,
     full_name text,
     updated_at timestamptz NOT NULL DEFAULT now()
   )`,
  "ALTER TABLE marketing.people_invalid REPLICA IDENTITY USING INDEX people_invalid_unique_id_key",
  "CREATE TABLE public.unrelated (id serial PRIMARY KEY, note text)"
]

/** A plain SQL client for the test. */
export interface Sql {
  readonly query: <Row extends object = Record<string, unknown>>(
    text: string,
    params?: ReadonlyArray<unknown>
  ) => Effect.Effect<ReadonlyArray<Row>>
}

/** A pg client bound to the scope. */
export const connect = (url: string): Effect.Effect<Sql, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const client = new pg.Client({ connectionString: url })
      client.on("error", () => {})
      await client.connect()
      return client
    }),
    (client) =>
      Effect.promise(() => client.end().catch(() => {})).pipe(Effect.timeout("5 seconds"), Effect.ignore)
  ).pipe(
    Effect.map((client) => ({
      query: <Row extends object>(text: string, params?: ReadonlyArray<unknown>) =>
        Effect.promise(() => client.query(text, params === undefined ? [] : [...params])).pipe(
          Effect.map((r) => r.rows as ReadonlyArray<Row>)
        )
    }))
  )

/** A fresh database on `server` with the source tables; `slot` is named after the database. */
export interface Source {
  readonly name: string
  readonly url: string
  readonly sql: Sql
  readonly config: NeonListenerConfig
  /** the slot and the publication `config` names */
  readonly slot: string
  readonly publication: string
}

export const freshSource = (
  server: ServerInfo,
  prefix: string,
  options: { readonly identity?: boolean } = {}
): Effect.Effect<Source, never, Scope.Scope> =>
  Effect.gen(function* () {
    const db = yield* TestDatabase.fresh(server, prefix)
    const sql = yield* connect(db.url)
    for (const statement of schemaSql) {
      if (options.identity === false && statement.includes("REPLICA IDENTITY")) continue
      yield* sql.query(statement)
    }
    const slot = db.name
    const publication = `${db.name}_pub`
    return {
      name: db.name,
      url: db.url,
      sql,
      slot,
      publication,
      config: {
        url: Redacted.make(db.url),
        slot,
        publication,
        tables: followed,
        reconnectBase: "50 millis",
        reconnectCap: "1 second",
        slotBusyTimeout: "5 seconds"
      }
    }
  })

/**
 * A fresh source on a PostgreSQL server of the test's own (`nl-<name>`, its database `nl_<name>...`): no
 * other test's WAL reaches its slot, and the test may restart the server.
 */
export const sourceOfItsOwn = (name: string) =>
  Effect.gen(function* () {
    const server = yield* PostgresServer.scoped({ name: `nl-${name}` })
    return { server, source: yield* freshSource(server, `nl_${name}`) }
  })

/** `url` with its user and password replaced. */
export const withUser = (url: string, user: string, password: string) => {
  const u = new URL(url)
  u.username = user
  u.password = password
  return u.toString()
}

/**
 * A role on `source`'s server that may log in with `password` but not replicate (dropped with the scope),
 * and `source`'s URL as that role.
 */
export const roleWithoutReplication = (source: Source, password: string) =>
  Effect.gen(function* () {
    const role = `${source.name}_r`
    yield* source.sql.query(`CREATE ROLE ${role} LOGIN NOREPLICATION PASSWORD '${password}'`)
    yield* Effect.addFinalizer(() => source.sql.query(`DROP ROLE IF EXISTS ${role}`).pipe(Effect.ignore))
    return { role, url: withUser(source.url, role, password) }
  })

/** Polls `check` every 25 ms until it returns a value other than `undefined`; dies after `timeout`. */
export const eventually = <A, R = never>(
  what: string,
  check: Effect.Effect<A | undefined, never, R>,
  timeout: Duration.Input = "20 seconds"
): Effect.Effect<A, never, R> =>
  Effect.gen(function* () {
    const deadline = (yield* Clock.currentTimeMillis) + Duration.toMillis(Duration.fromInputUnsafe(timeout))
    while (true) {
      const value = yield* check
      if (value !== undefined) return value
      if ((yield* Clock.currentTimeMillis) > deadline)
        return yield* Effect.die(new Error(`timed out waiting for ${what}`))
      yield* Effect.sleep("25 millis")
    }
  })

/** The slot's confirmed position as Postgres prints it, or undefined when there is no slot. */
export const slotRow = (sql: Sql, slot: string) =>
  sql
    .query<{ confirmed: string | null; active_pid: number | null; restart: string | null }>(
      "SELECT confirmed_flush_lsn::text AS confirmed, active_pid, restart_lsn::text AS restart FROM pg_replication_slots WHERE slot_name = $1",
      [slot]
    )
    .pipe(Effect.map((rows) => rows[0]))

/** Waits until the slot's confirmed position is at or past `lsn`. */
export const slotReaches = (sql: Sql, slot: string, lsn: Lsn, what: string) =>
  eventually(
    what,
    slotRow(sql, slot).pipe(
      Effect.map((row) => (row?.confirmed != null && parseLsn(row.confirmed) >= lsn ? true : undefined))
    )
  )

/** Waits until a walsender holds the slot, and returns its pid. */
export const walsenderPid = (sql: Sql, slot: string, what = "an active walsender") =>
  eventually(what, slotRow(sql, slot).pipe(Effect.map((row) => row?.active_pid ?? undefined)))

/** A running listener and what its consumer has received so far. */
export interface Running {
  readonly listener: NeonListener["Service"]
  readonly events: Array<ListenerEvent>
  /** the stream's failure, once it failed */
  readonly failure: () => NeonListenerError | undefined
}

/**
 * Starts a listener for the scope and a consumer that records every event and, when `autoAck`, acks each
 * transaction's last chunk right away (optionally after `delay` per event, a slow consumer).
 */
export const startListener = (
  config: NeonListenerConfig,
  options: {
    readonly autoAck?: boolean
    readonly delay?: Duration.Input
    /** the consumer takes events only while this latch is open */
    readonly gate?: Latch.Latch
  } = {}
): Effect.Effect<Running, NeonListenerError, Scope.Scope> =>
  Effect.gen(function* () {
    const context = yield* Layer.build(NeonListener.layer(config))
    const listener = Context.get(context, NeonListener)
    const events: Array<ListenerEvent> = []
    let failure: NeonListenerError | undefined
    const fiber = yield* listener.events.pipe(
      Stream.runForEach((event) =>
        Effect.gen(function* () {
          if (options.delay !== undefined) yield* Effect.sleep(options.delay)
          if (options.gate !== undefined) yield* options.gate.await
          events.push(event)
          if ((options.autoAck ?? true) && event._tag === "Changes" && event.last)
            yield* listener.ack(event.endLsn)
        })
      ),
      Effect.catch((error) =>
        Effect.sync(() => {
          failure = error
        })
      ),
      Effect.forkScoped
    )
    yield* Effect.addFinalizer(() => Fiber.interrupt(fiber))
    return { listener, events, failure: () => failure }
  })

/** Waits until the listener is streaming. */
export const streaming = (running: Running) =>
  eventually(
    "streaming",
    running.listener.status.pipe(Effect.map((s) => (s.state === "streaming" ? s : undefined)))
  )

/** The `Changes` among `events`, in order. */
export const changesOf = (events: ReadonlyArray<ListenerEvent>): Array<Changes> =>
  events.filter((e): e is Changes => e._tag === "Changes")

/** The keys delivered so far, in order, as `table:key`. */
export const deliveredKeys = (events: ReadonlyArray<ListenerEvent>): ReadonlyArray<string> =>
  events.flatMap((e) => (e._tag === "Changes" ? e.changes.map((c) => `${c.table.name}:${c.key}`) : []))

/** A Barton-like id for test row `n`. */
export const bartonId = (n: number) =>
  `04.04.01.${String(Math.floor(n / 100000) % 100).padStart(2, "0")}.${String(n % 100000).padStart(5, "0")}.${String(n % 1000).padStart(3, "0")}`

/** `error` has `reason`, matches every pattern, and never shows `secret` (in its message or its string). */
export const expectFailure = (
  error: NeonListenerError,
  reason: NeonListenerError["reason"],
  patterns: ReadonlyArray<RegExp>,
  secret: string
) => {
  assert.strictEqual(error.reason, reason, error.message)
  for (const p of patterns) assert.match(error.message, p)
  assert.notInclude(error.message, secret)
  assert.notInclude(String(error), secret)
}
