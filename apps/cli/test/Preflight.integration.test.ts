/**
 * The check every command but `migrate` runs first, on two real servers, in-process: a side without its
 * tables fails with its own error, both sides without theirs with one error naming the problems of both and
 * the fix once (the engine's `requireSchemas`); an unreachable side is named with the variable to fix,
 * before the other side's problem; nothing of the command runs before both sides a command needs pass; the command gets the push policy (`--push-on` over ENRICH_SYNC_PUSH_ON
 * over `complete`); a workspace-only command neither needs nor reaches Neon. How the bin prints these
 * failures is in `BadInput.integration.test.ts`.
 */
import { assert, describe, layer } from "@effect/vitest"
import {
  applyMigrations,
  DatabaseError,
  requireSchemas,
  SourceDatabase,
  WorkspaceDatabase
} from "@enrich-sync/engine"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { CliFailure } from "../src/CliFailure.ts"
import { requireSource, requireWorkspace, withBothSides, withWorkspace } from "../src/Preflight.ts"
import { CliFixture, cliFixture } from "./support/CliFixture.ts"
import { closedPort } from "./support/ClosedPort.ts"

const migrateHint = "; run `enrich-sync migrate` to create what is missing"

/** A URL of a server that is not there (no password: none is needed to be refused). */
const unreachableUrl = Effect.map(closedPort, (port) => `postgresql://enrich@127.0.0.1:${port}/none`)

/** Runs `effect` with the configuration `env` alone (no process environment, no `.env`). */
const configured =
  (env: Record<string, string>) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    Effect.provide(effect, ConfigProvider.layer(ConfigProvider.fromEnv({ env })))

/** Both URLs of the fixture, as a command reads them. */
const bothUrls = CliFixture.use((cli) =>
  Effect.succeed({
    NEON_DATABASE_URL: cli.neon.url,
    SUPABASE_DATABASE_URL: cli.workspace.url
  })
)

const databaseError = (error: unknown): DatabaseError => {
  assert.instanceOf(error, DatabaseError)
  return error as DatabaseError
}

/** A command on both sides whose body is `body`. */
const onBothSides = (body: Effect.Effect<void>) => withBothSides(() => body)

/**
 * The error the check before `command` refuses it with, configured with `env`: `command` is given a body
 * that notes its run, and the body must not have run.
 */
const refusal = <E, R>(
  command: (body: Effect.Effect<void>) => Effect.Effect<void, E, R>,
  env: Record<string, string>
) =>
  Effect.gen(function* () {
    const ran: Array<string> = []
    const error = yield* Effect.flip(command(Effect.sync(() => void ran.push("body"))).pipe(configured(env)))
    assert.deepStrictEqual(ran, [], "the body runs only after the check passes")
    return databaseError(error)
  })

/**
 * `error` names the side that could not be reached first, with the variable to fix, then the other side's
 * problem (`then`, its whole message).
 */
const assertUnreachableFirst = (error: DatabaseError, side: "source" | "workspace", then: string) => {
  const [label, variable] =
    side === "source" ? ["Neon", "NEON_DATABASE_URL"] : ["the workspace (Supabase)", "SUPABASE_DATABASE_URL"]
  assert.deepInclude(error, { side, reason: "Unreachable" })
  assert.isTrue(error.message.startsWith(`cannot connect to ${label}: connection refused`), error.message)
  assert.include(error.message, `; check the host and port in ${variable} and that the server is running; `)
  assert.isTrue(error.message.endsWith(`; ${then}`), error.message)
}

describe("preflight", () => {
  layer(cliFixture("cli_preflight"), { timeout: 120_000 })((it) => {
    it.effect("neither side migrated: one Schema error with the problems of both and the fix once", () =>
      Effect.gen(function* () {
        const neonAlone = yield* Effect.flip(requireSource)
        const workspaceAlone = yield* Effect.flip(requireWorkspace)
        assert.deepInclude(neonAlone, { side: "source", reason: "Schema" })
        assert.deepInclude(workspaceAlone, { side: "workspace", reason: "Schema" })
        assert.isTrue(
          neonAlone.message.startsWith(
            "Neon is not ready for enrich-sync: table marketing.company_invalid is missing;"
          ),
          neonAlone.message
        )
        assert.isTrue(
          workspaceAlone.message.startsWith(
            "the workspace (Supabase) is not ready for enrich-sync: table public.company_needs_enrichment is missing;"
          ),
          workspaceAlone.message
        )
        for (const alone of [neonAlone, workspaceAlone]) assert.isTrue(alone.message.endsWith(migrateHint))
        const problemsOf = (error: DatabaseError) => error.message.slice(0, -migrateHint.length)

        const both = yield* Effect.flip(requireSchemas)
        assert.deepInclude(both, { side: "source", reason: "Schema" })
        assert.strictEqual(
          both.message,
          `${problemsOf(neonAlone)}; ${problemsOf(workspaceAlone)}${migrateHint}`
        )

        // a command on both sides gets the same error, and its body never runs
        const refused = yield* refusal(onBothSides, yield* bothUrls)
        assert.strictEqual(refused.message, both.message)

        // the workspace unreachable as well: its connection comes first (migrate could not reach it either),
        // then Neon's missing tables, with the fix once
        const unreachable = yield* refusal(onBothSides, {
          ...(yield* bothUrls),
          SUPABASE_DATABASE_URL: yield* unreachableUrl
        })
        assertUnreachableFirst(unreachable, "workspace", neonAlone.message)
      })
    )

    it.effect(
      "one side migrated: the other side's own error; an unreachable side is named with its variable",
      () =>
        Effect.gen(function* () {
          yield* SourceDatabase.use(applyMigrations)
          yield* requireSource
          const workspace = yield* Effect.flip(requireSchemas)
          assert.deepInclude(workspace, { side: "workspace", reason: "Schema" })
          assert.strictEqual(workspace.message, (yield* Effect.flip(requireWorkspace)).message)
          assert.notInclude(workspace.message, "Neon")

          // Neon unreachable, the workspace without its tables: the connection is the problem to fix first
          const urls = yield* bothUrls
          const unreachable = yield* refusal(onBothSides, {
            ...urls,
            NEON_DATABASE_URL: yield* unreachableUrl
          })
          assertUnreachableFirst(unreachable, "source", workspace.message)

          // a workspace-only command: the workspace's own error, Neon neither configured nor reached
          const onlyWorkspace = { SUPABASE_DATABASE_URL: urls.SUPABASE_DATABASE_URL }
          const notReady = yield* refusal(withWorkspace, onlyWorkspace)
          assert.strictEqual(notReady.message, workspace.message)
          const gone = yield* refusal(withWorkspace, { SUPABASE_DATABASE_URL: yield* unreachableUrl })
          assert.deepInclude(gone, { side: "workspace", reason: "Unreachable" })
          assert.include(gone.message, "cannot connect to the workspace (Supabase)")
          assert.include(gone.message, "SUPABASE_DATABASE_URL")
        })
    )

    it.effect(
      "both migrated: the body runs, with the push policy of --push-on, else the variable, else complete",
      () =>
        Effect.gen(function* () {
          yield* WorkspaceDatabase.use(applyMigrations)
          yield* requireSchemas
          const urls = yield* bothUrls
          const policyOf = (env: Record<string, string>, pushOn: Option.Option<ReadonlyArray<string>>) =>
            withBothSides((policy) => Effect.succeed(policy.pushOn), pushOn).pipe(configured(env))
          assert.deepStrictEqual(yield* policyOf(urls, Option.none()), ["complete"])
          const fromVariable = { ...urls, ENRICH_SYNC_PUSH_ON: "complete, in_progress" }
          assert.deepStrictEqual(yield* policyOf(fromVariable, Option.none()), ["complete", "in_progress"])
          assert.deepStrictEqual(yield* policyOf(fromVariable, Option.some(["failed"])), ["failed"])

          // the body runs on the configured databases
          const [row] = yield* withBothSides(() =>
            Effect.andThen(SourceDatabase, (db) => db.query(`SELECT current_database() AS name`))
          ).pipe(configured(urls))
          assert.strictEqual(row?.name, (yield* CliFixture).neon.name)
          assert.strictEqual(
            yield* withWorkspace(Effect.succeed("listed")).pipe(
              configured({ SUPABASE_DATABASE_URL: urls.SUPABASE_DATABASE_URL })
            ),
            "listed"
          )
        })
    )

    it.effect("a missing URL is a configuration failure of the sides the command needs only", () =>
      Effect.gen(function* () {
        const urls = yield* bothUrls
        const both = yield* Effect.flip(
          withBothSides(() => Effect.void).pipe(
            configured({ SUPABASE_DATABASE_URL: urls.SUPABASE_DATABASE_URL })
          )
        )
        assert.instanceOf(both, CliFailure)
        assert.deepInclude(both, { reason: "Configuration" })
        assert.isTrue(
          both.message.startsWith("NEON_DATABASE_URL is not set; set it in the environment or in .env")
        )
        const workspace = yield* Effect.flip(
          withWorkspace(Effect.void).pipe(configured({ NEON_DATABASE_URL: urls.NEON_DATABASE_URL }))
        )
        assert.instanceOf(workspace, CliFailure)
        assert.isTrue(workspace.message.startsWith("SUPABASE_DATABASE_URL is not set;"))
        assert.notInclude(workspace.message, "NEON_DATABASE_URL is not set")
      })
    )
  })
})
