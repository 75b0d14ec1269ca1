import { assert, describe, it, layer } from "@effect/vitest"
import type { BackfillReport, PromoteReport, PushReport, RevalidateReport } from "@enrich-sync/engine"
import { emptyStats } from "@enrich-sync/engine"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { operatorPrompt, pipelineCommand, renderPipelineSummary } from "../src/Pipeline.ts"
import type { PromoteRun } from "../src/Promote.ts"
import { CliFixture, cliFixture, demoOnNeon, type RunOptions } from "./support/CliFixture.ts"
import { assertSuccess, parseJson } from "./support/CliResult.ts"
import { assertParses, assertRefuses, parseFlags } from "./support/CommandLine.ts"

// ---------------------------------------------------------------------------------------------------------
// the summary

const backfill = (
  entity: "company" | "people",
  copied: number,
  merge: { readonly inserted: number; readonly updated: number } | null
): BackfillReport => ({
  entity,
  path: merge === null ? "copy" : "merge",
  sourceRows: 0,
  copied,
  candidates: 0,
  unchanged: 0,
  merge: merge === null ? null : { ...emptyStats(), ...merge },
  durationMs: 1
})

const push = (
  entity: "company" | "people",
  merge: { readonly pushed: number; readonly conflicts: number } | null
): PushReport => ({
  entity,
  candidates: 0,
  merge: merge === null ? null : { ...emptyStats(), ...merge },
  durationMs: 1
})

const revalidate = (entity: "company" | "people", passed: number, failed: number): RevalidateReport => ({
  entity,
  checked: passed + failed,
  passed,
  failed,
  changed: 0,
  passedIds: [],
  contended: [],
  durationMs: 1
})

const promoted = (entity: "company" | "people", count: number, stillInvalid: number): PromoteReport => ({
  entity,
  candidates: count,
  promoted: count,
  updatedInMaster: 0,
  skipped: [],
  stillInvalid,
  backupFile: null,
  workspaceMarked: count,
  durationMs: 1
})

const promoteRun = (
  entities: ReadonlyArray<PromoteReport>,
  backupFiles: ReadonlyArray<string> = []
): PromoteRun => ({
  ids: null,
  entities,
  promoted: entities.reduce((n, e) => n + e.promoted, 0),
  skipped: [],
  backupFiles
})

describe("renderPipelineSummary", () => {
  it("a column per entity, a row per stage, the totals and the backups", () => {
    const text = renderPipelineSummary(
      [backfill("company", 117, { inserted: 2, updated: 4 }), backfill("people", 5, null)],
      [push("company", { pushed: 3, conflicts: 2 }), push("people", null)],
      // no report of the company: its cell stays empty
      [revalidate("people", 1, 0)],
      promoteRun([promoted("company", 1, 1), promoted("people", 0, 0)], ["backups/company-1.jsonl"]),
      false
    )
    assert.strictEqual(
      text,
      [
        "Pipeline summary",
        "  stage       company                      people",
        "  backfill    119 new, 4 updated           5 new, 0 updated",
        "  push        3 pushed, 2 conflicts        0 pushed",
        "  revalidate                               1 PASSED, 0 FAILED",
        "  promote     1 promoted, 1 still invalid  0 promoted, 0 still invalid",
        "Totals: pushed 3, PASSED 1, FAILED 0, promoted 1",
        "Backup of the promoted rows: backups/company-1.jsonl"
      ].join("\n")
    )
  })

  it("a dry run says nothing was written; a push without conflicts does not mention them", () => {
    const text = renderPipelineSummary(
      [backfill("company", 0, { inserted: 0, updated: 1 })],
      [push("company", { pushed: 2, conflicts: 0 })],
      [revalidate("company", 2, 3)],
      promoteRun([promoted("company", 2, 3)]),
      true
    )
    const lines = text.split("\n")
    assert.strictEqual(lines[0], "Pipeline summary (dry run: nothing was written)")
    assert.strictEqual(lines[3], "  push        2 pushed")
    assert.strictEqual(lines.at(-1), "Totals: pushed 2, PASSED 2, FAILED 3, promoted 2")
    assert.notInclude(text, "Backup")
  })

  it("no entity: the stages alone and totals of zero", () => {
    assert.strictEqual(
      renderPipelineSummary([], [], [], promoteRun([]), false),
      [
        "Pipeline summary",
        "  stage",
        "  backfill",
        "  push",
        "  revalidate",
        "  promote",
        "Totals: pushed 0, PASSED 0, FAILED 0, promoted 0"
      ].join("\n")
    )
  })
})

// ---------------------------------------------------------------------------------------------------------
// the flags

describe("pipeline's flags", () => {
  it.effect(
    "default to every entity, waiting, the enriched rows only, each stage's batch size, for real",
    () =>
      Effect.gen(function* () {
        yield* assertParses(pipelineCommand, [
          [
            ["pipeline"],
            {
              entity: "all",
              noWait: false,
              all: false,
              backupDir: Option.none(),
              batchSize: Option.none(),
              dryRun: false,
              json: false,
              pushOn: Option.none()
            }
          ],
          [
            [
              "pipeline",
              "--entity",
              "company",
              "--no-wait",
              "--all",
              "--backup-dir",
              "saved",
              "--batch-size",
              "1000000",
              "--dry-run",
              "--json",
              "--push-on",
              "complete,failed"
            ],
            {
              entity: "company",
              noWait: true,
              all: true,
              backupDir: Option.some("saved"),
              batchSize: Option.some(1_000_000),
              dryRun: true,
              json: true,
              pushOn: Option.some(["complete", "failed"])
            }
          ]
        ])
        assert.isFalse((yield* parseFlags(pipelineCommand, ["--no-all"])).all)
      })
  )

  it.effect("refuse --no-no-wait, a batch size out of range and an unknown status", () =>
    assertRefuses(pipelineCommand, [
      [["pipeline", "--no-no-wait"], "unknown flag --no-no-wait for `enrich-sync pipeline`"],
      [
        ["pipeline", "--batch-size", "1000001"],
        'Invalid value for flag --batch-size: "1000001". Expected a whole number from 1 to 1000000, got 1000001'
      ],
      [
        ["pipeline", "--push-on", "enriched"],
        'Invalid value for flag --push-on: "enriched". Expected a comma list of pending, in_progress, complete, failed, got "enriched"'
      ]
    ])
  )
})

// ---------------------------------------------------------------------------------------------------------
// against two real servers

const noTerminal = "standard input is not a terminal: continuing without waiting for the operator"

/** Runs `enrich-sync pipeline <args>`, which must succeed. */
const pipeline = (args: ReadonlyArray<string>, options?: RunOptions) =>
  Effect.flatMap(CliFixture, (cli) => Effect.map(cli.run(["pipeline", ...args], options), assertSuccess))

const entitiesOfStage = (json: Record<string, unknown>, stage: "backfill" | "push" | "revalidate") =>
  (json[stage] as ReadonlyArray<{ readonly entity: string }>).map((r) => r.entity)

describe("pipeline on two databases", () => {
  layer(cliFixture("cli_pipeline"), { timeout: 120_000 })((it) => {
    it.effect("without a terminal: no wait, a note saying so; the --json result of every stage", () =>
      Effect.gen(function* () {
        yield* demoOnNeon

        // standard input is /dev/null here, then a pipe: neither is a terminal
        for (const input of [undefined, "\n"]) {
          const run = yield* pipeline(["--json"], input === undefined ? {} : { input })
          assert.include(run.stderr.split("\n"), noTerminal)
          assert.notInclude(run.stderr, operatorPrompt)
          const json = parseJson(run)
          assert.deepInclude(json, {
            command: "pipeline",
            ok: true,
            dryRun: false,
            waited: "skipped (no terminal)",
            pushOn: ["complete"]
          })
          for (const stage of ["backfill", "push", "revalidate"] as const)
            assert.deepStrictEqual(entitiesOfStage(json, stage), ["company", "people"], stage)
          const promote = json.promote as PromoteRun
          assert.deepStrictEqual(
            promote.entities.map((e) => e.entity),
            ["company", "people"]
          )
          assert.strictEqual(promote.promoted, 0)
          // only the rows whose enrichment is complete are re-validated: none yet
          assert.deepStrictEqual(
            (json.revalidate as ReadonlyArray<RevalidateReport>).map((r) => r.checked),
            [0, 0]
          )
        }
      })
    )

    it.effect(
      "--no-wait skips the wait silently; --entity, --all, --push-on and --dry-run reach the stages",
      () =>
        Effect.gen(function* () {
          const run = yield* pipeline([
            "--no-wait",
            "--entity",
            "people",
            "--all",
            "--push-on",
            "complete,in_progress",
            "--dry-run",
            "--json"
          ])
          assert.notInclude(run.stderr, noTerminal)
          const json = parseJson(run)
          assert.deepInclude(json, {
            dryRun: true,
            waited: "skipped (--no-wait)",
            pushOn: ["complete", "in_progress"]
          })
          for (const stage of ["backfill", "push", "revalidate"] as const)
            assert.deepStrictEqual(entitiesOfStage(json, stage), ["people"], stage)
          // --all: every row of the invalid table, enriched or not (the 5 demo people fail the rules)
          assert.deepStrictEqual(
            (json.revalidate as ReadonlyArray<RevalidateReport>).map((r) => [r.checked, r.failed]),
            [[5, 5]]
          )
        })
    )

    it.effect("the stages print in order, each with its own heading, then the summary", () =>
      Effect.gen(function* () {
        const run = yield* pipeline(["--no-wait", "--all", "--dry-run"])
        const headings = [
          "Backfill Neon -> workspace (dry run: nothing was written)",
          "Push workspace -> Neon (rows with enrichment_status complete) (dry run: nothing was written)",
          "Re-validation on Neon (every row) (dry run: nothing was written)",
          "Promote to the master tables (the ids that passed re-validation) (dry run: nothing was written, no backup made)",
          "Pipeline summary (dry run: nothing was written)"
        ]
        const lines = run.stdout.split("\n")
        const at = headings.map((heading) => lines.indexOf(heading))
        assert.notInclude(at, -1, `every heading is printed: ${run.stdout}`)
        assert.deepStrictEqual(
          at,
          [...at].sort((a, b) => a - b)
        )
        assert.strictEqual(lines.at(-2), "Totals: pushed 0, PASSED 0, FAILED 124, promoted 0")
      })
    )
  })
})
