/**
 * A promotion that updates a key the master table already holds overwrites the master's values: the log
 * entry of that promotion keeps the master row it replaced, whole, so none of its values is lost; a key new
 * to the master carries no such row.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, layer } from "@effect/vitest"
import { Company } from "@enrich-sync/core"
import { demoCompanyKey } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import { promoteEntity } from "../../../src/stages/promote/Promote.ts"
import { engineFixture, onNeon } from "../../support/EngineFixture.ts"

describe("promote over a key the master holds", () => {
  layer(engineFixture({ seed: { companies: 4, people: 0 } }))((it) => {
    it.effect("logs the master row it overwrote in the promotion's log entry", () =>
      Effect.scoped(
        Effect.gen(function* () {
          const [held, fresh] = [demoCompanyKey(0), demoCompanyKey(1)]
          yield* onNeon(
            `INSERT INTO marketing.company_master (company_unique_id, company_name, website, industry)
             VALUES ($1, 'Stale name', 'https://stale.example', 'Kept only here')`,
            [held]
          )
          yield* onNeon(
            `UPDATE marketing.company_invalid SET validation_status = 'PASSED' WHERE company_unique_id = ANY($1)`,
            [[held, fresh]]
          )
          const dir = yield* Effect.acquireRelease(
            Effect.sync(() => mkdtempSync(join(tmpdir(), "enrich-sync-replaced-master-"))),
            (path) => Effect.sync(() => rmSync(path, { recursive: true, force: true }))
          )
          const report = yield* promoteEntity(Company, { ids: [held, fresh], backupDir: dir, dryRun: false })
          assert.strictEqual(report.promoted, 2)
          assert.strictEqual(report.updatedInMaster, 1)
          const logged = yield* onNeon(
            `SELECT record_id, details FROM public.shq_validation_log WHERE action = 'promote' ORDER BY record_id`
          )
          const byKey = new Map(
            logged.map((r) => [String(r.record_id), r.details as Record<string, unknown>])
          )
          const replaced = byKey.get(held)?.replaced_master_rows as Array<Record<string, unknown>>
          assert.strictEqual(replaced.length, 1)
          assert.deepInclude(replaced[0]!, {
            company_unique_id: held,
            company_name: "Stale name",
            website: "https://stale.example",
            industry: "Kept only here"
          })
          assert.strictEqual(byKey.get(held)?.updated_existing, true)
          assert.notProperty(byKey.get(fresh)!, "replaced_master_rows")
          const [master] = yield* onNeon(
            `SELECT company_name FROM marketing.company_master WHERE company_unique_id = $1`,
            [held]
          )
          assert.notStrictEqual(master?.company_name, "Stale name")
        })
      )
    )
  })
})
