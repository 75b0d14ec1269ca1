/**
 * Real servers: the shared ones run with logical decoding and the promised settings; a server of our own
 * decodes with pgoutput, restarts (cleanly and by crash) with its data and port, reuses a persistent data
 * directory, leaves nothing behind when stopped, and is stopped by its guard when its owner is killed.
 */
import { spawn } from "node:child_process"
import { existsSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { queryRows } from "../src/Client.ts"
import { scopedDatabase } from "../src/Databases.ts"
import { PostgresServer, PostgresServerError, startPostgresServer } from "../src/PostgresServer.ts"
import { isAlive, temporaryFolder } from "./support/Processes.ts"
import { injectedServers } from "./support/Servers.ts"

/** One statement on a connection of its own (a failure is a defect). */
const query = (url: string, sql: string, values: ReadonlyArray<unknown> = []) =>
  Effect.promise(() => queryRows(url, sql, values))

const expectedKind = process.env.PG_BIN ? "system" : "embedded"

const show = (url: string, setting: string) =>
  query(url, `SELECT current_setting($1) AS value`, [setting]).pipe(
    Effect.map((rows) => String(rows[0]!.value))
  )

const postmaster = (url: string) =>
  Effect.gen(function* () {
    const dataDirectory = yield* show(url, "data_directory")
    const { readFileSync } = yield* Effect.promise(() => import("node:fs"))
    const pid = Number(readFileSync(join(dataDirectory, "postmaster.pid"), "utf8").split("\n")[0])
    return { dataDirectory, pid }
  })

/** Polls `check` every 100 ms for up to `ms`; true as soon as it holds. */
const eventually = (check: () => boolean, ms: number) =>
  Effect.promise(async () => {
    const deadline = Date.now() + ms
    while (Date.now() < deadline) {
      if (check()) return true
      await new Promise((r) => setTimeout(r, 100))
    }
    return check()
  })

describe("PostgresServer", () => {
  it.effect("the shared servers run with logical decoding and the promised settings", () =>
    Effect.gen(function* () {
      const { neon, supabase } = injectedServers()
      assert.notStrictEqual(neon.port, supabase.port)
      for (const server of [neon, supabase]) {
        assert.strictEqual(server.host, "127.0.0.1")
        assert.strictEqual(server.user, "postgres")
        assert.strictEqual(server.kind, expectedKind)
        assert.strictEqual(server.version, expectedKind === "embedded" ? 18 : 15)
        const url = `postgres://postgres:${encodeURIComponent(server.password)}@127.0.0.1:${server.port}/postgres`
        assert.strictEqual(yield* show(url, "wal_level"), "logical")
        assert.strictEqual(yield* show(url, "max_replication_slots"), "64")
        assert.strictEqual(yield* show(url, "max_wal_senders"), "64")
        assert.strictEqual(yield* show(url, "max_connections"), "300")
        assert.strictEqual(yield* show(url, "listen_addresses"), "127.0.0.1")
        assert.strictEqual(yield* show(url, "unix_socket_directories"), "")
        assert.strictEqual(yield* show(url, "fsync"), "off")
        assert.strictEqual(yield* show(url, "synchronous_commit"), "on")
        assert.strictEqual(yield* show(url, "TimeZone"), "UTC")
        assert.strictEqual(yield* show(url, "server_encoding"), "UTF8")
        const version = Number((yield* show(url, "server_version_num")).slice(0, -4))
        assert.strictEqual(version, server.version)
      }
    })
  )

  it.effect("a wrong password is refused (scram-sha-256, not trust)", () =>
    Effect.gen(function* () {
      const { neon } = injectedServers()
      const exit = yield* Effect.exit(
        query(`postgres://postgres:wrong@127.0.0.1:${neon.port}/postgres`, "SELECT 1")
      )
      assert.isTrue(Exit.isFailure(exit))
    })
  )

  it.effect("a logical slot with pgoutput decodes committed changes", () =>
    Effect.gen(function* () {
      const db = yield* scopedDatabase(injectedServers().neon, "pgoutput")
      yield* query(db.url, "CREATE TABLE t (id bigserial PRIMARY KEY, v text)")
      yield* query(db.url, "CREATE PUBLICATION p FOR TABLE t")
      yield* query(db.url, "SELECT pg_create_logical_replication_slot('s', 'pgoutput')")
      yield* query(db.url, "INSERT INTO t (v) VALUES ('a'), ('b')")
      const changes = yield* query(
        db.url,
        `SELECT count(*)::int AS n FROM pg_logical_slot_peek_binary_changes('s', NULL, NULL,
           'proto_version', '1', 'publication_names', 'p')`
      )
      // BEGIN, RELATION, INSERT x2, COMMIT
      assert.isAtLeast(changes[0]!.n as number, 4)
    })
  )

  it.live("restart keeps data and port, after a clean shutdown and after a crash", () =>
    Effect.gen(function* () {
      const server = yield* PostgresServer.scoped({ name: "restart" })
      const port = server.port
      yield* query(server.url(), "CREATE TABLE kept (v int)")
      yield* query(server.url(), "INSERT INTO kept VALUES (1)")
      const before = yield* postmaster(server.url())

      yield* Effect.promise(() => server.restart())
      assert.strictEqual(server.port, port)
      yield* query(server.url(), "INSERT INTO kept VALUES (2)")
      const afterFast = yield* postmaster(server.url())
      assert.notStrictEqual(afterFast.pid, before.pid)
      assert.isFalse(isAlive(before.pid))

      // committed just before the crash: must survive it (synchronous_commit stays on)
      yield* Effect.promise(() => server.restart("immediate"))
      const rows = yield* query(server.url(), "SELECT array_agg(v ORDER BY v) AS vs FROM kept")
      assert.deepStrictEqual(rows[0]!.vs, [1, 2])
      assert.strictEqual(server.port, port)
      assert.isFalse(isAlive(afterFast.pid))
    })
  )

  it.live("stop ends the postmaster and removes the temporary folder", () =>
    Effect.gen(function* () {
      const server = yield* Effect.promise(() => startPostgresServer({ name: "stopped" }))
      const { dataDirectory, pid } = yield* postmaster(server.url())
      assert.isTrue(
        dataDirectory.startsWith(tmpdir()) || dataDirectory.startsWith("/dev/shm/"),
        dataDirectory
      )
      assert.isTrue(isAlive(pid))
      yield* Effect.promise(() => server.stop())
      yield* Effect.promise(() => server.stop()) // idempotent
      assert.isFalse(isAlive(pid))
      assert.isFalse(existsSync(dataDirectory))
      const exit = yield* Effect.exit(query(server.url(), "SELECT 1"))
      assert.isTrue(Exit.isFailure(exit))
    })
  )

  it.live("a persistent dataDir is created once, then reused with its password", () =>
    Effect.gen(function* () {
      // the postgres user must be able to reach the cluster
      const parent = yield* temporaryFolder("persistent-test")
      const dataDir = join(parent, "cluster")
      const first = yield* Effect.promise(() => startPostgresServer({ name: "persistent", dataDir }))
      yield* query(first.url(), "CREATE TABLE survives (v text)")
      yield* query(first.url(), "INSERT INTO survives VALUES ('across restarts')")
      yield* Effect.promise(() => first.stop())
      assert.isTrue(existsSync(join(dataDir, "PG_VERSION")))
      assert.strictEqual(statSync(join(dataDir, "enrich-sync.password")).mode & 0o777, 0o600)

      const second = yield* Effect.acquireRelease(
        Effect.promise(() => startPostgresServer({ name: "persistent", dataDir })),
        (server) => Effect.promise(() => server.stop())
      )
      assert.strictEqual(second.password, first.password)
      const rows = yield* query(second.url(), "SELECT v FROM survives")
      assert.deepStrictEqual(rows, [{ v: "across restarts" }])
    })
  )

  it.live("a port in use is a PostgresServerError that does not print the password", () =>
    Effect.gen(function* () {
      const { neon } = injectedServers()
      const exit = yield* Effect.exit(PostgresServer.scoped({ name: "clash", port: neon.port }))
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit)) {
        const error = exit.cause.reasons.find((r) => r._tag === "Fail")
        assert.isDefined(error)
        const failure = (error as { error: unknown }).error
        assert.instanceOf(failure, PostgresServerError)
        assert.strictEqual((failure as PostgresServerError).reason, "Start")
        assert.match((failure as PostgresServerError).message, /in use|could not/)
        assert.notInclude((failure as PostgresServerError).message, neon.password)
      }
    })
  )

  it.live("a server whose owner is killed (SIGKILL) is stopped and removed by its guard", () =>
    Effect.gen(function* () {
      const owner = spawn(
        process.execPath,
        [fileURLToPath(new URL("./support/orphan-owner.ts", import.meta.url))],
        {
          stdio: ["ignore", "pipe", "inherit"]
        }
      )
      const started = yield* Effect.promise(
        () =>
          new Promise<{ dataDirectory: string; postmasterPid: number }>((resolve, reject) => {
            let out = ""
            owner.stdout!.on("data", (chunk: Buffer) => {
              out += chunk.toString()
              if (out.includes("\n")) resolve(JSON.parse(out.slice(0, out.indexOf("\n"))))
            })
            owner.on("exit", (code) => reject(new Error(`owner exited early (${code})`)))
          })
      )
      assert.isTrue(isAlive(started.postmasterPid))
      owner.kill("SIGKILL")
      assert.isTrue(yield* eventually(() => !isAlive(started.postmasterPid), 15_000))
      assert.isTrue(yield* eventually(() => !existsSync(join(started.dataDirectory, "..")), 15_000))
    })
  )
})
