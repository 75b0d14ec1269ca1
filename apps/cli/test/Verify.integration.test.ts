import { assert, describe, it, layer } from "@effect/vitest"
import type { ApplyStats, KeyList, VerifyReport } from "@enrich-sync/engine"
import { emptyStats } from "@enrich-sync/engine"
import { demoCompanyKey } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { renderVerify, type VerifyResult, verifyCommand } from "../src/Verify.ts"
import { CliFixture, cliFixture, companyRow, demoPulled, updateCompany } from "./support/CliFixture.ts"
import { assertSuccess, parseJson } from "./support/CliResult.ts"
import { assertParses, assertRefuses } from "./support/CommandLine.ts"

// ---------------------------------------------------------------------------------------------------------
// the human summary

const none: KeyList = { count: 0, keys: [] }
const listed = (...keys: ReadonlyArray<string>): KeyList => ({ count: keys.length, keys })

const report = (entity: "company" | "people", fields: Partial<VerifyReport> = {}): VerifyReport => {
  const base: VerifyReport = {
    entity,
    neonRows: 0,
    workspaceRows: 0,
    buckets: 4096,
    compared: "versions",
    differingBuckets: 0,
    missingInWorkspace: none,
    missingOnNeon: none,
    neonChanged: none,
    unsyncedEdits: none,
    corruptBase: none,
    inSync: true,
    repaired: null,
    durationMs: 1
  }
  return { ...base, ...fields }
}

const stats = (fields: Partial<ApplyStats>): ApplyStats => ({ ...emptyStats(), ...fields })

/** The lines of a summary that hold `entity`'s cells, each split into its cells (two spaces apart). */
const cellsOf = (text: string, first: string) =>
  text
    .split("\n")
    .filter((line) => line.startsWith(`  ${first} `))
    .map((line) => line.trim().split(/ {2,}/))

const header = [
  "entity",
  "Neon rows",
  "workspace rows",
  "missing in workspace",
  "missing on Neon",
  "Neon changed",
  "unsynced edits",
  "corrupt base",
  "in sync"
]

describe("renderVerify", () => {
  it("in sync: one row per entity under the column headers, and the sentence saying so", () => {
    const text = renderVerify(
      [
        { report: report("company", { neonRows: 1190, workspaceRows: 1190 }), after: null },
        { report: report("people", { neonRows: 5, workspaceRows: 5 }), after: null }
      ],
      false
    )
    const lines = text.split("\n")
    assert.strictEqual(lines[0], "Verify Neon <-> workspace")
    assert.deepStrictEqual(lines[1]!.trim().split(/ {2,}/), header)
    assert.deepStrictEqual(cellsOf(text, "company"), [
      ["company", "1,190", "1,190", "0", "0", "0", "0", "0", "yes"]
    ])
    assert.deepStrictEqual(cellsOf(text, "people"), [["people", "5", "5", "0", "0", "0", "0", "0", "yes"]])
    assert.strictEqual(lines.at(-1), "Both sides are in sync.")
    assert.notInclude(text, "Differences:")
    assert.notInclude(text, "--repair")
  })

  it("nothing compared: the headers alone, in sync", () => {
    const lines = renderVerify([], false).split("\n")
    assert.strictEqual(lines.length, 3)
    assert.deepStrictEqual(lines[1]!.trim().split(/ {2,}/), header)
    assert.strictEqual(lines[2], "Both sides are in sync.")
  })

  it("differences: each category in its column, each key on a line with its label, and the repair to run", () => {
    const text = renderVerify(
      [
        {
          report: report("company", {
            neonRows: 10,
            workspaceRows: 9,
            missingInWorkspace: listed("K1"),
            missingOnNeon: listed("K2", "K3"),
            neonChanged: listed("K4", "K5", "K6"),
            unsyncedEdits: listed("K7", "K8", "K9", "K10"),
            corruptBase: listed("K11", "K12", "K13", "K14", "K15"),
            inSync: false
          }),
          after: null
        },
        { report: report("people", { neonRows: 5, workspaceRows: 5 }), after: null }
      ],
      false
    )
    assert.deepStrictEqual(cellsOf(text, "company")[0], ["company", "10", "9", "1", "2", "3", "4", "5", "no"])
    assert.deepStrictEqual(cellsOf(text, "people")[0], ["people", "5", "5", "0", "0", "0", "0", "0", "yes"])
    // one line per key: the entity, the label of the key's category, the key; categories in the columns' order
    const listedKeys: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
      ["missing in the workspace", ["K1"]],
      ["missing on Neon", ["K2", "K3"]],
      ["changed on Neon, not merged", ["K4", "K5", "K6"]],
      ["unsynced workspace edits", ["K7", "K8", "K9", "K10"]],
      ["corrupt sync base", ["K11", "K12", "K13", "K14", "K15"]]
    ]
    const differences = text.split("Differences:\n")[1]!.split("\n")
    assert.deepStrictEqual(
      differences.slice(0, 15).map((line) => line.trim().split(/ {2,}/)),
      listedKeys.flatMap(([label, keys]) => keys.map((key) => ["company", label, key]))
    )
    assert.strictEqual(differences[15], "Run `enrich-sync verify --repair` to merge exactly these keys.")
    assert.strictEqual(differences.length, 16)
    assert.notInclude(text, "Both sides are in sync.")
  })

  it("lists at most 50 keys of a category, then how many more (of the full count, beyond the keys listed)", () => {
    const keys = Array.from({ length: 60 }, (_, i) => `K${String(i).padStart(2, "0")}`)
    const text = renderVerify(
      [
        {
          report: report("company", {
            missingInWorkspace: { count: 75, keys },
            neonChanged: { count: 30, keys: keys.slice(0, 10) },
            inSync: false
          }),
          after: null
        }
      ],
      false
    )
    const missing = cellsOf(text, "company").filter((cells) => cells[1] === "missing in the workspace")
    assert.strictEqual(missing.length, 51)
    assert.deepStrictEqual(missing[49], ["company", "missing in the workspace", "K49"])
    assert.deepStrictEqual(missing[50], ["company", "missing in the workspace", "... and 25 more"])
    const changed = cellsOf(text, "company").filter((cells) => cells[1] === "changed on Neon, not merged")
    assert.deepStrictEqual(
      changed.map((cells) => cells[2]),
      [...keys.slice(0, 10), "... and 20 more"]
    )
  })

  it("--repair: what each repair merged, and what is left or that it is now in sync; no hint to repair", () => {
    const results: ReadonlyArray<VerifyResult> = [
      {
        report: report("company", {
          neonChanged: listed("K1"),
          unsyncedEdits: listed("K2", "K3"),
          inSync: false,
          repaired: stats({ keys: 3, updated: 1, pushed: 1 })
        }),
        after: report("company", {
          unsyncedEdits: listed("K3"),
          missingOnNeon: listed("K4", "K5"),
          inSync: false
        })
      },
      {
        report: report("people", {
          missingInWorkspace: listed("P1"),
          inSync: false,
          repaired: stats({ keys: 1, inserted: 1 })
        }),
        after: report("people")
      }
    ]
    const lines = renderVerify(results, true).split("\n")
    assert.include(
      lines,
      "Repaired company: updated 1, pushed 1; 3 difference(s) left (2 missing on Neon, 1 unsynced workspace edits)"
    )
    assert.include(lines, "Repaired people: inserted 1; now in sync")
    assert.notInclude(lines.join("\n"), "Run `enrich-sync verify --repair`")
    assert.notInclude(lines, "Both sides are in sync.")
  })

  it("--repair with nothing to repair: no repair line, both sides in sync", () => {
    const text = renderVerify([{ report: report("company"), after: null }], true)
    assert.notInclude(text, "Repaired")
    assert.strictEqual(text.split("\n").at(-1), "Both sides are in sync.")
  })
})

// ---------------------------------------------------------------------------------------------------------
// the flags

describe("verify's flags", () => {
  it.effect(
    "default to every entity, a comparison without repair or deep checks, the stage's batch size",
    () =>
      assertParses(verifyCommand, [
        [
          ["verify"],
          {
            entity: "all",
            repair: false,
            deep: false,
            batchSize: Option.none(),
            json: false,
            pushOn: Option.none()
          }
        ],
        [
          [
            "verify",
            "--entity",
            "people",
            "--repair",
            "--deep",
            "--batch-size",
            "500",
            "--json",
            "--push-on",
            "complete, In_Progress"
          ],
          {
            entity: "people",
            repair: true,
            deep: true,
            batchSize: Option.some(500),
            json: true,
            pushOn: Option.some(["complete", "in_progress"])
          }
        ]
      ])
  )

  it.effect("refuse a batch size out of range, an unknown status, and --dry-run (only --repair writes)", () =>
    assertRefuses(verifyCommand, [
      [
        ["verify", "--batch-size", "0"],
        'Invalid value for flag --batch-size: "0". Expected a whole number from 1 to 1000000, got 0'
      ],
      [
        ["verify", "--push-on", "complete,done"],
        'Invalid value for flag --push-on: "complete,done". Expected a comma list of pending, in_progress, complete, failed, got "complete,done"'
      ],
      [["verify", "--dry-run"], "unknown flag --dry-run for `enrich-sync verify`"]
    ])
  )
})

// ---------------------------------------------------------------------------------------------------------
// against two real servers

interface JsonEntity {
  readonly report: VerifyReport
  readonly after: VerifyReport | null
}

const entitiesOf = (json: Record<string, unknown>) => json.entities as ReadonlyArray<JsonEntity>

/** Runs `enrich-sync verify --entity company <args>`, which must succeed (differences are a result, not a failure). */
const verifyCompany = (...args: ReadonlyArray<string>) =>
  Effect.flatMap(CliFixture, (cli) =>
    Effect.map(cli.run(["verify", "--entity", "company", ...args]), assertSuccess)
  )

describe("verify on two databases", () => {
  layer(cliFixture("cli_verify"), { timeout: 120_000 })((it) => {
    const held = demoCompanyKey(7)
    const changed = demoCompanyKey(8)

    it.effect(
      "differences are the result: exit 0, inSync false in --json, the keys listed, nothing written",
      () =>
        Effect.gen(function* () {
          yield* demoPulled()
          // an enrichment in progress (held back by the default push policy) and a change on Neon
          yield* updateCompany(
            "workspace",
            held,
            "website = 'https://held.example', enrichment_status = 'in_progress'"
          )
          yield* updateCompany("neon", changed, "industry = 'Coal Mining'")

          const json = parseJson(yield* verifyCompany("--json"))
          assert.strictEqual(json.command, "verify")
          assert.strictEqual(json.ok, true)
          assert.strictEqual(json.inSync, false)
          assert.strictEqual(json.repair, false)
          const [company, ...rest] = entitiesOf(json)
          assert.deepStrictEqual(rest, [])
          assert.strictEqual(company!.report.entity, "company")
          assert.strictEqual(company!.report.compared, "versions")
          assert.deepStrictEqual(company!.report.neonChanged, listed(changed))
          assert.deepStrictEqual(company!.report.unsyncedEdits, listed(held))
          assert.deepStrictEqual(company!.report.missingInWorkspace, none)
          assert.isFalse(company!.report.inSync)
          assert.isNull(company!.report.repaired)
          assert.isNull(company!.after)
          // verify alone wrote nothing
          assert.deepStrictEqual(
            yield* companyRow("workspace", changed, "industry = 'Coal Mining' AS merged"),
            {
              merged: false
            }
          )
        })
    )

    it.effect(
      "--repair merges the listed keys under the push policy; --push-on and --deep reach the repair",
      () =>
        Effect.gen(function* () {
          const repaired = yield* verifyCompany("--repair")
          assert.match(repaired.stdout, /^Repaired company: updated 1; /m)
          assert.deepStrictEqual(yield* companyRow("workspace", changed, "industry"), {
            industry: "Coal Mining"
          })
          // the default policy pushes complete rows only: the edit in progress stays in the workspace
          assert.deepStrictEqual(yield* companyRow("neon", held, "website"), { website: null })

          const json = parseJson(
            yield* verifyCompany("--repair", "--deep", "--push-on", "in_progress", "--json")
          )
          assert.strictEqual(json.inSync, true)
          assert.strictEqual(json.repair, true)
          const [company] = entitiesOf(json)
          assert.strictEqual(company!.report.compared, "content")
          assert.isFalse(company!.report.inSync)
          assert.deepStrictEqual(company!.report.unsyncedEdits, listed(held))
          assert.strictEqual(company!.report.repaired?.pushed, 1)
          assert.strictEqual(company!.after?.compared, "content")
          assert.isTrue(company!.after?.inSync)
          assert.deepStrictEqual(yield* companyRow("neon", held, "website"), {
            website: "https://held.example"
          })
        })
    )
  })
})
