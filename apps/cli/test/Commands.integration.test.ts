/**
 * Every command end to end against two real servers, following the sync guide: migrate, backfill of the
 * 119 + 5 demo records, a first revalidate that finds the demo as the rules left it (nothing changes), the
 * guide's manual UPDATE in the workspace, push, revalidate, promote (from an ids file and from a real
 * `revalidate | promote` pipe), verify (and repair), status, and the pipeline.
 * The tests of this file share one pair of databases and run in order.
 */

import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, layer } from "@effect/vitest"
import { migrationsFor } from "@enrich-sync/core"
import { demoCompanyKey, demoPersonKey, seedDemoData } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import {
  CliFixture,
  cliFixture,
  companyRow,
  onNeon,
  onWorkspace,
  updateCompany
} from "./support/CliFixture.ts"
import { assertFailure, assertSuccess, entityColumns, parseJson } from "./support/CliResult.ts"

const count = (rows: ReadonlyArray<Record<string, unknown>>) => Number(rows[0]?.n)

const neonCount = (table: string, where = "true") =>
  Effect.map(onNeon(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`), count)

const workspaceCount = (table: string, where = "true") =>
  Effect.map(onWorkspace(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`), count)

/** The guide's example enrichment, verbatim. */
const guideUpdate = `UPDATE company_needs_enrichment
SET
  website = 'https://monongaliacounty.com',
  domain = 'monongaliacounty.com',
  enrichment_status = 'complete',
  enrichment_notes = 'Found via Google search',
  enriched_by = 'enricher@example.com',
  enriched_at = now(),
  updated_at = now()
WHERE company_unique_id = '04.04.01.01.00101.101';`

/** Enriches one demo company the way the guide does (a website and its domain, marked complete). */
const enrichCompany = (index: number) =>
  updateCompany(
    "workspace",
    demoCompanyKey(index),
    `website = $2, domain = $3, enrichment_status = 'complete', enriched_by = 'enricher@example.com',
     enriched_at = now(), updated_at = now()`,
    `https://valley${index}.com`,
    `valley${index}.com`
  )

describe("enrich-sync commands", () => {
  layer(cliFixture("cli_flow"), { timeout: 120_000 })((it) => {
    it.effect(
      "migrate: a dry run prints the plan and changes nothing; a run applies it; a second run is a no-op",
      () =>
        Effect.gen(function* () {
          const cli = yield* CliFixture
          // every migration of each side, whatever their number
          const neonMigrations = migrationsFor("source").length
          const workspaceMigrations = migrationsFor("workspace").length
          const dry = assertSuccess(yield* cli.run(["migrate", "--dry-run"]))
          assert.match(dry.stdout, new RegExp(`Neon: +would apply ${neonMigrations} migration`))
          assert.match(dry.stdout, new RegExp(`Workspace: +would apply ${workspaceMigrations} migration`))
          assert.include(dry.stdout, "dry run: nothing was changed")
          assert.strictEqual(yield* neonCount("pg_tables", "schemaname = 'marketing'"), 0)
          assert.strictEqual(yield* workspaceCount("pg_tables", "tablename = 'company_needs_enrichment'"), 0)

          const applied = assertSuccess(yield* cli.run(["migrate"]))
          assert.match(applied.stdout, new RegExp(`Neon: +applied ${neonMigrations} migration`))
          assert.match(applied.stdout, new RegExp(`Workspace: +applied ${workspaceMigrations} migration`))
          assert.strictEqual(yield* neonCount("enrich_sync.schema_migrations"), neonMigrations)
          assert.strictEqual(yield* workspaceCount("enrich_sync.schema_migrations"), workspaceMigrations)
          assert.strictEqual(
            yield* neonCount("pg_tables", "schemaname = 'marketing' AND tablename = 'company_invalid'"),
            1
          )

          const again = parseJson(assertSuccess(yield* cli.run(["migrate", "--json"])))
          assert.strictEqual(again.command, "migrate")
          assert.strictEqual(again.ok, true)
          const sides = again.sides as Array<{
            side: string
            applied: Array<unknown>
            alreadyApplied: Array<unknown>
          }>
          assert.deepStrictEqual(
            sides.map((s) => [s.side, s.applied.length, s.alreadyApplied.length]),
            [
              ["source", 0, neonMigrations],
              ["workspace", 0, workspaceMigrations]
            ]
          )
          assert.strictEqual(yield* neonCount("enrich_sync.schema_migrations"), neonMigrations)
        })
    )

    it.effect("backfill: a dry run writes nothing; a run pulls 119 + 5 records; a re-run is a no-op", () =>
      Effect.gen(function* () {
        const cli = yield* CliFixture
        const seeded = yield* Effect.promise(() => seedDemoData(cli.neon.url))
        assert.deepStrictEqual(seeded, { companies: 119, people: 5 })

        const dry = parseJson(assertSuccess(yield* cli.run(["backfill", "--dry-run", "--json"])))
        assert.strictEqual(dry.dryRun, true)
        assert.deepStrictEqual(entityColumns(dry, "entity", "merge.inserted"), [
          ["company", 119],
          ["people", 5]
        ])
        assert.strictEqual(yield* workspaceCount("company_needs_enrichment"), 0)
        assert.strictEqual(yield* workspaceCount("people_needs_enrichment"), 0)

        const pulled = assertSuccess(yield* cli.run(["backfill"]))
        assert.match(pulled.stdout, /company +119 +119/)
        assert.match(pulled.stdout, /people +5 +5/)
        const pending = "enrichment_status = 'pending'"
        assert.strictEqual(yield* workspaceCount("company_needs_enrichment", pending), 119)
        assert.strictEqual(yield* workspaceCount("people_needs_enrichment", pending), 5)
        const [before] = yield* onWorkspace(
          `SELECT max(updated_at)::text AS u, max(pulled_from_neon_at)::text AS p FROM company_needs_enrichment`
        )

        // the alias, and the JSON report of a re-run: every row unchanged, nothing written
        const rerun = parseJson(assertSuccess(yield* cli.run(["pull", "--json"])))
        assert.deepStrictEqual(entityColumns(rerun, "entity", "path", "candidates", "unchanged"), [
          ["company", "merge", 0, 119],
          ["people", "merge", 0, 5]
        ])
        const [after] = yield* onWorkspace(
          `SELECT max(updated_at)::text AS u, max(pulled_from_neon_at)::text AS p FROM company_needs_enrichment`
        )
        assert.deepStrictEqual(after, before)
      })
    )

    it.effect("revalidate on the fresh demo changes nothing: the demo rows hold what the rules produce", () =>
      Effect.gen(function* () {
        const cli = yield* CliFixture
        const neonRows = Effect.map(
          Effect.all([
            onNeon(`SELECT t::text AS row FROM marketing.company_invalid t ORDER BY t.id`),
            onNeon(`SELECT t::text AS row FROM marketing.people_invalid t ORDER BY t.id`)
          ]),
          (tables) => tables.map((rows) => rows.map((r) => String(r.row)))
        )
        const before = yield* neonRows
        assert.deepStrictEqual(
          before.map((rows) => rows.length),
          [119, 5]
        )

        const result = parseJson(assertSuccess(yield* cli.run(["revalidate", "--json"])))
        assert.deepStrictEqual(entityColumns(result, "entity", "checked", "passed", "failed", "changed"), [
          ["company", 119, 0, 119, 0],
          ["people", 5, 0, 5, 0]
        ])
        // byte for byte: every column of every row, as Postgres prints it
        assert.deepStrictEqual(yield* neonRows, before)
        assert.strictEqual(yield* neonCount("public.shq_validation_log", "action = 'revalidate'"), 0)
      })
    )

    it.effect(
      "the guide's manual UPDATE, then push (a dry run first), revalidate and promote from the ids file",
      () =>
        Effect.gen(function* () {
          const cli = yield* CliFixture
          const key = "04.04.01.01.00101.101"
          yield* onWorkspace(guideUpdate)

          const dry = assertSuccess(yield* cli.run(["push", "--dry-run"]))
          assert.include(dry.stdout, `company ${key}  push to Neon`)
          assert.strictEqual(
            yield* neonCount("marketing.company_invalid", "website = 'https://monongaliacounty.com'"),
            0
          )

          const pushed = parseJson(assertSuccess(yield* cli.run(["push", "--json"])))
          const [company] = entityColumns(pushed, "entity", "candidates", "merge.pushed")
          assert.deepStrictEqual(company, ["company", 1, 1])
          assert.deepStrictEqual(yield* companyRow("neon", key, "website, domain, enrichment_status"), {
            website: "https://monongaliacounty.com",
            domain: "monongaliacounty.com",
            enrichment_status: "complete"
          })
          assert.isAbove(yield* neonCount("public.shq_validation_log", `record_id = '${key}'`), 0)
          assert.deepStrictEqual(
            yield* companyRow("workspace", key, "pushed_to_neon_at IS NOT NULL AS pushed"),
            { pushed: true }
          )

          // a dry run of revalidate writes nothing, not even the ids file
          const idsFile = join(cli.cwd, "passed_companies.txt")
          assertSuccess(
            yield* cli.run(["revalidate", "--only-enriched", "--dry-run", "--passed-ids-file", idsFile])
          )
          assert.isFalse(existsSync(idsFile))

          const revalidated = assertSuccess(
            yield* cli.run(["revalidate", "--only-enriched", "--passed-ids-file", idsFile])
          )
          assert.match(revalidated.stdout, /^PASSED: 1$/m)
          assert.match(revalidated.stdout, /^FAILED: 0$/m)
          assert.strictEqual(readFileSync(idsFile, "utf8"), `${key}\n`)

          // a dry run of promote writes nothing (no backup either)
          const backups = join(cli.cwd, "backups")
          assertSuccess(
            yield* cli.run(["promote", "--dry-run", "--passed-ids-file", idsFile, "--backup-dir", backups])
          )
          assert.strictEqual(yield* neonCount("marketing.company_master"), 0)
          assert.isFalse(existsSync(backups))

          const promoted = assertSuccess(
            yield* cli.run(["promote", "--passed-ids-file", idsFile, "--backup-dir", backups])
          )
          assert.match(promoted.stdout, /^Promoted: 1$/m)
          const backupLine = promoted.stdout
            .split("\n")
            .find((l) => l.startsWith("Backup of the promoted rows: "))
          assert.isDefined(backupLine)
          const backupFile = backupLine!.slice("Backup of the promoted rows: ".length)
          const backedUp = readFileSync(backupFile, "utf8")
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l))
          assert.deepStrictEqual(
            backedUp.map((r: { company_unique_id: string }) => r.company_unique_id),
            [key]
          )
          assert.strictEqual(yield* neonCount("marketing.company_master", `company_unique_id = '${key}'`), 1)
          assert.strictEqual(yield* neonCount("marketing.company_invalid", `company_unique_id = '${key}'`), 0)
          assert.strictEqual(yield* neonCount("marketing.company_invalid"), 118)
          // the workspace row is kept, marked promoted
          assert.deepStrictEqual(yield* companyRow("workspace", key, "sync_state"), {
            sync_state: "promoted"
          })
        })
    )

    it.effect(
      "revalidate | promote through a real shell pipe, and an ids file with a junk line promotes nothing",
      () =>
        Effect.gen(function* () {
          const cli = yield* CliFixture
          yield* enrichCompany(1)
          yield* enrichCompany(2)
          assertSuccess(yield* cli.run(["push"]))

          const junk = join(cli.cwd, "junk.txt")
          writeFileSync(junk, `# PASSED companies\n${demoCompanyKey(1)}\n\nnot-an-id\n${demoCompanyKey(2)}\n`)
          const refused = yield* cli.run(["promote", "--passed-ids-file", junk])
          assertFailure(refused, 1, `${junk}:4`, '"not-an-id"', "not a Barton ID")
          assert.strictEqual(yield* neonCount("marketing.company_master"), 1)

          // revalidate prints only the PASSED ids on stdout when it is a pipe; its counts go to stderr
          const alone = assertSuccess(yield* cli.run(["revalidate", "--only-enriched"]))
          assert.deepStrictEqual(alone.stdout.trim().split("\n"), [demoCompanyKey(1), demoCompanyKey(2)])
          assert.match(alone.stderr, /^PASSED: 2$/m)

          const piped = assertSuccess(
            yield* cli.shell(`$CLI revalidate --only-enriched | $CLI promote --backup-dir backups`)
          )
          assert.match(piped.stdout, /ids from standard input/)
          assert.match(piped.stdout, /^Promoted: 2$/m)
          assert.strictEqual(
            yield* neonCount(
              "marketing.company_master",
              `company_unique_id IN ('${demoCompanyKey(1)}', '${demoCompanyKey(2)}')`
            ),
            2
          )
          assert.isAbove(readdirSync(join(cli.cwd, "backups")).length, 0)
          assert.strictEqual(yield* workspaceCount("company_needs_enrichment", "sync_state = 'promoted'"), 3)
        })
    )

    it.effect(
      "verify: in sync; then lists a Neon change and a lost workspace row; --repair fixes exactly those",
      () =>
        Effect.gen(function* () {
          const cli = yield* CliFixture
          const inSync = assertSuccess(yield* cli.run(["verify"]))
          assert.include(inSync.stdout, "Both sides are in sync.")

          const changed = demoCompanyKey(20)
          const lost = demoCompanyKey(21)
          yield* updateCompany("neon", changed, "industry = 'Coal Mining'")
          yield* onWorkspace(`DELETE FROM company_needs_enrichment WHERE company_unique_id = $1`, [lost])
          const differs = assertSuccess(yield* cli.run(["verify", "--entity", "company"]))
          assert.match(
            differs.stdout,
            new RegExp(`company +missing in the workspace +${lost.replaceAll(".", "\\.")}`)
          )
          assert.match(
            differs.stdout,
            new RegExp(`company +changed on Neon, not merged +${changed.replaceAll(".", "\\.")}`)
          )
          assert.include(differs.stdout, "enrich-sync verify --repair")
          // verify alone writes nothing
          assert.strictEqual(
            yield* workspaceCount("company_needs_enrichment", `company_unique_id = '${lost}'`),
            0
          )

          const repaired = parseJson(assertSuccess(yield* cli.run(["verify", "--repair", "--json"])))
          assert.strictEqual(repaired.inSync, true)
          const [company] = entityColumns(repaired, "report.repaired.inserted", "report.repaired.updated")
          assert.deepStrictEqual(company, [1, 1])
          assert.deepStrictEqual(yield* companyRow("workspace", changed, "industry"), {
            industry: "Coal Mining"
          })
          assert.strictEqual(
            yield* workspaceCount("company_needs_enrichment", `company_unique_id = '${lost}'`),
            1
          )
        })
    )

    it.effect(
      "pipeline --no-wait pushes, re-validates and promotes what was enriched, with a summary; status counts",
      () =>
        Effect.gen(function* () {
          const cli = yield* CliFixture
          // company 3 also has an invalid phone: it stays FAILED and is flagged still_invalid
          yield* enrichCompany(3)
          yield* enrichCompany(5)
          yield* onWorkspace(
            `UPDATE people_needs_enrichment SET email = 'ada.lovelace@example.com', enrichment_status = 'complete' WHERE unique_id = $1`,
            [demoPersonKey(0)]
          )
          // an enrichment still in progress is not pushed
          yield* updateCompany(
            "workspace",
            demoCompanyKey(4),
            `website = 'https://draft.example', enrichment_status = 'in_progress'`
          )
          const dry = assertSuccess(yield* cli.run(["pipeline", "--no-wait", "--dry-run"]))
          assert.include(dry.stdout, "Pipeline summary (dry run: nothing was written)")
          assert.strictEqual(yield* neonCount("marketing.company_master"), 3)
          assert.strictEqual(
            yield* neonCount("marketing.company_invalid", "enrichment_status = 'complete'"),
            0
          )

          const run = assertSuccess(yield* cli.run(["pipeline", "--no-wait"]))
          assert.include(run.stdout, "Pipeline summary")
          assert.match(run.stdout, /revalidate +1 PASSED, 1 FAILED +1 PASSED, 0 FAILED/)
          assert.match(run.stdout, /promote +1 promoted, 1 still invalid +1 promoted, 0 still invalid/)
          assert.match(run.stdout, /^Totals: pushed 3, PASSED 2, FAILED 1, promoted 2$/m)
          assert.strictEqual(
            yield* neonCount("marketing.company_master", `company_unique_id = '${demoCompanyKey(5)}'`),
            1
          )
          assert.strictEqual(
            yield* neonCount(
              "marketing.company_invalid",
              `company_unique_id = '${demoCompanyKey(3)}' AND still_invalid`
            ),
            1
          )
          assert.strictEqual(
            yield* neonCount("marketing.people_master", `unique_id = '${demoPersonKey(0)}'`),
            1
          )
          assert.strictEqual(
            yield* neonCount(
              "marketing.company_invalid",
              `company_unique_id = '${demoCompanyKey(4)}' AND website IS NULL`
            ),
            1
          )

          const status = parseJson(assertSuccess(yield* cli.run(["status", "--json"])))
          type Status = {
            entity: string
            neon: { invalid: number; master: number; stillInvalid: number }
            workspace: {
              active: number
              promoted: number
              byStatus: Record<string, number>
              lastPush: string | null
            }
          }
          const [company, people] = status.entities as [Status, Status]
          assert.deepStrictEqual(
            [
              company.entity,
              company.neon.invalid,
              company.neon.master,
              company.workspace.active,
              company.workspace.promoted
            ],
            ["company", 115, 4, 115, 4]
          )
          assert.strictEqual(company.workspace.byStatus.in_progress, 1)
          assert.strictEqual(company.neon.stillInvalid, 1)
          assert.isNotNull(company.workspace.lastPush)
          assert.deepStrictEqual(
            [people.neon.invalid, people.neon.master, people.workspace.promoted],
            [4, 1, 1]
          )
        })
    )

    it.effect(
      "configuration comes from .env in the working folder, the environment winning; status as a table",
      () =>
        Effect.gen(function* () {
          const cli = yield* CliFixture
          writeFileSync(
            join(cli.cwd, ".env"),
            `NEON_DATABASE_URL=${cli.neon.url}\nSUPABASE_DATABASE_URL=postgresql://nobody:wrong@127.0.0.1:1/none\n`
          )
          const fromFile = assertSuccess(
            yield* cli.run(["status", "--entity", "people"], { env: { NEON_DATABASE_URL: undefined } })
          )
          assert.match(fromFile.stdout, /Neon invalid rows +4/)
          assert.match(fromFile.stdout, /Neon master rows +1/)
          assert.match(fromFile.stdout, /Last push +\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/m)
          const fileOnly = yield* cli.run(["status"], {
            env: { NEON_DATABASE_URL: undefined, SUPABASE_DATABASE_URL: undefined }
          })
          assertFailure(fileOnly, 1, "cannot connect to the workspace (Supabase)", "SUPABASE_DATABASE_URL")
        })
    )
  })
})
