/**
 * Databases made for a while on a real server: named `<prefix>_<10 hex>` from any prefix (made safe, never
 * colliding, even when made all at once), and gone once dropped or once their scope closes, whatever was
 * left in them: an open session, logical slots (a temporary one a session holds, as the Realtime stand-in's
 * feed holds its own, and one nobody holds), a name that needs quoting. (A walsender streaming from a slot:
 * `@enrich-sync/testing`'s `TestDatabase.test.ts`.)
 */
import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import pg from "pg"
import { queryRows } from "../src/Client.ts"
import { createDatabase, dropDatabase, scopedDatabase } from "../src/Databases.ts"
import { connectionUrl, type ServerInfo } from "../src/PostgresServer.ts"
import { injectedServers } from "./support/Servers.ts"

const exists = (server: ServerInfo, name: string) =>
  Effect.promise(() =>
    queryRows(connectionUrl(server), "SELECT count(*)::int AS n FROM pg_database WHERE datname = $1", [name])
  ).pipe(Effect.map(([row]) => row?.n === 1))

/** A session left open on `url` inside a transaction (it has read a table), closed with the scope. */
const openSession = (url: string) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const client = new pg.Client({ connectionString: url })
      client.on("error", () => undefined)
      await client.connect()
      await client.query("BEGIN")
      await client.query("SELECT count(*) FROM pg_class")
      return client
    }),
    (client) => Effect.promise(() => client.end().catch(() => undefined))
  )

describe("Databases", () => {
  it.effect("names a database after any prefix, made safe, with a random suffix", () =>
    Effect.gen(function* () {
      const server = injectedServers().neon
      const cases: ReadonlyArray<readonly [string, string]> = [
        ["Iso-Lated!", "iso_lated"],
        ["", "db"],
        ["123", "db"],
        ["__9lives", "lives"],
        ["a--", "a"],
        ["Ünïcode Names", "n_code_names"],
        ["x".repeat(39) + "-tail", "x".repeat(39)],
        ["y".repeat(80), "y".repeat(40)]
      ]
      const made = yield* Effect.forEach(
        cases,
        ([prefix]) => Effect.promise(() => createDatabase(server, prefix)),
        {
          concurrency: "unbounded"
        }
      )
      try {
        made.forEach((db, i) => {
          const [prefix, start] = cases[i]!
          assert.match(db.name, /^[a-z][a-z0-9_]*_[0-9a-f]{10}$/, prefix)
          assert.strictEqual(db.name.slice(0, -11), start, prefix)
          assert.isAtMost(Buffer.byteLength(db.name), 63, prefix)
        })
        // each is a database of its own, reachable at its URL
        for (const db of made) {
          const [row] = yield* Effect.promise(() => queryRows(db.url, "SELECT current_database() AS name"))
          assert.strictEqual(row?.name, db.name)
        }
      } finally {
        yield* Effect.forEach(made, (db) => Effect.promise(() => dropDatabase(server, db.name)), {
          concurrency: "unbounded"
        })
      }
      for (const db of made) assert.isFalse(yield* exists(server, db.name))
    })
  )

  it.effect("databases made all at once with one prefix never collide", () =>
    Effect.gen(function* () {
      const server = injectedServers().supabase
      const names = yield* Effect.scoped(
        Effect.gen(function* () {
          const dbs = yield* Effect.all(
            Array.from({ length: 4 }, () => scopedDatabase(server, "together")),
            { concurrency: "unbounded" }
          )
          const names = dbs.map((db) => db.name)
          assert.strictEqual(new Set(names).size, names.length)
          for (const name of names) assert.isTrue(yield* exists(server, name))
          return names
        })
      )
      for (const name of names) assert.isFalse(yield* exists(server, name))
    })
  )

  it.effect("drops a database with a session left open in it, and one whose name needs quoting", () =>
    Effect.gen(function* () {
      const server = injectedServers().neon
      const db = yield* Effect.promise(() => createDatabase(server, "left_open"))
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* openSession(db.url)
          yield* Effect.promise(() => dropDatabase(server, db.name))
          assert.isFalse(yield* exists(server, db.name))
        })
      )
      // gone already: no error
      yield* Effect.promise(() => dropDatabase(server, db.name))

      // a quote, a space, capitals (connectionUrl cannot reach a name with ";", see the report)
      const odd = `Odd "Name" ${db.name}`
      yield* Effect.promise(() =>
        queryRows(connectionUrl(server), `CREATE DATABASE "${odd.replaceAll('"', '""')}"`)
      )
      assert.isTrue(yield* exists(server, odd))
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* openSession(connectionUrl(server, odd))
          yield* Effect.promise(() => dropDatabase(server, odd))
        })
      )
      assert.isFalse(yield* exists(server, odd))
    })
  )

  it.effect(
    "drops a database with logical slots left in it: one a session holds (temporary), one nobody holds",
    () =>
      Effect.gen(function* () {
        const server = injectedServers().supabase
        const db = yield* Effect.promise(() => createDatabase(server, "temporary_slot"))
        yield* Effect.scoped(
          Effect.gen(function* () {
            const session = yield* openSession(db.url)
            yield* Effect.promise(() => session.query("COMMIT"))
            yield* Effect.promise(() =>
              session.query("SELECT pg_create_logical_replication_slot('held_here', 'pgoutput', true)")
            )
            yield* Effect.promise(() =>
              queryRows(db.url, "SELECT pg_create_logical_replication_slot('left_behind', 'pgoutput')")
            )
            const slots = yield* Effect.promise(() =>
              queryRows(
                connectionUrl(server),
                `SELECT slot_name, temporary, active_pid IS NOT NULL AS held FROM pg_replication_slots
                WHERE database = $1 ORDER BY slot_name`,
                [db.name]
              )
            )
            assert.deepStrictEqual(slots, [
              { slot_name: "held_here", temporary: true, held: true },
              { slot_name: "left_behind", temporary: false, held: false }
            ])
            yield* Effect.promise(() => dropDatabase(server, db.name))
          })
        )
        assert.isFalse(yield* exists(server, db.name))
        const slots = yield* Effect.promise(() =>
          queryRows(connectionUrl(server), "SELECT slot_name FROM pg_replication_slots WHERE database = $1", [
            db.name
          ])
        )
        assert.deepStrictEqual(slots, [])
      })
  )

  it.live("a scoped database is dropped when its scope closes on a failure or an interruption", () =>
    Effect.gen(function* () {
      const server = injectedServers().neon
      /** The database each `inUse` made, by its prefix. */
      const made = new Map<string, string>()
      /** In a scope of its own: a database made for it, a session left open on it, then `end`. */
      const inUse = <A, E>(prefix: string, end: Effect.Effect<A, E>) =>
        Effect.scoped(
          Effect.gen(function* () {
            const db = yield* scopedDatabase(server, prefix)
            made.set(prefix, db.name)
            yield* openSession(db.url)
            return yield* end
          })
        )

      const exit = yield* Effect.exit(inUse("failing", Effect.fail("the test failed" as const)))
      assert.isTrue(Exit.isFailure(exit))
      assert.isFalse(yield* exists(server, made.get("failing")!))

      const started = yield* Deferred.make<void>()
      const fiber = yield* Effect.forkChild(
        inUse("interrupted", Deferred.succeed(started, undefined).pipe(Effect.andThen(Effect.never)))
      )
      yield* Deferred.await(started)
      assert.isTrue(yield* exists(server, made.get("interrupted")!))
      yield* Fiber.interrupt(fiber)
      assert.isFalse(yield* exists(server, made.get("interrupted")!))
    })
  )
})
