/**
 * How a merge is summed up for a person: the non-zero counts in a fixed order with their wording and
 * thousands separators (`no changes` when there are none), and for a dry run the planned changes key by
 * key, at most 20 of them and then how many more, under `Would write:` (nothing in a real run).
 */
import { assert, describe, it } from "@effect/vitest"
import { type ApplyStats, emptyStats, type PlannedChange } from "@enrich-sync/engine"
import { mergeCounts, plannedChanges, wouldWrite } from "../src/MergeSummary.ts"

const stats = (fields: Partial<ApplyStats>): ApplyStats => ({ ...emptyStats(), ...fields })

const change = (key: string, fields: Partial<PlannedChange> = {}): PlannedChange => ({
  key,
  action: "update",
  toSource: [],
  toWorkspace: [],
  conflicts: 0,
  ...fields
})

const key = (n: number) => `04.04.01.01.00101.${String(100 + n)}`

describe("mergeCounts", () => {
  it("says no changes for no merge and for a merge of zeros (unchanged and retried keys are not changes)", () => {
    assert.strictEqual(mergeCounts(null), "no changes")
    assert.strictEqual(mergeCounts(emptyStats()), "no changes")
    assert.strictEqual(mergeCounts(stats({ keys: 40, unchanged: 40, retries: 3 })), "no changes")
  })

  it("lists every non-zero count in a fixed order, with its wording", () => {
    assert.strictEqual(
      mergeCounts(
        stats({
          keys: 12,
          inserted: 3,
          updated: 1,
          pushed: 2,
          conflicts: 4,
          promoted: 5,
          removed: 6,
          contended: [key(1), key(2)]
        })
      ),
      "inserted 3, updated 1, pushed 2, conflicts 4, marked promoted 5, marked removed 6, left for the next run (busy) 2"
    )
  })

  it("leaves out the zero counts, and writes thousands with a comma", () => {
    assert.strictEqual(mergeCounts(stats({ updated: 12_345 })), "updated 12,345")
    assert.strictEqual(mergeCounts(stats({ inserted: 1_190, conflicts: 1 })), "inserted 1,190, conflicts 1")
    assert.strictEqual(mergeCounts(stats({ contended: [key(1)] })), "left for the next run (busy) 1")
  })
})

describe("plannedChanges", () => {
  it("writes one line per key: the entity, the key, the action and what goes where", () => {
    const planned = stats({
      keys: 6,
      changes: [
        change(key(1), { action: "insert", toWorkspace: ["website", "domain"] }),
        change(key(2), { action: "update", toWorkspace: ["website"] }),
        change(key(3), { action: "push", toSource: ["website", "domain"], conflicts: 1 }),
        change(key(4), { action: "promote" }),
        change(key(5), { action: "remove" }),
        change(key(6), { action: "reactivate", toSource: ["state"], toWorkspace: ["state"], conflicts: 2 })
      ]
    })
    assert.deepStrictEqual(plannedChanges("company", planned), [
      `  company ${key(1)}  insert into the workspace`,
      `  company ${key(2)}  update (workspace: website)`,
      `  company ${key(3)}  push to Neon (Neon: website, domain; 1 conflict(s))`,
      `  company ${key(4)}  mark promoted`,
      `  company ${key(5)}  mark removed`,
      `  company ${key(6)}  reactivate (Neon: state; workspace: state; 2 conflict(s))`
    ])
  })

  it("lists at most `limit` keys, then how many more the merge would change", () => {
    const changes = Array.from({ length: 25 }, (_, i) => change(key(i), { toWorkspace: ["website"] }))
    const lines = plannedChanges("people", stats({ keys: 1_500, unchanged: 200, changes }))
    assert.strictEqual(lines.length, 21)
    assert.strictEqual(lines[19], `  people ${key(19)}  update (workspace: website)`)
    assert.strictEqual(lines[20], "  ... and 1,280 more")
    assert.deepStrictEqual(plannedChanges("people", stats({ keys: 25, changes }), 3).slice(3), [
      "  ... and 22 more"
    ])
  })

  it("has nothing to list without a merge, and no `more` line when every change is listed", () => {
    assert.deepStrictEqual(plannedChanges("company", null), [])
    assert.deepStrictEqual(plannedChanges("company", stats({ keys: 5, unchanged: 5 })), [])
    const two = stats({ keys: 3, unchanged: 1, changes: [change(key(1)), change(key(2))] })
    assert.deepStrictEqual(plannedChanges("company", two), [
      `  company ${key(1)}  update`,
      `  company ${key(2)}  update`
    ])
  })
})

describe("wouldWrite", () => {
  const reports = [
    {
      entity: "company",
      merge: stats({ keys: 1, changes: [change(key(1), { action: "push", toSource: ["city"] })] })
    },
    { entity: "people", merge: null },
    { entity: "people", merge: stats({ keys: 1, changes: [change(key(2), { action: "promote" })] }) }
  ]

  it("heads a dry run's planned changes of every entity with `Would write:`", () => {
    assert.deepStrictEqual(wouldWrite(reports, true), [
      "Would write:",
      `  company ${key(1)}  push to Neon (Neon: city)`,
      `  people ${key(2)}  mark promoted`
    ])
  })

  it("is empty in a real run, and in a dry run with nothing to write", () => {
    assert.deepStrictEqual(wouldWrite(reports, false), [])
    assert.deepStrictEqual(
      wouldWrite([{ entity: "company", merge: stats({ keys: 9, unchanged: 9 }) }], true),
      []
    )
    assert.deepStrictEqual(wouldWrite([], true), [])
  })
})
