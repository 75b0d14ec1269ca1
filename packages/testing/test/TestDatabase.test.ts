/**
 * Fresh databases are unique, isolated, and gone after their scope, even with open connections, an
 * active replication connection and slots left behind; `TwoDatabases` puts one on each shared server.
 */
import { assert, describe, it } from "@effect/vitest"
import {
  connectionUrl,
  createDatabase,
  dropDatabase,
  queryRows,
  type ServerInfo
} from "@enrich-sync/embedded"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import pg from "pg"
import * as copyStreams from "pg-copy-streams"
import { injectedServers } from "../src/GlobalSetup.ts"
import { TestDatabase, TwoDatabases } from "../src/TestDatabase.ts"

/** One statement on a connection of its own (a failure is a defect). */
const query = (url: string, sql: string, values: ReadonlyArray<unknown> = []) =>
  Effect.promise(() => queryRows(url, sql, values))

// `both` (COPY BOTH, for START_REPLICATION) exists in pg-copy-streams 7 but not in its type definitions
const copyBoth = (copyStreams as unknown as { both: (text: string) => pg.Submittable & NodeJS.EventEmitter })
  .both

const databaseExists = (server: ServerInfo, name: string) =>
  query(connectionUrl(server), "SELECT count(*)::int AS n FROM pg_database WHERE datname = $1", [name]).pipe(
    Effect.map((rows) => rows[0]!.n === 1)
  )

const slotsOf = (server: ServerInfo, name: string) =>
  query(connectionUrl(server), "SELECT slot_name FROM pg_replication_slots WHERE database = $1", [name]).pipe(
    Effect.map((rows) => rows.length)
  )

describe("TestDatabase", () => {
  it.effect("fresh databases are uniquely named, isolated, and dropped with their scope", () =>
    Effect.gen(function* () {
      const server = injectedServers().neon
      const names = yield* Effect.scoped(
        Effect.gen(function* () {
          const a = yield* TestDatabase.fresh(server, "Iso-Lated!")
          const b = yield* TestDatabase.fresh(server, "Iso-Lated!")
          assert.notStrictEqual(a.name, b.name)
          assert.match(a.name, /^iso_lated_[0-9a-f]{10}$/)
          yield* query(a.url, "CREATE TABLE only_in_a (v int)")
          const inA = yield* query(
            a.url,
            "SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'only_in_a'"
          )
          const inB = yield* query(
            b.url,
            "SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'only_in_a'"
          )
          assert.strictEqual(inA[0]!.n, 1)
          assert.strictEqual(inB[0]!.n, 0)
          assert.isTrue(yield* databaseExists(server, a.name))
          return [a.name, b.name] as const
        })
      )
      for (const name of names) assert.isFalse(yield* databaseExists(server, name))
    })
  )

  it.live("dropping terminates connections (an active walsender too) and drops the database's slots", () =>
    Effect.gen(function* () {
      const server = injectedServers().supabase
      const db = yield* Effect.promise(() => createDatabase(server, "slots"))
      yield* query(db.url, "CREATE TABLE t (v int)")
      yield* query(db.url, "CREATE PUBLICATION p FOR TABLE t")
      yield* query(db.url, "SELECT pg_create_logical_replication_slot('idle_slot', 'pgoutput')")
      yield* query(db.url, "SELECT pg_create_logical_replication_slot('streamed_slot', 'pgoutput')")

      // a connection left open in a transaction, and a replication connection streaming from a slot
      const open = new pg.Client({ connectionString: db.url })
      open.on("error", () => undefined)
      yield* Effect.promise(() => open.connect())
      yield* Effect.promise(() => open.query("BEGIN; SELECT * FROM t"))
      const replication = new pg.Client({
        connectionString: db.url,
        replication: "database"
      } as pg.ClientConfig)
      replication.on("error", () => undefined)
      yield* Effect.promise(() => replication.connect())
      const stream = replication.query(
        copyBoth(
          "START_REPLICATION SLOT streamed_slot LOGICAL 0/0 (proto_version '1', publication_names 'p')"
        )
      )
      stream.on("error", () => undefined)
      const active = yield* Effect.promise(async () => {
        for (let i = 0; i < 100; i++) {
          const rows = await new Promise<number>((resolve, reject) => {
            const c = new pg.Client({ connectionString: connectionUrl(server) })
            c.connect()
              .then(() =>
                c.query(
                  "SELECT count(*)::int AS n FROM pg_replication_slots WHERE slot_name = 'streamed_slot' AND active AND database = $1",
                  [db.name]
                )
              )
              .then((r) => resolve(r.rows[0].n), reject)
              .finally(() => c.end())
          })
          if (rows === 1) return true
          await new Promise((r) => setTimeout(r, 50))
        }
        return false
      })
      assert.isTrue(active, "the slot is held by a walsender")
      assert.strictEqual(yield* slotsOf(server, db.name), 2)

      yield* Effect.promise(() => dropDatabase(server, db.name))
      assert.isFalse(yield* databaseExists(server, db.name))
      assert.strictEqual(yield* slotsOf(server, db.name), 0)
      // dropping again is not an error
      yield* Effect.promise(() => dropDatabase(server, db.name))
      yield* Effect.promise(() => Promise.allSettled([open.end(), replication.end()]))
    })
  )

  it.effect("TwoDatabases: one fresh database per server, prepared, dropped with the layer", () =>
    Effect.gen(function* () {
      const servers = injectedServers()
      const prepared: Array<string> = []
      const layer = TwoDatabases.layer(
        (dbs) =>
          Effect.gen(function* () {
            yield* query(dbs.neon.url, "CREATE SCHEMA marketing")
            yield* query(
              dbs.workspace.url,
              "CREATE TABLE company_needs_enrichment (id bigserial PRIMARY KEY)"
            )
            prepared.push(dbs.neon.name, dbs.workspace.name)
          }),
        { prefix: "pair" }
      )
      const dbs = yield* Effect.scoped(
        Effect.gen(function* () {
          const dbs = yield* TwoDatabases
          assert.strictEqual(dbs.neon.server.port, servers.neon.port)
          assert.strictEqual(dbs.workspace.server.port, servers.supabase.port)
          assert.deepStrictEqual(prepared, [dbs.neon.name, dbs.workspace.name])
          const schemas = yield* query(
            dbs.neon.url,
            "SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'marketing'"
          )
          assert.strictEqual(schemas[0]!.n, 1)
          const tables = yield* query(
            dbs.workspace.url,
            "SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'company_needs_enrichment'"
          )
          assert.strictEqual(tables[0]!.n, 1)
          return dbs
        }).pipe(Effect.provide(layer))
      )
      assert.isFalse(yield* databaseExists(servers.neon, dbs.neon.name))
      assert.isFalse(yield* databaseExists(servers.supabase, dbs.workspace.name))
    })
  )

  it.effect("TwoDatabases: a failing prepare fails the layer and still drops both databases", () =>
    Effect.gen(function* () {
      const servers = injectedServers()
      let names: ReadonlyArray<string> = []
      const layer = TwoDatabases.layer((dbs) =>
        Effect.sync(() => {
          names = [dbs.neon.name, dbs.workspace.name]
        }).pipe(Effect.andThen(Effect.fail("migration failed" as const)))
      )
      const exit = yield* Effect.exit(
        Effect.gen(function* () {
          return yield* TwoDatabases
        }).pipe(Effect.provide(layer))
      )
      assert.isTrue(Exit.isFailure(exit))
      assert.strictEqual(names.length, 2)
      assert.isFalse(yield* databaseExists(servers.neon, names[0]!))
      assert.isFalse(yield* databaseExists(servers.supabase, names[1]!))
    })
  )
})
