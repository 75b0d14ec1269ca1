import { assert, describe, layer } from "@effect/vitest"
import { Company } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import { masterMapping } from "../../../src/stages/promote/MasterMapping.ts"
import { engineFixture, onNeon } from "../../support/EngineFixture.ts"

describe("the master table's mapping", () => {
  layer(engineFixture())((it) => {
    it.effect("maps the master's columns by name (or the record's other name), leaving its own to it", () =>
      Effect.gen(function* () {
        const created = yield* masterMapping(Company)
        assert.isTrue(created.uniqueKey)
        const columns = new Map(created.columns)
        // the master's id is its own (it has a default); the batch id takes the invalid table's batch_id
        assert.isFalse(columns.has("id"))
        assert.strictEqual(columns.get("company_unique_id"), "company_unique_id")
        assert.strictEqual(columns.get("source_batch_id"), "batch_id")
        assert.strictEqual(columns.get("company_name"), "company_name")

        yield* onNeon(
          `ALTER TABLE marketing.company_master ADD COLUMN notes TEXT,
             ADD COLUMN name_upper TEXT GENERATED ALWAYS AS (upper(company_name)) STORED`
        )
        const wider = yield* masterMapping(Company)
        assert.deepStrictEqual(wider.columns, created.columns)

        yield* onNeon(
          `ALTER TABLE marketing.company_master DROP CONSTRAINT company_master_company_unique_id_key`
        )
        assert.isFalse((yield* masterMapping(Company)).uniqueKey)

        yield* onNeon(`ALTER TABLE marketing.company_master DROP COLUMN company_unique_id`)
        const failure = yield* Effect.flip(masterMapping(Company))
        assert.strictEqual(failure.reason, "Schema")
        assert.include(failure.message, "has no column company_unique_id")
      })
    )
  })
})
