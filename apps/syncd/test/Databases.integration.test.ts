/**
 * The daemon's databases (`Databases`), chosen by the configuration: both URLs give the configured
 * endpoints (replication through the direct host of a `-pooler` Neon, Realtime as configured) with every
 * secret handed to the `Redactor`; the engine's two pools then work on those databases, with the daemon's
 * settings; with no URL, the embedded default in the data folder, behind the folder's lock. The embedded
 * servers themselves are not started here (see `Startup.integration.test.ts`): the embedded branch is
 * followed up to the lock, and up to servers that cannot start.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { SourceDatabase, WorkspaceDatabase } from "@enrich-sync/engine"
import { TwoDatabases } from "@enrich-sync/testing"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { databasesLayer, Endpoints } from "../src/Databases.ts"
import { DataDirInUse } from "../src/DataDirLock.ts"
import { EmbeddedDefaultError } from "../src/EmbeddedDefault.ts"
import { Redactor } from "../src/Log.ts"
import { SyncdConfig } from "../src/SyncdConfig.ts"
import { capturing, type Logged } from "./support/LoopHarness.ts"
import { until } from "./support/MergeLayers.ts"

// plainly fake secrets, built at run time
const fake = (what: string) => ["FAKE", "databases", what].join("-")
const neonPassword = fake("neon-pw")
const replicationPassword = fake("replication-pw")
const workspacePassword = fake("workspace-pw")
const serviceRoleKey = fake("service-role-key")
const webhookSecret = fake("webhook-secret")
const webhookUrl = `https://hooks.example.com/${fake("webhook-path")}`

const neon = `postgresql://owner:${neonPassword}@ep-cool-1.us-east-2.aws.neon.tech/neondb?sslmode=require`
const neonPooler = `postgresql://owner:${neonPassword}@ep-cool-1-pooler.us-east-2.aws.neon.tech/neondb?sslmode=require`
const neonDirect = neon
const replication = `postgresql://replicator:${replicationPassword}@ep-cool-1.us-east-2.aws.neon.tech/neondb?sslmode=require`
const workspace = `postgresql://postgres:${workspacePassword}@db.example.supabase.co:5432/postgres`

/** The variables the tests configure the daemon with, in the groups they are given in. */
const bothUrls = { NEON_DATABASE_URL: neon, SUPABASE_DATABASE_URL: workspace }
const poolerUrls = { NEON_DATABASE_URL: neonPooler, SUPABASE_DATABASE_URL: workspace }
const realtimeVariables = {
  SUPABASE_URL: "https://example.supabase.co",
  SUPABASE_SERVICE_ROLE_KEY: serviceRoleKey
}
const webhookVariables = { ENRICH_SYNC_WEBHOOK_URL: webhookUrl, ENRICH_SYNC_WEBHOOK_SECRET: webhookSecret }

/** The configuration read from `env` alone, the `Redactor`, and a logger keeping its lines in `lines`. */
const configured = (env: Record<string, string>, lines: Array<Logged> = []) =>
  Layer.mergeAll(SyncdConfig.layer, Redactor.layer, capturing(lines)).pipe(
    Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env })))
  )

/** The endpoints `env` leads to, built in their own scope. */
const endpointsOf = (env: Record<string, string>, lines: Array<Logged> = []) =>
  Effect.service(Endpoints).pipe(
    Effect.provide(Endpoints.layer.pipe(Layer.provide(configured(env, lines)))),
    Effect.scoped
  )

/** The endpoints `env` leads to, and the lines logged on the way. */
const endpointsLogged = (env: Record<string, string>) =>
  Effect.gen(function* () {
    const lines: Array<Logged> = []
    const endpoints = yield* endpointsOf(env, lines)
    return { endpoints, lines }
  })

/** A data folder of the test's own, removed after `use`. */
const withDataDir = <A, E, R>(use: (dir: string) => Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "syncd-databases-"))),
    use,
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

/**
 * Fills both server folders of `dir` (not empty, not a PostgreSQL data directory), so that no server can
 * start there, and none is started.
 */
const occupyServerFolders = (dir: string) => {
  for (const name of ["neon", "workspace"]) {
    mkdirSync(join(dir, name))
    writeFileSync(join(dir, name, "stray.txt"), "not a cluster")
  }
}

describe("Databases", () => {
  it.effect("both URLs: the configured endpoints, with Realtime as configured, not the embedded demo", () =>
    Effect.gen(function* () {
      const { endpoints, lines } = yield* endpointsLogged({ ...bothUrls, ...realtimeVariables })
      assert.isFalse(endpoints.embedded)
      assert.strictEqual(Redacted.value(endpoints.neonUrl), neon)
      assert.strictEqual(Redacted.value(endpoints.replicationUrl), neon)
      assert.strictEqual(Redacted.value(endpoints.workspaceUrl), workspace)
      assert.isTrue(Option.isSome(endpoints.realtime))
      if (Option.isNone(endpoints.realtime)) return
      assert.strictEqual(endpoints.realtime.value.url, "https://example.supabase.co")
      assert.strictEqual(Redacted.value(endpoints.realtime.value.apiKey), serviceRoleKey)
      // nothing said about the embedded demo, nor about a derived replication host
      assert.isFalse(lines.some((line) => /embedded|-pooler/.test(line.text)))
    })
  )

  it.effect("both URLs without SUPABASE_URL: no Realtime (the workspace is polled)", () =>
    Effect.gen(function* () {
      const endpoints = yield* endpointsOf(bothUrls)
      assert.isFalse(endpoints.embedded)
      assert.isTrue(Option.isNone(endpoints.realtime))
    })
  )

  it.effect("a -pooler Neon: replication through its direct host, saying so with the password hidden", () =>
    Effect.gen(function* () {
      const { endpoints, lines } = yield* endpointsLogged(poolerUrls)
      assert.strictEqual(Redacted.value(endpoints.neonUrl), neonPooler)
      assert.strictEqual(Redacted.value(endpoints.replicationUrl), neonDirect)
      const said = lines.find((line) => line.text.includes("is a -pooler host"))
      assert.isDefined(said)
      assert.include(said?.text, "ep-cool-1.us-east-2.aws.neon.tech")
      assert.notInclude(said?.text, "ep-cool-1-pooler")
      assert.notInclude(said?.text, neonPassword)
    })
  )

  it.effect("NEON_REPLICATION_URL is used as given, and nothing is derived", () =>
    Effect.gen(function* () {
      const { endpoints, lines } = yield* endpointsLogged({
        ...poolerUrls,
        NEON_REPLICATION_URL: replication
      })
      assert.strictEqual(Redacted.value(endpoints.replicationUrl), replication)
      assert.isFalse(lines.some((line) => line.text.includes("-pooler")))
    })
  )

  it.effect("hands every configured secret to the Redactor", () =>
    Effect.gen(function* () {
      const env = {
        ...poolerUrls,
        NEON_REPLICATION_URL: replication,
        ...realtimeVariables,
        ...webhookVariables
      }
      const secrets = [
        neonPassword,
        replicationPassword,
        workspacePassword,
        serviceRoleKey,
        webhookSecret,
        webhookUrl
      ]
      const redacted = yield* Effect.gen(function* () {
        yield* Endpoints
        const redactor = yield* Redactor
        return redactor.redact(`leaked: ${secrets.join(" | ")}`)
      }).pipe(Effect.provide(Endpoints.layer.pipe(Layer.provideMerge(configured(env)))), Effect.scoped)
      assert.include(redacted, "leaked:")
      for (const secret of secrets) assert.notInclude(redacted, secret)
    })
  )

  it.live("the engine's two databases on the endpoints, with the daemon's pool settings", () =>
    Effect.gen(function* () {
      const dbs = yield* TwoDatabases
      yield* Effect.gen(function* () {
        const endpoints = yield* Endpoints
        assert.isFalse(endpoints.embedded)
        const source = yield* SourceDatabase
        const workspace = yield* WorkspaceDatabase
        const [onSource] = yield* source.query(
          "SELECT current_database() AS db, current_setting('application_name') AS app"
        )
        const [onWorkspace] = yield* workspace.query("SELECT current_database() AS db")
        assert.strictEqual(onSource?.db, dbs.neon.name)
        assert.strictEqual(onSource?.app, "enrich-sync syncd")
        assert.strictEqual(onWorkspace?.db, dbs.workspace.name)
        // a transaction the daemon leaves waiting is rolled back by the server after 5 s
        const [timeout] = yield* workspace.transaction((tx) =>
          tx.query("SELECT current_setting('idle_in_transaction_session_timeout') AS t")
        )
        assert.strictEqual(timeout?.t, "5s")
        // every connection opened at start and kept: four on each side
        for (const [db, name] of [
          [source, dbs.neon.name],
          [workspace, dbs.workspace.name]
        ] as const) {
          yield* until(
            `four connections of the daemon on ${name}`,
            db
              .query(
                "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'enrich-sync syncd'",
                [name]
              )
              .pipe(Effect.map(([row]) => (row?.n === 4 ? true : undefined)))
          )
        }
      }).pipe(
        Effect.provide(
          databasesLayer.pipe(
            Layer.provide(
              configured({ NEON_DATABASE_URL: dbs.neon.url, SUPABASE_DATABASE_URL: dbs.workspace.url })
            )
          )
        ),
        Effect.scoped
      )
    }).pipe(Effect.provide(TwoDatabases.layer(undefined, { prefix: "syncd_databases" })))
  )

  it.effect("no URL: the embedded default, which waits for no other daemon on its data folder", () =>
    withDataDir((dir) =>
      Effect.gen(function* () {
        // another live process holds the folder (this test's parent stands in for a running daemon); its
        // server folders cannot hold a server either, so that a server started anyway fails at once
        writeFileSync(join(dir, "syncd.pid"), `${process.ppid}\n`)
        occupyServerFolders(dir)
        const lines: Array<Logged> = []
        const error = yield* Effect.flip(endpointsOf({ ENRICH_SYNC_DATA_DIR: dir }, lines))
        assert.instanceOf(error, DataDirInUse)
        if (!(error instanceof DataDirInUse)) return
        assert.strictEqual(error.pid, process.ppid)
        assert.strictEqual(error.dataDir, dir)
        assert.isTrue(
          lines.some((line) => line.text.includes(`running on the embedded demo databases in ${dir}`))
        )
        // the lock is still the other daemon's
        assert.strictEqual(readFileSync(join(dir, "syncd.pid"), "utf8").trim(), String(process.ppid))
      })
    )
  )

  it.effect(
    "no URL: starts the embedded servers in the data folder, and lets the folder go when they fail",
    () =>
      withDataDir((dir) =>
        Effect.gen(function* () {
          occupyServerFolders(dir)
          const error = yield* Effect.flip(endpointsOf({ ENRICH_SYNC_DATA_DIR: dir }))
          assert.instanceOf(error, EmbeddedDefaultError)
          assert.match(error.message, /could not start the embedded (neon|workspace) server in /)
          assert.include(error.message, dir)
          assert.isFalse(existsSync(join(dir, "syncd.pid")))
        })
      )
  )
})
