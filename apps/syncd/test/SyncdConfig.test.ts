/**
 * The daemon's configuration: defaults, the embedded demo when no URL is set, every problem reported at
 * once (each with its fix), SUPABASE_URL checked whenever it is set, and secrets that never print.
 */
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { loadSyncdConfig, SyncdConfigError } from "../src/SyncdConfig.ts"

const load = (env: Record<string, string>) =>
  loadSyncdConfig.pipe(Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env }))))

const problemsOf = (env: Record<string, string>) =>
  Effect.flip(load(env)).pipe(
    Effect.map((error) => {
      assert.instanceOf(error, SyncdConfigError)
      return error.problems
    })
  )

const neon = "postgresql://owner:pw@ep-cool-1.us-east-2.aws.neon.tech/neondb?sslmode=require"
const neonPooler = "postgresql://owner:pw@ep-cool-1-pooler.us-east-2.aws.neon.tech/neondb?sslmode=require"
const workspace = "postgresql://postgres:pw@db.example.supabase.co:5432/postgres"
// a plainly fake password, built at run time
const fakePassword = ["FAKE", "config", "pw"].join("-")

describe("SyncdConfig", () => {
  it.effect("no URL: the embedded demo, with every default", () =>
    Effect.gen(function* () {
      const config = yield* load({})
      assert.strictEqual(config.mode._tag, "Embedded")
      assert.isTrue(config.mode._tag === "Embedded" && config.mode.dataDir.endsWith(".enrich-sync"))
      assert.isTrue(Option.isNone(config.realtime))
      assert.strictEqual(config.slot, "enrich_sync")
      assert.strictEqual(config.publication, "enrich_sync_source")
      assert.deepStrictEqual(config.policy.pushOn, ["complete"])
      assert.strictEqual(config.batchSize, 5000)
      assert.strictEqual(Duration.toMillis(config.batchWait), 5)
      assert.strictEqual(Duration.toMillis(config.workspacePoll), 1000)
      assert.strictEqual(Option.map(config.antiEntropy, Duration.toMinutes).pipe(Option.getOrNull), 15)
      assert.strictEqual(Duration.toSeconds(config.heartbeat), 10)
      assert.strictEqual(Duration.toMillis(config.ackInterval), 1000)
      assert.isTrue(Option.isNone(config.healthPort))
    })
  )

  it.effect("both URLs: external databases; a -pooler Neon host replicates through its direct host", () =>
    Effect.gen(function* () {
      const config = yield* load({ NEON_DATABASE_URL: neonPooler, SUPABASE_DATABASE_URL: workspace })
      assert.strictEqual(config.mode._tag, "External")
      if (config.mode._tag !== "External") return
      assert.strictEqual(Redacted.value(config.mode.neonUrl), neonPooler)
      assert.strictEqual(Redacted.value(config.mode.replicationUrl), neon)
      assert.isTrue(config.mode.replicationDerived)
      assert.notInclude(String(config.mode.neonUrl), "pw@")
    })
  )

  it.effect("Realtime: both variables give a 30 s poll by default", () =>
    Effect.gen(function* () {
      const config = yield* load({
        NEON_DATABASE_URL: neon,
        SUPABASE_DATABASE_URL: workspace,
        SUPABASE_URL: "https://example.supabase.co",
        SUPABASE_SERVICE_ROLE_KEY: "service-role-key"
      })
      assert.isTrue(Option.isSome(config.realtime))
      assert.strictEqual(Duration.toMillis(config.workspacePoll), 30_000)
    })
  )

  it.effect("every problem at once, each naming its fix", () =>
    Effect.gen(function* () {
      const problems = yield* problemsOf({
        NEON_DATABASE_URL: `http://user:${fakePassword}@db.example.com/x`,
        NEON_REPLICATION_URL: neonPooler,
        ENRICH_SYNC_BATCH_SIZE: "lots",
        ENRICH_SYNC_PUSH_ON: "complete,done",
        ENRICH_SYNC_SLOT: "Bad-Slot",
        ENRICH_SYNC_HEALTH_PORT: "70000",
        SUPABASE_URL: "notaurl"
      })
      const expected = [
        "NEON_DATABASE_URL has the scheme",
        "SUPABASE_DATABASE_URL is not set",
        "NEON_REPLICATION_URL points at a -pooler host",
        "SUPABASE_URL is not a project URL",
        "SUPABASE_URL is set but SUPABASE_SERVICE_ROLE_KEY is not",
        "ENRICH_SYNC_SLOT must be a lower-case name",
        "ENRICH_SYNC_PUSH_ON must list statuses",
        "ENRICH_SYNC_BATCH_SIZE must be a whole number",
        "ENRICH_SYNC_HEALTH_PORT must be a port number"
      ]
      for (const start of expected) {
        assert.isTrue(
          problems.some((p) => p.startsWith(start)),
          `${start} in ${problems.join(" | ")}`
        )
      }
      assert.strictEqual(problems.length, expected.length, problems.join(" | "))
      assert.notInclude(problems.join(" "), fakePassword)
    })
  )

  it.effect("SUPABASE_URL is checked whenever it is set, alone or with the embedded demo", () =>
    Effect.gen(function* () {
      const alone = yield* problemsOf({ SUPABASE_URL: "notaurl", SUPABASE_SERVICE_ROLE_KEY: "k" })
      assert.isTrue(alone.some((p) => p.startsWith("SUPABASE_URL is not a project URL")))
      assert.isTrue(
        alone.some((p) => p.startsWith("SUPABASE_URL is set but the databases are the embedded demo"))
      )
      const keyOnly = yield* problemsOf({
        NEON_DATABASE_URL: neon,
        SUPABASE_DATABASE_URL: workspace,
        SUPABASE_SERVICE_ROLE_KEY: "k"
      })
      assert.deepStrictEqual(
        keyOnly.map((p) => p.split(":")[0]),
        ["SUPABASE_SERVICE_ROLE_KEY is set but SUPABASE_URL is not"]
      )
    })
  )
})
