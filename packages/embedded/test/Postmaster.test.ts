/**
 * One postmaster: ready when its pid file says so (and then it answers queries), stopped by a fast or an
 * immediate shutdown (the next one recovers and keeps committed data), a taken port reported as such
 * with the postmaster's log, and a data directory still held by a live postmaster waited for, then
 * refused (on `TestClock`).
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/testing/TestClock"
import { queryRows } from "../src/Client.ts"
import { type DataDirectory, prepareDataDirectory } from "../src/DataDirectory.ts"
import { resolveBinaries, resolveRunAs } from "../src/PostgresBinaries.ts"
import { connectionUrl } from "../src/PostgresServer.ts"
import { awaitStalePostmaster, freePort, type PostmasterOptions, spawnPostmaster } from "../src/Postmaster.ts"
import { isAlive } from "./support/Processes.ts"
import { injectedServers } from "./support/Servers.ts"

/** A throw-away data directory for the scope, and the options of a postmaster on it. */
const prepared = Effect.gen(function* () {
  const binaries = resolveBinaries()
  const runAs = yield* Effect.promise(() => resolveRunAs())
  const directory = yield* prepareDataDirectory({ name: "postmaster-test", binaries, runAs, durable: false })
  const port = yield* freePort
  const options: PostmasterOptions = {
    name: "postmaster-test",
    binaries,
    runAs,
    dataDir: directory.dataDir,
    logFile: directory.logFile,
    port,
    durable: false,
    flags: []
  }
  return { directory, options }
})

/** A postmaster for the scope (shut down immediately when the scope closes, if still running). */
const running = (options: PostmasterOptions) =>
  Effect.acquireRelease(spawnPostmaster(options), (postmaster) =>
    Effect.ignore(postmaster.shutdown("immediate"))
  )

const urlOf = (directory: DataDirectory, port: number) =>
  connectionUrl({
    name: "postmaster-test",
    host: "127.0.0.1",
    port,
    user: "postgres",
    password: directory.password,
    kind: "embedded",
    version: directory.version
  })

const query = (url: string, sql: string) => Effect.promise(() => queryRows(url, sql))

describe("Postmaster", () => {
  it.live("is ready when its pid file says so, and a fast shutdown ends it (again: nothing to do)", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { directory, options } = yield* prepared
        const postmaster = yield* running(options)
        const pidFile = readFileSync(join(directory.dataDir, "postmaster.pid"), "utf8").split("\n")
        assert.strictEqual(pidFile[0], String(postmaster.pid))
        assert.strictEqual(pidFile[7]?.trim(), "ready")
        const rows = yield* query(urlOf(directory, options.port), "SELECT current_setting('wal_level') AS v")
        assert.deepStrictEqual(rows, [{ v: "logical" }])
        yield* postmaster.shutdown("fast")
        assert.isFalse(isAlive(postmaster.pid))
        yield* postmaster.shutdown("fast")
      })
    )
  )

  it.live("an immediate shutdown is a crash: the next postmaster recovers with the committed data", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { directory, options } = yield* prepared
        const first = yield* running(options)
        const url = urlOf(directory, options.port)
        yield* query(url, "CREATE TABLE kept AS SELECT 1 AS v")
        yield* first.shutdown("immediate")
        assert.isFalse(isAlive(first.pid))
        const second = yield* running(options)
        assert.deepStrictEqual(yield* query(url, "SELECT v FROM kept"), [{ v: 1 }])
        yield* second.shutdown("immediate")
        const log = readFileSync(directory.logFile, "utf8")
        assert.match(log, /not properly shut down; automatic recovery in progress/)
      })
    )
  )

  it.live("a port another server holds fails as a port in use, with the postmaster's log", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { options } = yield* prepared
        const failure = yield* spawnPostmaster({ ...options, port: injectedServers().neon.port }).pipe(
          Effect.flip
        )
        assert.isTrue(failure.portInUse, failure.message)
        assert.match(
          failure.message,
          /^postmaster-test: postgres exited \(1\) before accepting connections:\n/
        )
        assert.include(failure.message, failure.log)
      })
    )
  )

  it.effect("a data directory a live postmaster holds is waited for, then refused after 15 s", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { directory, options } = yield* TestClock.withLive(prepared)
        const postmaster = yield* TestClock.withLive(running(options))
        const waiting = yield* Effect.forkChild(Effect.flip(awaitStalePostmaster("stale", directory.dataDir)))
        yield* TestClock.adjust("14 seconds")
        assert.isUndefined(waiting.pollUnsafe(), "still waiting before 15 s")
        yield* TestClock.adjust("1 second")
        const error = yield* Fiber.join(waiting)
        assert.strictEqual(error.reason, "Start")
        assert.include(error.message, `is in use by a running postmaster (pid ${postmaster.pid})`)
        yield* TestClock.withLive(postmaster.shutdown("immediate"))
        // nothing runs on it now: no wait at all
        yield* awaitStalePostmaster("stale", directory.dataDir)
      })
    )
  )
})
