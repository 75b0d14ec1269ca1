import { assert, describe, it } from "@effect/vitest"
import { Company, Person } from "@enrich-sync/core"
import type { PromoteReport } from "@enrich-sync/engine"
import { renderPipelineSummary } from "../src/Pipeline.ts"
import { mergeSkipped, type PromoteRun, renderPromote } from "../src/Promote.ts"

const report = (
  entity: "company" | "people",
  promoted: number,
  skipped: PromoteReport["skipped"]
): PromoteReport => ({
  entity,
  candidates: 3,
  promoted,
  updatedInMaster: 0,
  skipped,
  stillInvalid: 0,
  backupFile: null,
  workspaceMarked: promoted,
  durationMs: 1
})

describe("mergeSkipped", () => {
  it("reports an id of a mixed ids file only when no entity promoted it, with the most telling reason", () => {
    const company = "04.04.01.01.00101.101"
    const person = "04.04.02.04.20000.001"
    const failed = "04.04.01.01.00101.102"
    const unknown = "04.04.09.09.00000.000"
    const skipped = mergeSkipped(
      [Company, Person],
      [
        report("company", 1, [
          { key: person, reason: "not in marketing.company_invalid" },
          { key: failed, reason: "validation_status is FAILED, not PASSED" },
          { key: unknown, reason: "not in marketing.company_invalid" }
        ]),
        report("people", 1, [
          { key: company, reason: "not in marketing.people_invalid" },
          { key: failed, reason: "not in marketing.people_invalid" },
          { key: unknown, reason: "not in marketing.people_invalid" }
        ])
      ],
      [company, person, failed, unknown]
    )
    assert.deepStrictEqual(skipped, [
      { key: failed, reason: "validation_status is FAILED, not PASSED" },
      { key: unknown, reason: "not in marketing.company_invalid nor marketing.people_invalid" }
    ])
  })

  it("keeps the mark of an id left out for its unpushed workspace edits", () => {
    const held = "04.04.01.01.00101.103"
    const reason = 'its workspace row has edits not yet pushed to Neon (enrichment_status "in_progress")'
    const skipped = mergeSkipped(
      [Company, Person],
      [
        report("company", 0, [{ key: held, reason, unpushedEdits: true }]),
        report("people", 0, [{ key: held, reason: "not in marketing.people_invalid" }])
      ],
      [held]
    )
    assert.deepStrictEqual(skipped, [{ key: held, reason, unpushedEdits: true }])
  })
})

describe("the ids a promotion left out", () => {
  const run = (skipped: number): PromoteRun => ({
    ids: null,
    entities: [report("company", 2, [])],
    promoted: 2,
    skipped: Array.from({ length: skipped }, (_, i) => ({
      key: `04.04.01.01.00101.${String(200 + i)}`,
      reason: "its workspace row has edits not yet pushed to Neon",
      unpushedEdits: true as const
    })),
    backupFiles: []
  })

  it("are listed by promote and by the pipeline's summary, the first 20 and how many more", () => {
    const promoteText = renderPromote(run(22), "every PASSED row", false)
    const pipelineText = renderPipelineSummary([], [], [], run(22), false)
    for (const text of [promoteText, pipelineText]) {
      assert.include(text, "Not promoted (22):")
      assert.include(text, "  04.04.01.01.00101.200  its workspace row has edits not yet pushed to Neon")
      assert.include(text, "  04.04.01.01.00101.219  its workspace row")
      assert.notInclude(text, "04.04.01.01.00101.220")
      assert.include(text, "  ... and 2 more (see --json)")
    }
    assert.notInclude(renderPipelineSummary([], [], [], run(0), false), "Not promoted")
  })
})
