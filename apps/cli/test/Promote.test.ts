import { assert, describe, it } from "@effect/vitest"
import { Company, Person } from "@enrich-sync/core"
import type { PromoteReport } from "@enrich-sync/engine"
import { mergeSkipped } from "../src/Promote.ts"

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
})
