/**
 * The command's configuration, read from a given environment: the database URLs a command needs (and only
 * those) as redacted values; every problem at once in one `Configuration` failure, each naming its variable,
 * then the fix said once; never a password in a failure or in a printed URL; the push policy from
 * `--push-on`, else ENRICH_SYNC_PUSH_ON, else `complete`; the passwords registered for the redactor; the
 * debug switch; and a `.env` that cannot be read passed over.
 */
import { assert, describe, it } from "@effect/vitest"
import { SourceDatabase } from "@enrich-sync/engine"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import {
  CliConfig,
  commandLayer,
  configProviderLayer,
  configuredSecrets,
  configuredUrls,
  debugEnabled,
  loadConfig,
  type Needs,
  parsePushOn
} from "../src/CliConfig.ts"
import { CliFailure } from "../src/CliFailure.ts"

// plainly fake passwords, built at run time
const neonPassword = ["FAKE", "neon", "password", "7"].join("-")
/** a password a URL carries percent-encoded */
const workspacePassword = ["FAKE", 'p@ss w"rd/+&'].join("-")
const neonUrl = `postgresql://neondb_owner:${neonPassword}@ep-fake-1.us-east-2.aws.neon.tech/neondb`
const workspaceUrl = `postgresql://postgres:${encodeURIComponent(workspacePassword)}@db.fake.supabase.co:5432/postgres`

/** Runs `effect` with configuration from `env` alone. */
const withEnv =
  (env: Record<string, string>) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    Effect.provide(effect, ConfigProvider.layer(ConfigProvider.fromEnv({ env })))

/** The failure `loadConfig` ends with, checked to be one `Configuration` line without a password. */
const configFailure = <E>(effect: Effect.Effect<unknown, E>) =>
  Effect.map(Effect.flip(effect), (failure) => {
    if (!(failure instanceof CliFailure)) return assert.fail(`not a CliFailure: ${String(failure)}`)
    assert.strictEqual(failure.reason, "Configuration")
    assert.strictEqual(failure.exitCode, 1)
    assert.notInclude(failure.message, "\n")
    for (const secret of [neonPassword, workspacePassword, encodeURIComponent(workspacePassword)]) {
      assert.notInclude(failure.message, secret)
    }
    return failure.message
  })

const urlFix = {
  one: "set it in the environment or in .env in the working folder, to the postgresql:// connection string of the database (Neon: NEON_DATABASE_URL, Supabase: SUPABASE_DATABASE_URL)",
  many: "set them in the environment or in .env in the working folder, to the postgresql:// connection strings of the databases (Neon: NEON_DATABASE_URL, Supabase: SUPABASE_DATABASE_URL)"
}

/** Asserts the failure `loadConfig` ends with for each case: the sides a command needs, the environment. */
const assertRefused = (
  cases: ReadonlyArray<readonly [needs: Needs, env: Record<string, string>, message: string]>
) =>
  Effect.gen(function* () {
    for (const [needs, env, message] of cases) {
      assert.strictEqual(yield* configFailure(loadConfig(needs).pipe(withEnv(env))), message)
    }
  })

describe("loadConfig", () => {
  it.effect("reads the URLs as redacted values, trimmed, and pushes `complete` rows by default", () =>
    Effect.gen(function* () {
      const { urls, policy } = yield* loadConfig("both").pipe(
        withEnv({ NEON_DATABASE_URL: `  ${neonUrl}\n`, SUPABASE_DATABASE_URL: workspaceUrl })
      )
      assert.isTrue(urls.source !== undefined && Redacted.isRedacted(urls.source))
      assert.strictEqual(Redacted.value(urls.source!), neonUrl)
      assert.strictEqual(Redacted.value(urls.workspace!), workspaceUrl)
      for (const printed of [String(urls.source), `${urls.workspace}`, JSON.stringify(urls)]) {
        assert.notInclude(printed, neonPassword)
        assert.notInclude(printed, encodeURIComponent(workspacePassword))
        assert.notInclude(printed, "neondb_owner")
      }
      assert.deepStrictEqual(policy, { pushOn: ["complete"] })
    })
  )

  it.effect("reads only the URLs of the sides the command needs", () =>
    Effect.gen(function* () {
      const neonOnly = yield* loadConfig("source").pipe(
        withEnv({ NEON_DATABASE_URL: neonUrl, SUPABASE_DATABASE_URL: "not a url" })
      )
      assert.deepStrictEqual(Object.keys(neonOnly.urls), ["source"])
      const workspaceOnly = yield* loadConfig("workspace").pipe(
        withEnv({ SUPABASE_DATABASE_URL: workspaceUrl })
      )
      assert.deepStrictEqual(Object.keys(workspaceOnly.urls), ["workspace"])
    })
  )

  it.effect("a missing or blank URL is not set: each named, then the fix, in the singular or plural", () =>
    assertRefused([
      ["both", {}, `NEON_DATABASE_URL is not set; SUPABASE_DATABASE_URL is not set; ${urlFix.many}`],
      [
        "both",
        { NEON_DATABASE_URL: neonUrl, SUPABASE_DATABASE_URL: "  " },
        `SUPABASE_DATABASE_URL is not set; ${urlFix.one}`
      ],
      ["source", { SUPABASE_DATABASE_URL: workspaceUrl }, `NEON_DATABASE_URL is not set; ${urlFix.one}`]
    ])
  )

  it.effect("a malformed URL is named with its problem, never its password, and the fix is said once", () =>
    assertRefused([
      [
        "both",
        {
          NEON_DATABASE_URL: neonUrl.replace("postgresql://", "mysql://"),
          SUPABASE_DATABASE_URL: workspaceUrl.replace("@db.fake.supabase.co:5432", "@")
        },
        `NEON_DATABASE_URL has the scheme "mysql", not postgresql; SUPABASE_DATABASE_URL is not a URL; ${urlFix.many}`
      ],
      [
        "source",
        { NEON_DATABASE_URL: neonUrl.replace("postgresql://", "postgresql//") },
        `NEON_DATABASE_URL is not a URL; ${urlFix.one}`
      ],
      [
        "workspace",
        { SUPABASE_DATABASE_URL: "postgresql:///postgres" },
        `SUPABASE_DATABASE_URL has no host; ${urlFix.one}`
      ]
    ])
  )

  it.effect("the push policy: --push-on, else ENRICH_SYNC_PUSH_ON (any case, spaces), else complete", () =>
    Effect.gen(function* () {
      const env = { NEON_DATABASE_URL: neonUrl }
      const policy = (
        extra: Record<string, string>,
        flag: Option.Option<ReadonlyArray<string>> = Option.none()
      ) => Effect.map(loadConfig("source", flag).pipe(withEnv({ ...env, ...extra })), (c) => c.policy.pushOn)
      assert.deepStrictEqual(yield* policy({}), ["complete"])
      assert.deepStrictEqual(yield* policy({ ENRICH_SYNC_PUSH_ON: "  " }), ["complete"])
      assert.deepStrictEqual(yield* policy({ ENRICH_SYNC_PUSH_ON: " Complete, FAILED " }), [
        "complete",
        "failed"
      ])
      assert.deepStrictEqual(yield* policy({ ENRICH_SYNC_PUSH_ON: "complete" }, Option.some(["failed"])), [
        "failed"
      ])
      // the flag wins even over a value that would be refused
      assert.deepStrictEqual(yield* policy({ ENRICH_SYNC_PUSH_ON: "done" }, Option.some(["pending"])), [
        "pending"
      ])
    })
  )

  it.effect("refuses an ENRICH_SYNC_PUSH_ON that is not a list of statuses, quoting it", () =>
    assertRefused([
      [
        "source",
        { NEON_DATABASE_URL: neonUrl, ENRICH_SYNC_PUSH_ON: "complete,done" },
        'ENRICH_SYNC_PUSH_ON must be a comma list of pending, in_progress, complete, failed (it is "complete,done"); fix it in the environment or in .env'
      ]
    ])
  )

  it.effect("lists every problem at once, in one line", () =>
    assertRefused([
      [
        "both",
        { SUPABASE_DATABASE_URL: "https://fake.supabase.co", ENRICH_SYNC_PUSH_ON: "x" },
        `NEON_DATABASE_URL is not set; SUPABASE_DATABASE_URL has the scheme "https", not postgresql; ENRICH_SYNC_PUSH_ON must be a comma list of pending, in_progress, complete, failed (it is "x"); ${urlFix.many}; and fix ENRICH_SYNC_PUSH_ON there`
      ]
    ])
  )
})

describe("parsePushOn", () => {
  it("reads a comma list of statuses, lower-cased, skipping empty items", () => {
    assert.deepStrictEqual(parsePushOn("complete"), ["complete"])
    assert.deepStrictEqual(parsePushOn(" In_Progress ,,complete,"), ["in_progress", "complete"])
    assert.deepStrictEqual(parsePushOn("pending,in_progress,complete,failed"), [
      "pending",
      "in_progress",
      "complete",
      "failed"
    ])
  })

  it("is null for an empty list or any word that is not a status", () => {
    for (const text of ["", " , ", "done", "complete;failed", "complete,completed", "in progress"]) {
      assert.isNull(parsePushOn(text), text)
    }
  })
})

describe("what the redactor and the commands are given", () => {
  it.effect("the passwords of both URLs, decoded, whichever the command uses; none without one", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(
        yield* configuredSecrets.pipe(
          withEnv({ NEON_DATABASE_URL: ` ${neonUrl} `, SUPABASE_DATABASE_URL: workspaceUrl })
        ),
        [neonPassword, workspacePassword]
      )
      // a URL the command would refuse still has its password registered
      assert.deepStrictEqual(
        yield* configuredSecrets.pipe(
          withEnv({ NEON_DATABASE_URL: neonUrl.replace("postgresql://", "mysql://") })
        ),
        [neonPassword]
      )
      assert.deepStrictEqual(
        yield* configuredSecrets.pipe(
          withEnv({
            NEON_DATABASE_URL: "postgresql://neondb_owner@localhost/neondb",
            SUPABASE_DATABASE_URL: "x"
          })
        ),
        []
      )
      assert.deepStrictEqual(yield* configuredSecrets.pipe(withEnv({})), [])
    })
  )

  it.effect("the URLs that are set, unchecked and redacted", () =>
    Effect.gen(function* () {
      const { source, workspace } = yield* configuredUrls.pipe(
        withEnv({ NEON_DATABASE_URL: "not checked", SUPABASE_DATABASE_URL: " " })
      )
      assert.deepStrictEqual(Option.map(source, Redacted.value), Option.some("not checked"))
      assert.isTrue(Option.isNone(workspace))
    })
  )

  it.effect("ENRICH_SYNC_DEBUG is on for 1, true, yes and on, in any case; off otherwise", () =>
    Effect.gen(function* () {
      for (const value of ["1", "true", "TRUE", " yes ", "On"]) {
        assert.isTrue(yield* debugEnabled.pipe(withEnv({ ENRICH_SYNC_DEBUG: value })), value)
      }
      for (const value of ["0", "false", "no", "off", "2", "", "yes please"]) {
        assert.isFalse(yield* debugEnabled.pipe(withEnv({ ENRICH_SYNC_DEBUG: value })), value)
      }
      assert.isFalse(yield* debugEnabled.pipe(withEnv({})))
    })
  )
})

describe("configProviderLayer", () => {
  /** Sets the names `env` lists in the process environment (removes those it maps to undefined), for the scope. */
  const withProcessEnv = (env: Record<string, string | undefined>) =>
    Effect.acquireRelease(
      Effect.sync(() => {
        const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]))
        for (const [name, value] of Object.entries(env)) {
          if (value === undefined) delete process.env[name]
          else process.env[name] = value
        }
        return saved
      }),
      (saved) =>
        Effect.sync(() => {
          for (const [name, value] of Object.entries(saved)) {
            if (value === undefined) delete process.env[name]
            else process.env[name] = value
          }
        })
    )

  /** What the command reads through the provider, with a file system holding (or not) a `.env`. */
  const readWith = (files: Partial<FileSystem.FileSystem>) =>
    Effect.all({ urls: configuredUrls, debug: debugEnabled }).pipe(
      Effect.provide(configProviderLayer.pipe(Layer.provide(FileSystem.layerNoop(files))))
    )

  it.effect("fills what the environment lacks from .env, and passes over a .env it cannot read", () =>
    Effect.scoped(
      Effect.gen(function* () {
        yield* withProcessEnv({ NEON_DATABASE_URL: undefined, ENRICH_SYNC_DEBUG: "1" })
        const read: Array<string> = []
        const fromFile = yield* readWith({
          exists: (path) => Effect.succeed(path === ".env"),
          readFileString: (path) =>
            Effect.sync(() => {
              read.push(path)
              return `NEON_DATABASE_URL=${neonUrl}\nENRICH_SYNC_DEBUG=0\n`
            })
        })
        assert.deepStrictEqual(read, [".env"])
        assert.deepStrictEqual(Option.map(fromFile.urls.source, Redacted.value), Option.some(neonUrl))
        assert.isTrue(fromFile.debug, "the environment wins over .env")

        // exists, but cannot be read (the no-op file system fails every read)
        const unreadable = yield* readWith({ exists: () => Effect.succeed(true) })
        assert.isTrue(Option.isNone(unreadable.urls.source))
        assert.isTrue(unreadable.debug)

        const none = yield* readWith({ exists: () => Effect.succeed(false) })
        assert.isTrue(Option.isNone(none.urls.source))
        assert.isTrue(none.debug)
      })
    )
  )
})

describe("commandLayer", () => {
  it.effect(
    "provides the push policy (--push-on first) and the database of a side, without the other side's URL",
    () =>
      Effect.gen(function* () {
        // nothing connects until the first query: the URL need not reach a server
        const env = {
          NEON_DATABASE_URL: "postgresql://neondb_owner@127.0.0.1:1/neondb",
          ENRICH_SYNC_PUSH_ON: "failed"
        }
        const [fromEnv, source] = yield* Effect.all([
          Effect.service(CliConfig),
          Effect.service(SourceDatabase)
        ]).pipe(Effect.provide(commandLayer("source")), withEnv(env))
        assert.deepStrictEqual(fromEnv.policy.pushOn, ["failed"])
        assert.strictEqual(source.side, "source")
        const fromFlag = yield* Effect.service(CliConfig).pipe(
          Effect.provide(commandLayer("source", Option.some(["pending", "complete"]))),
          withEnv(env)
        )
        assert.deepStrictEqual(fromFlag.policy.pushOn, ["pending", "complete"])
      })
  )

  it.effect("fails to build, with the configuration failure, when a URL it needs is missing", () =>
    Effect.gen(function* () {
      const message = yield* configFailure(
        Effect.service(CliConfig).pipe(
          Effect.provide(commandLayer("workspace")),
          withEnv({ NEON_DATABASE_URL: neonUrl })
        )
      )
      assert.strictEqual(message, `SUPABASE_DATABASE_URL is not set; ${urlFix.one}`)
    })
  )
})
