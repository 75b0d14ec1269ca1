import { assert, describe, layer } from "@effect/vitest"
import { Company, Person } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import { SourceDatabase } from "../../src/store/Database.ts"
import { logValidation } from "../../src/store/ValidationLog.ts"
import { engineFixture, onNeon } from "../support/EngineFixture.ts"

const logged = onNeon(
  `SELECT record_id, entity, action, validation_status, validation_errors, details, batch_id
     FROM public.shq_validation_log ORDER BY id`
)

describe("the validation log", () => {
  layer(engineFixture())((it) => {
    it.effect("appends one entry per record, with its entity, in the writer's transaction", () =>
      Effect.gen(function* () {
        const db = yield* SourceDatabase
        yield* db.transaction((tx) =>
          Effect.andThen(
            logValidation(tx, Company, [
              {
                recordId: "04.04.01.01.00101.101",
                action: "push",
                validationStatus: "PASSED",
                validationErrors: {},
                details: { fields: ["website"], enriched_by: "enricher@example.com" },
                batchId: "INTAKE-1"
              },
              {
                recordId: "04.04.01.01.00102.102",
                action: "revalidate",
                validationStatus: "FAILED",
                validationErrors: { phone: "7 digits" },
                details: null,
                batchId: null
              }
            ]),
            logValidation(tx, Person, [])
          )
        )
        assert.deepStrictEqual(yield* logged, [
          {
            record_id: "04.04.01.01.00101.101",
            entity: "company",
            action: "push",
            validation_status: "PASSED",
            validation_errors: {},
            details: { fields: ["website"], enriched_by: "enricher@example.com" },
            batch_id: "INTAKE-1"
          },
          {
            record_id: "04.04.01.01.00102.102",
            entity: "company",
            action: "revalidate",
            validation_status: "FAILED",
            validation_errors: { phone: "7 digits" },
            details: null,
            batch_id: null
          }
        ])
        // rolled back with its transaction
        yield* db
          .transaction((tx) =>
            Effect.andThen(
              logValidation(tx, Person, [
                {
                  recordId: "04.04.02.04.20000.001",
                  action: "push",
                  validationStatus: null,
                  validationErrors: null,
                  details: null,
                  batchId: null
                }
              ]),
              tx.query("SELECT 1/0")
            )
          )
          .pipe(Effect.flip)
        assert.strictEqual((yield* logged).length, 2)
      })
    )
  })
})
