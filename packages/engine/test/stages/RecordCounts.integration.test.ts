import { assert, describe, layer } from "@effect/vitest"
import { Company } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import { countRecords } from "../../src/stages/RecordCounts.ts"
import { SourceDatabase, WorkspaceDatabase } from "../../src/store/Database.ts"
import { engineFixture, onNeon } from "../support/EngineFixture.ts"

describe("record counts", () => {
  layer(engineFixture({ seed: { companies: 7, people: 3 }, merged: [Company] }))((it) => {
    it.effect("count the rows of each entity's table on the side asked, keyed by schema.table", () =>
      Effect.gen(function* () {
        // a master row is not one of the tables the sync holds: it is not counted
        yield* onNeon(
          `INSERT INTO marketing.company_master (company_unique_id, company_name)
             SELECT company_unique_id, company_name FROM marketing.company_invalid ORDER BY id LIMIT 1`
        )
        assert.deepStrictEqual(yield* countRecords(yield* SourceDatabase), {
          "marketing.company_invalid": 7,
          "marketing.people_invalid": 3
        })
        assert.deepStrictEqual(yield* countRecords(yield* WorkspaceDatabase), {
          "public.company_needs_enrichment": 7,
          "public.people_needs_enrichment": 0
        })
      })
    )
  })

  layer(engineFixture({ migrate: false }))((it) => {
    it.effect("fail as a schema problem on a database without the tables", () =>
      Effect.gen(function* () {
        const error = yield* countRecords(yield* WorkspaceDatabase).pipe(Effect.flip)
        assert.strictEqual(error.reason, "Schema")
      })
    )
  })
})
