/**
 * `push`: its summary and flags (pure), and which rows it pushes (real databases, the bin): those whose
 * enrichment status the policy names, `--push-on` winning over ENRICH_SYNC_PUSH_ON, both the title and the
 * JSON result saying which statuses pushed.
 */

import { assert, describe, it, layer } from "@effect/vitest"
import type { ApplyStats, PushReport } from "@enrich-sync/engine"
import { emptyStats } from "@enrich-sync/engine"
import { demoCompanyKey } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import { pushCommand, renderPush } from "../src/Push.ts"
import { cliFixture, companyRow, demoPulled, updateCompany } from "./support/CliFixture.ts"
import { assertSuccess, entityColumns, parseJson } from "./support/CliResult.ts"
import { mergeStageFlags, testStageFlags } from "./support/StageFlags.ts"

/** A line of the summary as a person reads it: its cells, which are two or more spaces apart. */
const cells = (line: string | undefined) => (line ?? "").trim().split(/ {2,}/)

const complete = { pushOn: ["complete"] }

const report = (
  entity: "company" | "people",
  candidates: number,
  merge: Partial<ApplyStats> | null,
  durationMs = 1_500
): PushReport => ({
  entity,
  candidates,
  merge: merge === null ? null : { ...emptyStats(), ...merge },
  durationMs
})

describe("renderPush", () => {
  it("a row per entity: rows to push, pushed, conflicts, time, and what else the merge did", () => {
    const text = renderPush(
      [
        report("company", 1_204, {
          keys: 1_204,
          pushed: 1_201,
          conflicts: 2,
          contended: ["04.04.01.01.00101.101", "04.04.01.01.00101.102", "04.04.01.01.00101.103"]
        }),
        report("people", 0, null, 40)
      ],
      false,
      complete
    )
    const lines = text.split("\n")
    assert.strictEqual(lines[0], "Push workspace -> Neon (rows with enrichment_status complete)")
    assert.deepStrictEqual(cells(lines[1]), ["entity", "to push", "pushed", "conflicts", "time", "details"])
    assert.deepStrictEqual(cells(lines[2]), [
      "company",
      "1,204",
      "1,201",
      "2",
      "1.5s",
      "pushed 1,201, conflicts 2, left for the next run (busy) 3"
    ])
    assert.deepStrictEqual(cells(lines[3]), ["people", "0", "0", "0", "0.0s", "nothing to push"])
    assert.strictEqual(lines.length, 4)
  })

  it("rows to push that the merge found already equal on Neon: no changes", () => {
    const lines = renderPush([report("company", 1, { keys: 1, unchanged: 1 })], false, complete).split("\n")
    assert.deepStrictEqual(cells(lines[2]), ["company", "1", "0", "0", "1.5s", "no changes"])
  })

  it("the title names the statuses that push, in the policy's order", () => {
    const title = renderPush([], false, { pushOn: ["in_progress", "complete"] }).split("\n")[0]
    assert.strictEqual(title, "Push workspace -> Neon (rows with enrichment_status in_progress, complete)")
  })

  it("a dry run says nothing was written and lists each row it would push; a real run lists nothing", () => {
    const plan = report("company", 2, {
      keys: 2,
      pushed: 2,
      conflicts: 1,
      changes: [
        {
          key: "04.04.01.01.00101.101",
          action: "push",
          toSource: ["website", "domain"],
          toWorkspace: [],
          conflicts: 0
        },
        {
          key: "04.04.01.01.00101.102",
          action: "push",
          toSource: ["phone"],
          toWorkspace: ["industry"],
          conflicts: 1
        }
      ]
    })
    const dry = renderPush([plan], true, complete).split("\n")
    assert.strictEqual(
      dry[0],
      "Push workspace -> Neon (rows with enrichment_status complete) (dry run: nothing was written)"
    )
    assert.deepStrictEqual(cells(dry[2]), ["company", "2", "2", "1", "1.5s", "pushed 2, conflicts 1"])
    assert.deepStrictEqual(dry.slice(3), [
      "Would write:",
      "  company 04.04.01.01.00101.101  push to Neon (Neon: website, domain)",
      "  company 04.04.01.01.00101.102  push to Neon (Neon: phone; workspace: industry; 1 conflict(s))"
    ])

    const real = renderPush([plan], false, complete)
    assert.notInclude(real, "dry run")
    assert.notInclude(real, "Would write:")
  })

  it("no entity: the title and the header only", () => {
    assert.deepStrictEqual(
      renderPush([], true, complete)
        .split("\n")
        .map((line) => cells(line)),
      [
        ["Push workspace -> Neon (rows with enrichment_status complete) (dry run: nothing was written)"],
        ["entity", "to push", "pushed", "conflicts", "time", "details"]
      ]
    )
  })
})

testStageFlags(pushCommand, { ...mergeStageFlags, defaultBatchSize: 2000 })

describe("push on both sides", () => {
  layer(cliFixture("cli_push"), { timeout: 120_000 })((it) => {
    it.effect("pushes the statuses of --push-on, else of ENRICH_SYNC_PUSH_ON, else complete only", () =>
      Effect.gen(function* () {
        const cli = yield* demoPulled()
        const key = demoCompanyKey(1)
        yield* updateCompany(
          "workspace",
          key,
          `website = 'https://draft.example', enrichment_status = 'in_progress'`
        )

        // the default: an enrichment in progress is not pushed
        const byDefault = assertSuccess(yield* cli.run(["push", "--dry-run", "--entity", "company"]))
        const defaultLines = byDefault.stdout.trim().split("\n")
        assert.strictEqual(
          defaultLines[0],
          "Push workspace -> Neon (rows with enrichment_status complete) (dry run: nothing was written)"
        )
        const [entity, toPush, pushedCount, conflicts, , details] = cells(defaultLines[2])
        assert.deepStrictEqual(
          [entity, toPush, pushedCount, conflicts, details],
          ["company", "0", "0", "0", "nothing to push"]
        )

        // the variable widens the policy
        const fromVariable = assertSuccess(
          yield* cli.run(["push", "--dry-run", "--entity", "company"], {
            env: { ENRICH_SYNC_PUSH_ON: "in_progress,complete" }
          })
        )
        assert.include(fromVariable.stdout, "(rows with enrichment_status in_progress, complete)")
        assert.include(
          fromVariable.stdout,
          `\n  company ${key}  push to Neon (Neon: website, enrichment_status, `
        )
        assert.deepStrictEqual(yield* companyRow("neon", key, "website"), { website: null })

        // the flag wins over the variable; the JSON result says which statuses pushed
        const run = (args: ReadonlyArray<string>) =>
          Effect.map(
            cli.run(["push", "--push-on", "in_progress", "--json", ...args], {
              env: { ENRICH_SYNC_PUSH_ON: "complete" }
            }),
            (result) => parseJson(assertSuccess(result))
          )
        const pushed = yield* run([])
        assert.deepStrictEqual(pushed.pushOn, ["in_progress"])
        assert.strictEqual(pushed.dryRun, false)
        assert.deepStrictEqual(entityColumns(pushed, "entity", "candidates", "merge.pushed"), [
          ["company", 1, 1],
          // nothing to push: no merge ran
          ["people", 0, undefined]
        ])
        assert.deepStrictEqual(yield* companyRow("neon", key, "website, enrichment_status"), {
          website: "https://draft.example",
          enrichment_status: "in_progress"
        })
        // a re-run with no new edits writes nothing
        const again = yield* run(["--entity", "company"])
        assert.deepStrictEqual(entityColumns(again, "entity", "candidates"), [["company", 0]])
      })
    )
  })
})
