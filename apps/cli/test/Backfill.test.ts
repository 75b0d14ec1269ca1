import { assert, describe, it } from "@effect/vitest"
import type { ApplyStats, BackfillReport } from "@enrich-sync/engine"
import { emptyStats } from "@enrich-sync/engine"
import { backfillCommand, renderBackfill } from "../src/Backfill.ts"
import { mergeStageFlags, testStageFlags } from "./support/StageFlags.ts"

/** A line of the summary as a person reads it: its cells, which are two or more spaces apart. */
const cells = (line: string | undefined) => (line ?? "").trim().split(/ {2,}/)

const copied = (entity: "company" | "people", rows: number, durationMs: number): BackfillReport => ({
  entity,
  path: "copy",
  sourceRows: rows,
  copied: rows,
  candidates: 0,
  unchanged: 0,
  merge: null,
  durationMs
})

const merged = (
  entity: "company" | "people",
  sourceRows: number,
  unchanged: number,
  merge: Partial<ApplyStats> | null
): BackfillReport => ({
  entity,
  path: "merge",
  sourceRows,
  copied: 0,
  candidates: merge?.keys ?? 0,
  unchanged,
  merge: merge === null ? null : { ...emptyStats(), ...merge },
  durationMs: 80
})

describe("renderBackfill", () => {
  it("a row per entity: Neon rows, new (copied or inserted), updated, unchanged (both kinds), time", () => {
    const text = renderBackfill(
      [
        copied("company", 1190, 12_345),
        // 2 rows whose Neon version had not moved; of the 4 merged keys, 1 turned out unchanged
        merged("people", 5, 2, { keys: 4, inserted: 1, updated: 1, removed: 1, unchanged: 1 })
      ],
      false
    )
    const lines = text.split("\n")
    assert.strictEqual(lines[0], "Backfill Neon -> workspace")
    assert.deepStrictEqual(cells(lines[1]), [
      "entity",
      "Neon rows",
      "new",
      "updated",
      "unchanged",
      "time",
      "details"
    ])
    assert.deepStrictEqual(cells(lines[2]), [
      "company",
      "1,190",
      "1,190",
      "0",
      "0",
      "12.3s",
      "copied into the empty workspace table"
    ])
    // the details repeat none of the table's counts: only what has no column
    assert.deepStrictEqual(cells(lines[3]), ["people", "5", "1", "1", "3", "0.1s", "marked removed 1"])
    assert.strictEqual(lines.length, 4)
  })

  it("details: what the merge did besides new and updated; blank when nothing else happened", () => {
    const text = renderBackfill(
      [
        merged("company", 10, 7, {
          keys: 3,
          updated: 1,
          pushed: 1,
          conflicts: 2,
          contended: ["04.04.01.01.00101.103"]
        }),
        merged("people", 5, 5, null)
      ],
      false
    )
    const lines = text.split("\n")
    assert.deepStrictEqual(cells(lines[2]), [
      "company",
      "10",
      "0",
      "1",
      "7",
      "0.1s",
      "pushed 1, conflicts 2, left for the next run (busy) 1"
    ])
    // nothing to merge: zeros, and no "no changes" in the details column
    assert.deepStrictEqual(cells(lines[3]), ["people", "5", "0", "0", "5", "0.1s"])
    assert.notInclude(text, "no changes")
  })

  it("a dry run says nothing was written and lists what it would write; a real run lists nothing", () => {
    const plan = merged("company", 2, 0, {
      keys: 2,
      inserted: 1,
      updated: 1,
      changes: [
        {
          key: "04.04.01.01.00101.101",
          action: "insert",
          toSource: [],
          toWorkspace: ["website"],
          conflicts: 0
        },
        {
          key: "04.04.01.01.00101.102",
          action: "update",
          toSource: [],
          toWorkspace: ["industry"],
          conflicts: 0
        }
      ]
    })
    const dry = renderBackfill([plan], true).split("\n")
    assert.strictEqual(dry[0], "Backfill Neon -> workspace (dry run: nothing was written)")
    assert.deepStrictEqual(cells(dry[2]), ["company", "2", "1", "1", "0", "0.1s"])
    assert.deepStrictEqual(dry.slice(3), [
      "Would write:",
      "  company 04.04.01.01.00101.101  insert into the workspace",
      "  company 04.04.01.01.00101.102  update (workspace: industry)"
    ])

    const real = renderBackfill([plan], false)
    assert.notInclude(real, "dry run")
    assert.notInclude(real, "Would write:")
    // a dry run with nothing to write has no section either
    assert.notInclude(renderBackfill([merged("company", 2, 2, null)], true), "Would write:")
  })

  it("no entity: the title and the header only", () => {
    assert.deepStrictEqual(
      renderBackfill([], false)
        .split("\n")
        .map((line) => cells(line)),
      [
        ["Backfill Neon -> workspace"],
        ["entity", "Neon rows", "new", "updated", "unchanged", "time", "details"]
      ]
    )
  })
})

testStageFlags(backfillCommand, {
  ...mergeStageFlags,
  // `pull` is the same command
  names: ["backfill", "pull"],
  defaultBatchSize: 2000,
  refuses: [
    ...mergeStageFlags.refuses,
    [["--passed-ids-file", "x"], "unknown flag --passed-ids-file for `enrich-sync backfill`"]
  ]
})
