import { assert, describe, it } from "@effect/vitest"
import type { EntityStatus } from "@enrich-sync/engine"
import * as Option from "effect/Option"
import { renderStatus, statusCommand } from "../src/Status.ts"
import { assertParses, assertRefuses } from "./support/CommandLine.ts"

/** The table's rows as a person reads them: label, then one cell per entity, two or more spaces apart. */
const rows = (text: string) =>
  text
    .split("\n")
    .slice(1)
    .map((line) => line.trim().split(/ {2,}/))

const status = (
  entity: "company" | "people",
  byStatus: Record<string, number>,
  more: { lastPull?: string | null; lastPush?: string | null; conflicts?: number; unreviewed?: number } = {}
): EntityStatus => ({
  entity,
  neon: { invalid: 1_190, passed: 85, failed: 1_105, enriched: 90, stillInvalid: 5, master: 12 },
  workspace: {
    rows: 1_202,
    active: 1_187,
    promoted: 12,
    removed: 3,
    byStatus,
    lastPull: more.lastPull ?? null,
    lastPush: more.lastPush ?? null,
    pendingPushes: 4,
    touched: 6
  },
  conflicts: more.conflicts ?? 0,
  unreviewedConflicts: more.unreviewed ?? 0
})

describe("renderStatus", () => {
  it("a column per entity, a row per count: Neon, the workspace, each enrichment status, pulls, pushes, conflicts", () => {
    const text = renderStatus([
      status(
        "company",
        { pending: 1_000, complete: 187 },
        { lastPull: "2025-03-04 05:06:07.891234", lastPush: "2025-03-04 06:00:00", conflicts: 3 }
      ),
      status("people", { in_progress: 2 })
    ])
    assert.strictEqual(text.split("\n")[0], "Status")
    assert.deepStrictEqual(rows(text), [
      ["company", "people"],
      ["Neon invalid rows", "1,190", "1,190"],
      ["PASSED (to promote)", "85", "85"],
      ["FAILED / not validated", "1,105", "1,105"],
      ["enrichment complete", "90", "90"],
      ["still invalid", "5", "5"],
      ["Neon master rows", "12", "12"],
      ["Workspace rows", "1,202", "1,202"],
      ["active", "1,187", "1,187"],
      ["promoted", "12", "12"],
      ["removed on Neon", "3", "3"],
      // every known status, in the lifecycle's order, 0 where an entity has none
      ["pending", "1,000", "0"],
      ["in_progress", "0", "2"],
      ["complete", "187", "0"],
      ["failed", "0", "0"],
      // to the second; never when it never happened
      ["Last pull", "2025-03-04 05:06:07 UTC", "never"],
      ["Last push", "2025-03-04 06:00:00 UTC", "never"],
      ["Pending pushes", "4", "4"],
      ["Edited since last sync", "6", "6"],
      ["Conflicts logged", "3", "0"],
      ["unreviewed", "0", "0"]
    ])
    // the sub-counts are indented under what they count
    assert.include(text, "\n    PASSED (to promote)")
    assert.include(text, "\n    unreviewed")
  })

  it("a status the lifecycle does not know gets its own row after the known ones", () => {
    const table = rows(renderStatus([status("company", { complete: 1, on_hold: 7 }), status("people", {})]))
    const labels = table.map((row) => row[0])
    assert.deepStrictEqual(labels.slice(labels.indexOf("pending"), labels.indexOf("Last pull")), [
      "pending",
      "in_progress",
      "complete",
      "failed",
      "on_hold"
    ])
    assert.deepStrictEqual(
      table.find((row) => row[0] === "on_hold"),
      ["on_hold", "7", "0"]
    )
  })

  it("unreviewed conflicts of every entity add up to one line saying how to review them", () => {
    const text = renderStatus([
      status("company", {}, { conflicts: 5, unreviewed: 2 }),
      status("people", {}, { conflicts: 1, unreviewed: 1 })
    ])
    assert.strictEqual(text.split("\n").at(-1), "3 conflict(s) to review: enrich-sync conflicts --unreviewed")
    assert.notInclude(renderStatus([status("company", {}, { conflicts: 5 })]), "to review")
  })

  it("one entity: one column", () => {
    const table = rows(renderStatus([status("people", {})]))
    assert.deepStrictEqual(table[0], ["people"])
    assert.isTrue(table.every((row) => row.length === 2 || row[0] === "people"))
  })
})

describe("status's flags", () => {
  it.effect("default to every entity, a table, the configured statuses", () =>
    assertParses(statusCommand, [
      [["status"], { entity: "all", json: false, pushOn: Option.none() }],
      [
        ["status", "--entity", "company", "--json", "--push-on", "failed"],
        { entity: "company", json: true, pushOn: Option.some(["failed"]) }
      ]
    ])
  )

  it.effect("status is read-only: it has no --dry-run and no --batch-size", () =>
    assertRefuses(statusCommand, [
      [["status", "--dry-run"], "unknown flag --dry-run for `enrich-sync status`"],
      [["status", "--batch-size"], "unknown flag --batch-size for `enrich-sync status`"],
      [
        ["status", "--push-on", "done"],
        `Invalid value for flag --push-on: "done". Expected a comma list of pending, in_progress, complete, failed, got "done"`
      ]
    ])
  )
})
