import { assert, describe, layer } from "@effect/vitest"
import { Company } from "@enrich-sync/core"
import { demoCompanyKey } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import { readBatch } from "../../../src/stages/promote/Candidates.ts"
import { SourceDatabase } from "../../../src/store/Database.ts"
import { engineFixture, onNeon } from "../../support/EngineFixture.ts"

describe("which keys may be promoted", () => {
  layer(engineFixture({ seed: {} }))((it) => {
    it.effect("only rows stored as PASSED; every other key is skipped with why", () =>
      Effect.gen(function* () {
        const [passed, failed, unvalidated, promotedBefore] = [
          demoCompanyKey(0),
          demoCompanyKey(1),
          demoCompanyKey(2),
          demoCompanyKey(3)
        ]
        yield* onNeon(
          `UPDATE marketing.company_invalid
              SET validation_status = CASE WHEN company_unique_id = $1 THEN 'PASSED' ELSE ' ' END
            WHERE company_unique_id IN ($1, $2)`,
          [passed, unvalidated]
        )
        yield* onNeon(
          `WITH gone AS (DELETE FROM marketing.company_invalid WHERE company_unique_id = $1 RETURNING company_unique_id)
           INSERT INTO marketing.company_master (company_unique_id) SELECT company_unique_id FROM gone`,
          [promotedBefore]
        )
        const [failedRow] = yield* onNeon(
          `SELECT reason_code FROM marketing.company_invalid WHERE company_unique_id = $1`,
          [failed]
        )
        const db = yield* SourceDatabase
        const batch = yield* readBatch(Company, db, [
          passed,
          failed,
          unvalidated,
          promotedBefore,
          "99.99.99.99.99999.999",
          "ACME-1"
        ])
        assert.deepStrictEqual(batch.promote, [passed])
        const why = new Map(batch.skipped.map((s) => [s.key, s.reason]))
        assert.strictEqual(
          why.get(failed),
          `validation_status is FAILED (reason_code ${failedRow?.reason_code}), not PASSED: enrich it, push it, and run revalidate`
        )
        assert.strictEqual(why.get(unvalidated), "not validated (no validation_status): run revalidate first")
        assert.include(why.get(promotedBefore), "already in marketing.company_master")
        assert.strictEqual(why.get("99.99.99.99.99999.999"), "not in marketing.company_invalid")
        assert.include(why.get("ACME-1"), "not a Barton ID")
        assert.strictEqual(batch.skipped.length, 5)
      })
    )
  })
})
