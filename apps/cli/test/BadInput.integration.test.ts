/**
 * Bad input gets one clear line on stderr naming the problem and the fix, the right exit code (1
 * operational, 2 usage), nothing written, and never a password: missing or malformed URLs, an unreachable
 * host, a wrong password, missing tables, a column of the wrong type, a missing ids file, unknown commands
 * and flags, bad flag values.
 */

import { assert, describe, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { CliFixture, cliFixture, onNeon } from "./support/CliFixture.ts"
import { assertFailure, assertSuccess, parseJson } from "./support/CliResult.ts"
import { closedPort } from "./support/ClosedPort.ts"

describe("bad input", () => {
  layer(cliFixture("cli_bad"), { timeout: 120_000 })((it) => {
    it.effect("usage errors exit 2 with one line; configuration errors list every problem at once", () =>
      Effect.gen(function* () {
        const cli = yield* CliFixture
        const port = yield* closedPort
        const wrongPassword = "not-the-password-42"
        const neonWrongPassword = cli.neon.url.replace(
          `:${encodeURIComponent(cli.neon.server.password)}@`,
          `:${wrongPassword}@`
        )
        assert.notStrictEqual(neonWrongPassword, cli.neon.url)
        const [
          unknownFlag,
          badValue,
          unknownCommand,
          help,
          noUrls,
          noUrlsJson,
          malformed,
          unreachable,
          refused,
          noFile
        ] = yield* Effect.all(
          [
            cli.run(["backfill", "--bogus", "--json"]),
            cli.run(["push", "--entity", "companies"]),
            cli.run(["promot"]),
            cli.run(["promote", "--help"]),
            cli.run(["status"], { env: { NEON_DATABASE_URL: undefined, SUPABASE_DATABASE_URL: undefined } }),
            cli.run(["verify", "--json"], {
              env: { NEON_DATABASE_URL: undefined, SUPABASE_DATABASE_URL: "" }
            }),
            cli.run(["backfill"], { env: { NEON_DATABASE_URL: "postgres//user:secret-pw@host/db" } }),
            cli.run(["status"], {
              env: { NEON_DATABASE_URL: `postgresql://postgres:pw-unused@127.0.0.1:${port}/db` }
            }),
            cli.run(["revalidate"], { env: { NEON_DATABASE_URL: neonWrongPassword } }),
            cli.run(["promote", "--passed-ids-file", "missing-ids.txt"])
          ],
          { concurrency: 2 }
        )
        assertFailure(unknownFlag, 2, "unknown flag --bogus", "enrich-sync backfill --help")
        assert.deepStrictEqual(parseJson(unknownFlag), {
          command: "backfill",
          ok: false,
          error: { reason: "Usage", message: assertFailure(unknownFlag, 2).slice("enrich-sync: ".length) }
        })
        assertFailure(badValue, 2, "--entity", '"companies"', "enrich-sync push --help")
        assertFailure(unknownCommand, 2, 'unknown command "promot"', "did you mean promote?")
        assertSuccess(help)
        assert.include(help.stdout, "--passed-ids-file")
        assert.include(help.stdout, "--dry-run")
        assert.strictEqual(help.stderr, "")

        assertFailure(noUrls, 1, "NEON_DATABASE_URL is not set", "SUPABASE_DATABASE_URL is not set", ".env")
        assertFailure(noUrlsJson, 1, "NEON_DATABASE_URL is not set", "SUPABASE_DATABASE_URL is not set")
        const json = parseJson(noUrlsJson)
        assert.strictEqual(json.command, "verify")
        assert.strictEqual(json.ok, false)
        assert.include((json.error as { message: string }).message, "NEON_DATABASE_URL is not set")

        assertFailure(malformed, 1, "NEON_DATABASE_URL is not a URL")
        assert.notInclude(malformed.stderr, "secret-pw")
        assertFailure(unreachable, 1, "cannot connect to Neon", "connection refused", "NEON_DATABASE_URL")
        assertFailure(
          refused,
          1,
          "Neon refused the login",
          "check the user and password in NEON_DATABASE_URL"
        )
        assert.notInclude(refused.stderr, wrongPassword)
        assertFailure(noFile, 1, "cannot read the ids file missing-ids.txt", "--passed-ids-file")
      })
    )

    it.effect(
      "missing tables suggest migrate; a column of another type is named; revalidate needs Neon only",
      () =>
        Effect.gen(function* () {
          const cli = yield* CliFixture
          const missing = yield* cli.run(["backfill"])
          assertFailure(
            missing,
            1,
            "table marketing.company_invalid is missing",
            "table public.company_needs_enrichment is missing",
            "run `enrich-sync migrate`"
          )

          // migrate one side without the other's URL, then revalidate (Neon only) without SUPABASE_DATABASE_URL
          const neonOnly = { env: { SUPABASE_DATABASE_URL: undefined } }
          assertSuccess(yield* cli.run(["migrate", "--side", "source"], neonOnly))
          const revalidated = assertSuccess(yield* cli.run(["revalidate", "--json"], neonOnly))
          assert.strictEqual(parseJson(revalidated).ok, true)
          const workspaceMissing = yield* cli.run(["status"])
          assertFailure(
            workspaceMissing,
            1,
            "workspace (Supabase)",
            "company_needs_enrichment is missing",
            "migrate"
          )

          yield* onNeon(`ALTER TABLE marketing.company_invalid ALTER COLUMN employee_count TYPE text`)
          const wrongType = yield* cli.run(["revalidate"], neonOnly)
          assertFailure(
            wrongType,
            1,
            "marketing.company_invalid.employee_count is text, expected integer",
            "ALTER TABLE"
          )
          assert.notInclude(wrongType.stderr, "to create what is missing")
          const migrateWrongType = yield* cli.run(["migrate", "--side", "source"], neonOnly)
          assertFailure(migrateWrongType, 1, "employee_count is text, expected integer", "ALTER TABLE")
        })
    )
  })
})
