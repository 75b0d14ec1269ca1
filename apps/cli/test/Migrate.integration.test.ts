import { assert, describe, it, layer } from "@effect/vitest"
import type { Side } from "@enrich-sync/core"
import { migrationsFor } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import { type MigrateSideResult, migrateCommand } from "../src/Migrate.ts"
import { CliFixture, cliFixture, onNeon, onWorkspace } from "./support/CliFixture.ts"
import { assertFailure, assertSuccess, parseJson } from "./support/CliResult.ts"
import { parseFlags } from "./support/CommandLine.ts"

// ---------------------------------------------------------------------------------------------------------
// the flags

describe("migrate's flags", () => {
  it.effect("default to both sides, for real, in words", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* parseFlags(migrateCommand, []), {
        side: "all",
        dryRun: false,
        json: false
      })
      assert.deepStrictEqual(
        yield* parseFlags(migrateCommand, ["--side", "workspace", "--dry-run", "--json"]),
        {
          side: "workspace",
          dryRun: true,
          json: true
        }
      )
      assert.strictEqual((yield* parseFlags(migrateCommand, ["--side", "source"])).side, "source")
    })
  )

  it.effect("refuse another side, naming the three there are, and the flags of other commands", () =>
    Effect.gen(function* () {
      assert.strictEqual(
        yield* Effect.flip(parseFlags(migrateCommand, ["--side", "both"])),
        'Invalid value for flag --side: "both". Expected: "source" | "workspace" | "all"; run `enrich-sync migrate --help` for its flags'
      )
      // migrate works on whole sides: no entity, no batch
      for (const flag of ["--entity", "--batch-size"]) {
        assert.strictEqual(
          yield* Effect.flip(parseFlags(migrateCommand, [flag, "1"])),
          `unknown flag ${flag} for \`enrich-sync migrate\`; run \`enrich-sync migrate --help\` for its flags`
        )
      }
    })
  )
})

// ---------------------------------------------------------------------------------------------------------
// against two real servers

/** Every migration of a side, as the result lists those applied. */
const all = (side: Side) => migrationsFor(side).map((m) => ({ version: m.version, name: m.name }))

/** `1 name, 2 name, ...`: the migrations of a side as the summary names them. */
const named = (side: Side) =>
  migrationsFor(side)
    .map((m) => `${m.version} ${m.name}`)
    .join(", ")

const migrationTable = (rows: ReadonlyArray<Record<string, unknown>>) => rows[0]?.present === true
const hasMigrationTable = `SELECT to_regclass('enrich_sync.schema_migrations') IS NOT NULL AS present`

const sidesOf = (json: Record<string, unknown>) => json.sides as ReadonlyArray<MigrateSideResult>

describe("migrate on two databases", () => {
  layer(cliFixture("cli_migrate"), { timeout: 120_000 })((it) => {
    it.effect("--side needs and touches that side only; a dry run lists the plan and creates nothing", () =>
      Effect.gen(function* () {
        const cli = yield* CliFixture
        const dry = parseJson(
          assertSuccess(
            yield* cli.run(["migrate", "--side", "source", "--dry-run", "--json"], {
              env: { SUPABASE_DATABASE_URL: undefined }
            })
          )
        )
        assert.deepStrictEqual(dry, {
          command: "migrate",
          ok: true,
          dryRun: true,
          sides: [
            {
              side: "source",
              alreadyApplied: [],
              applied: all("source"),
              checksumMismatches: [],
              schemaProblems: []
            }
          ]
        })
        assert.isFalse(migrationTable(yield* onNeon(hasMigrationTable)))

        const workspace = parseJson(
          assertSuccess(
            yield* cli.run(["migrate", "--side", "workspace", "--json"], {
              env: { NEON_DATABASE_URL: undefined }
            })
          )
        )
        assert.strictEqual(workspace.dryRun, false)
        const [only, ...others] = sidesOf(workspace)
        assert.deepStrictEqual(others, [])
        assert.deepStrictEqual(
          [only!.side, only!.applied, only!.alreadyApplied],
          ["workspace", all("workspace"), []]
        )
        assert.isTrue(migrationTable(yield* onWorkspace(hasMigrationTable)))
        assert.isFalse(migrationTable(yield* onNeon(hasMigrationTable)))
      })
    )

    it.effect("a side with nothing pending is up to date, with how many migrations it had before", () =>
      Effect.gen(function* () {
        const cli = yield* CliFixture
        const neon = migrationsFor("source").length
        const workspace = migrationsFor("workspace").length
        const run = assertSuccess(yield* cli.run(["migrate"]))
        assert.strictEqual(
          run.stdout,
          `Neon:      applied ${neon} migration(s): ${named("source")}\nWorkspace: up to date (${workspace} migrations applied before)\n`
        )

        const dry = assertSuccess(yield* cli.run(["migrate", "--dry-run"]))
        assert.strictEqual(
          dry.stdout,
          [
            `Neon:      up to date (${neon} migrations applied before)`,
            `Workspace: up to date (${workspace} migrations applied before)`,
            "(dry run: nothing was changed)",
            ""
          ].join("\n")
        )

        const json = parseJson(assertSuccess(yield* cli.run(["migrate", "--side", "source", "--json"])))
        const [source] = sidesOf(json)
        assert.deepStrictEqual(source!.applied, [])
        assert.deepStrictEqual(
          source!.alreadyApplied.map((a) => ({ version: a.version, name: a.name })),
          all("source")
        )
        for (const a of source!.alreadyApplied)
          assert.match(a.appliedAt, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/)
      })
    )

    it.effect(
      "a recorded migration whose statements differ from this release's is warned about, not refused",
      () =>
        Effect.gen(function* () {
          const cli = yield* CliFixture
          const workspace = migrationsFor("workspace").length
          yield* onWorkspace(`UPDATE enrich_sync.schema_migrations SET checksum = 'edited' WHERE version = 1`)
          const run = assertSuccess(yield* cli.run(["migrate", "--side", "workspace"]))
          assert.strictEqual(
            run.stdout,
            `Workspace: up to date (${workspace} migrations applied before)\n           warning: migration(s) 1 were recorded with other statements than this release's\n`
          )
          const json = parseJson(assertSuccess(yield* cli.run(["migrate", "--side", "workspace", "--json"])))
          assert.deepStrictEqual(
            sidesOf(json).map((s) => s.checksumMismatches),
            [[1]]
          )
        })
    )

    it.effect(
      "a column of another type fails the run, named with its side, the sides' results kept in --json",
      () =>
        Effect.gen(function* () {
          const cli = yield* CliFixture
          yield* onWorkspace(`ALTER TABLE company_needs_enrichment ALTER COLUMN employee_count TYPE text`)
          const problem = "public.company_needs_enrichment.employee_count is text, expected integer"
          const failed = yield* cli.run(["migrate", "--side", "workspace", "--json"])
          const line = assertFailure(
            failed,
            1,
            `the migrations are applied but the schema still differs: Workspace: ${problem};`,
            "ALTER TABLE",
            "then run `enrich-sync migrate` again"
          )
          const json = parseJson(failed)
          assert.deepInclude(json, { command: "migrate", ok: false, dryRun: false })
          assert.deepStrictEqual(json.error, {
            reason: "Configuration",
            message: line.slice("enrich-sync: ".length)
          })
          const [workspace] = sidesOf(json)
          assert.deepStrictEqual(
            [workspace!.side, workspace!.applied, workspace!.schemaProblems],
            ["workspace", [], [problem]]
          )

          // a dry run does not check the schema
          const dry = parseJson(
            assertSuccess(yield* cli.run(["migrate", "--side", "workspace", "--dry-run", "--json"]))
          )
          assert.deepStrictEqual(
            sidesOf(dry).map((s) => s.schemaProblems),
            [[]]
          )
        })
    )
  })
})
