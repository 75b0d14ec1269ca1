/**
 * `revalidate`: its summary and flags (pure), and what a run hands on (real Neon, the bin): the JSON
 * result's totals and ids file, the notes of a dry run, and the PASSED ids on stdout only when it is a
 * pipe and the run is neither `--json` nor a dry run.
 */

import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it, layer } from "@effect/vitest"
import type { RevalidateReport } from "@enrich-sync/engine"
import { demoCompanyKey, seedDemoData } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { renderRevalidate, revalidateCommand } from "../src/Revalidate.ts"
import { CliFixture, cliFixture, onNeon, updateCompany } from "./support/CliFixture.ts"
import { assertSuccess, entityColumns, parseJson } from "./support/CliResult.ts"
import { testStageFlags, words } from "./support/StageFlags.ts"

/** A line of the summary as a person reads it: its cells, which are two or more spaces apart. */
const cells = (line: string | undefined) => (line ?? "").trim().split(/ {2,}/)

const report = (
  entity: "company" | "people",
  counts: { checked: number; passed: number; failed: number; changed: number },
  contended: ReadonlyArray<string> = []
): RevalidateReport => ({
  entity,
  ...counts,
  passedIds: Array.from({ length: counts.passed }, (_, i) => demoCompanyKey(i)),
  contended,
  durationMs: 2_250
})

describe("renderRevalidate", () => {
  it("a row per entity, then the PASSED and FAILED totals over every entity", () => {
    const lines = renderRevalidate(
      [
        report("company", { checked: 1_190, passed: 1_000, failed: 190, changed: 12 }),
        report("people", { checked: 5, passed: 5, failed: 0, changed: 0 })
      ],
      false,
      false
    ).split("\n")
    assert.strictEqual(lines[0], "Re-validation on Neon (every row)")
    assert.deepStrictEqual(cells(lines[1]), ["entity", "checked", "PASSED", "FAILED", "changed", "time"])
    assert.deepStrictEqual(cells(lines[2]), ["company", "1,190", "1,000", "190", "12", "2.3s"])
    assert.deepStrictEqual(cells(lines[3]), ["people", "5", "5", "0", "0", "2.3s"])
    assert.deepStrictEqual(lines.slice(4), [
      "PASSED: 1,005",
      "FAILED: 190 (validation_errors still present: enrich them further)"
    ])
  })

  it("says which rows were checked, and when nothing was written", () => {
    const reports = [report("company", { checked: 2, passed: 2, failed: 0, changed: 2 })]
    assert.strictEqual(
      renderRevalidate(reports, true, true).split("\n")[0],
      "Re-validation on Neon (rows with enrichment_status complete) (dry run: nothing was written)"
    )
    assert.strictEqual(
      renderRevalidate(reports, true, false).split("\n")[0],
      "Re-validation on Neon (rows with enrichment_status complete)"
    )
    // nothing failed: no advice
    assert.deepStrictEqual(renderRevalidate(reports, false, false).split("\n").slice(3), [
      "PASSED: 2",
      "FAILED: 0"
    ])
  })

  it("names the rows left as they were (edited during the run), the first 20, and how many more", () => {
    const busy = Array.from({ length: 21 }, (_, i) => demoCompanyKey(i))
    const text = renderRevalidate(
      [
        report("company", { checked: 30, passed: 9, failed: 0, changed: 9 }, busy.slice(0, 12)),
        report("people", { checked: 9, passed: 0, failed: 0, changed: 0 }, busy.slice(12))
      ],
      false,
      false
    )
    assert.include(
      text,
      `\nLeft as they were (edited during the run, re-run revalidate): ${busy.slice(0, 20).join(", ")} ... and 1 more`
    )
    assert.notInclude(text, busy[20]!)
    assert.notInclude(
      renderRevalidate([report("company", { checked: 1, passed: 1, failed: 0, changed: 1 })], false, false),
      "Left as they were"
    )
  })

  it("no entity: the header and zero totals", () => {
    assert.deepStrictEqual(renderRevalidate([], false, false).split("\n").slice(1), [
      "  entity  checked  PASSED  FAILED  changed  time",
      "PASSED: 0",
      "FAILED: 0"
    ])
  })
})

testStageFlags(revalidateCommand, {
  parses: [
    [
      [],
      {
        entity: "all",
        onlyEnriched: false,
        passedIdsFile: Option.none(),
        batchSize: Option.none(),
        dryRun: false,
        json: false
      }
    ],
    [
      words("--entity company --only-enriched --passed-ids-file passed.txt --batch-size 1 --dry-run --json"),
      {
        entity: "company",
        onlyEnriched: true,
        passedIdsFile: Option.some("passed.txt"),
        batchSize: Option.some(1),
        dryRun: true,
        json: true
      }
    ]
  ],
  defaultBatchSize: 5000,
  refuses: [
    [
      ["--batch-size", "0"],
      `Invalid value for flag --batch-size: "0". Expected a whole number from 1 to 1000000, got 0`
    ],
    // re-validation reads no workspace and no push policy
    [["--push-on", "complete"], "unknown flag --push-on for `enrich-sync revalidate`"],
    // a flag after it is not taken for the file's name
    [["--passed-ids-file", "--dry-run"], "Missing value for flag --passed-ids-file. Expected: FILE"]
  ]
})

describe("revalidate on Neon", () => {
  layer(cliFixture("cli_revalidate"), { timeout: 120_000 })((it) => {
    it.effect(
      "the JSON totals and ids file; a dry run writes nothing, says so, and sends no ids down a pipe",
      () =>
        Effect.gen(function* () {
          const cli = yield* CliFixture
          // Neon only: the workspace is never configured
          const neonOnly = { env: { SUPABASE_DATABASE_URL: undefined } }
          assertSuccess(yield* cli.run(["migrate", "--side", "source"], neonOnly))
          yield* Effect.promise(() => seedDemoData(cli.neon.url))
          // two companies enriched on Neon so that they pass; every other demo row fails
          for (const index of [1, 2]) {
            yield* updateCompany(
              "neon",
              demoCompanyKey(index),
              `website = $2, domain = $3, enrichment_status = 'complete'`,
              `https://valley${index}.com`,
              `valley${index}.com`
            )
          }
          const passedOnNeon = Effect.map(
            onNeon(
              `SELECT count(*)::int AS n FROM marketing.company_invalid WHERE validation_status = 'PASSED'`
            ),
            (rows) => Number(rows[0]?.n)
          )
          const ids = `${demoCompanyKey(1)}\n${demoCompanyKey(2)}\n`
          const idsFile = join(cli.cwd, "passed.txt")

          const dryJson = yield* cli.run(["revalidate", "--only-enriched", "--dry-run", "--json"], neonOnly)
          const dry = parseJson(assertSuccess(dryJson))
          assert.deepStrictEqual(
            { ...dry, entities: entityColumns(dry, "entity", "checked", "passed", "failed") },
            {
              command: "revalidate",
              ok: true,
              dryRun: true,
              onlyEnriched: true,
              passed: 2,
              failed: 0,
              passedIdsFile: null,
              entities: [
                ["company", 2, 2, 0],
                ["people", 0, 0, 0]
              ]
            }
          )

          // stdout is a pipe, but a dry run's ids were not marked PASSED: none go down it
          const dryPipe = assertSuccess(
            yield* cli.run(["revalidate", "--only-enriched", "--dry-run"], neonOnly)
          )
          assert.strictEqual(dryPipe.stdout, "")
          assert.include(dryPipe.stderr, "(dry run: nothing was written)")
          assert.match(dryPipe.stderr, /^PASSED: 2$/m)
          assert.match(dryPipe.stderr, /^dry run: the PASSED ids are not printed for a pipe$/m)

          const dryFile = assertSuccess(
            yield* cli.run(
              ["revalidate", "--only-enriched", "--dry-run", "--passed-ids-file", idsFile],
              neonOnly
            )
          )
          assert.include(dryFile.stdout.split("\n"), `dry run: ${idsFile} was not written`)
          assert.isFalse(existsSync(idsFile))
          assert.strictEqual(yield* passedOnNeon, 0)

          // with --json, stdout (a pipe) carries the one JSON object and no ids
          const json = parseJson(
            assertSuccess(yield* cli.run(["revalidate", "--only-enriched", "--json"], neonOnly))
          )
          assert.deepStrictEqual([json.dryRun, json.passed, json.passedIdsFile], [false, 2, null])
          assert.strictEqual(yield* passedOnNeon, 2)

          const written = parseJson(
            assertSuccess(
              yield* cli.run(
                ["revalidate", "--entity", "company", "--passed-ids-file", idsFile, "--json"],
                neonOnly
              )
            )
          )
          assert.deepStrictEqual(
            {
              ...written,
              entities: entityColumns(written, "entity", "checked", "passed", "failed", "passedIds")
            },
            {
              command: "revalidate",
              ok: true,
              dryRun: false,
              onlyEnriched: false,
              passed: 2,
              failed: 117,
              passedIdsFile: idsFile,
              entities: [["company", 119, 2, 117, [demoCompanyKey(1), demoCompanyKey(2)]]]
            }
          )
          assert.strictEqual(readFileSync(idsFile, "utf8"), ids)

          // with an ids file, the summary stays on stdout and the ids go to the file only
          const human = assertSuccess(yield* cli.run(["revalidate", "--passed-ids-file", idsFile], neonOnly))
          const lines = human.stdout.trim().split("\n")
          assert.strictEqual(lines[0], "Re-validation on Neon (every row)")
          assert.deepStrictEqual(lines.slice(-3), [
            "PASSED: 2",
            "FAILED: 122 (validation_errors still present: enrich them further)",
            `PASSED ids written to ${idsFile} (2)`
          ])
          assert.notInclude(human.stdout.split("\n"), demoCompanyKey(1))
        })
    )
  })
})
