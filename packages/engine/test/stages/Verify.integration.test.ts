import { assert, describe, layer } from "@effect/vitest"
import { Company, Person } from "@enrich-sync/core"
import { demoCompanyKey } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import { applyKeys } from "../../src/merge/MergeApply.ts"
import { backfillEntity } from "../../src/stages/Backfill.ts"
import { pushEntity } from "../../src/stages/Push.ts"
import { entityStatus } from "../../src/stages/Status.ts"
import { verifyEntity } from "../../src/stages/Verify.ts"
import {
  enterWebsite,
  neonCompanies,
  workspaceCompanies,
  workspaceCompaniesAsEngine
} from "../support/CompanyRows.ts"
import { engineFixture, exactJson, onNeon, onWorkspace } from "../support/EngineFixture.ts"

describe("push, verify and status", () => {
  layer(engineFixture({ seed: {} }))((it) => {
    it.effect("a fresh backfill verifies in sync", () =>
      Effect.gen(function* () {
        yield* backfillEntity(Company)
        yield* backfillEntity(Person)
        for (const entity of [Company, Person]) {
          const report = yield* verifyEntity(entity, { buckets: 64, deep: true })
          assert.isTrue(report.inSync, JSON.stringify(report))
          assert.strictEqual(report.differingBuckets, 0)
          assert.strictEqual(report.neonRows, report.workspaceRows)
          const byVersions = yield* verifyEntity(entity, { buckets: 64 })
          assert.deepInclude(byVersions, { inSync: true, compared: "versions", differingBuckets: 0 })
        }
        // a Neon update that changes nothing moves the row's version: its bucket is compared by content, and agrees
        yield* neonCompanies.update(demoCompanyKey(40), "company_name = company_name")
        const touched = yield* verifyEntity(Company, { buckets: 64 })
        assert.deepInclude(touched, { inSync: true, compared: "versions", differingBuckets: 1 })
        assert.strictEqual(touched.neonChanged.count, 0)
        assert.deepInclude(yield* verifyEntity(Company, { buckets: 64, deep: true }), {
          inSync: true,
          compared: "content",
          differingBuckets: 0
        })
      })
    )

    it.effect("push sends exactly the complete rows with edits, and nothing twice", () =>
      Effect.gen(function* () {
        yield* workspaceCompanies.update(
          [demoCompanyKey(10), demoCompanyKey(11)],
          `website = 'https://a' || company_unique_id || '.example', enrichment_status = 'complete'`
        )
        yield* enterWebsite(demoCompanyKey(12), "https://draft.example", "in_progress")
        const before = yield* entityStatus(Company)
        assert.strictEqual(before.workspace.pendingPushes, 2)
        assert.strictEqual(before.workspace.touched, 3)
        const dry = yield* pushEntity(Company, { dryRun: true })
        assert.strictEqual(dry.candidates, 2)
        assert.strictEqual(dry.merge?.pushed, 2)
        const [stillNull] = yield* onNeon(
          `SELECT count(*)::int AS n FROM marketing.company_invalid WHERE website LIKE 'https://a%.example'`
        )
        assert.strictEqual(stillNull?.n, 0)
        const report = yield* pushEntity(Company)
        assert.strictEqual(report.merge?.pushed, 2)
        const [pushed] = yield* onNeon(
          `SELECT count(*)::int AS n FROM marketing.company_invalid WHERE website LIKE 'https://a%.example'`
        )
        assert.strictEqual(pushed?.n, 2)
        const again = yield* pushEntity(Company)
        assert.strictEqual(again.candidates, 0)
        const after = yield* entityStatus(Company)
        assert.strictEqual(after.workspace.pendingPushes, 0)
        assert.isNotNull(after.workspace.lastPush)
        assert.strictEqual(after.workspace.byStatus.complete, 2)
        assert.strictEqual(after.workspace.byStatus.in_progress, 1)
        assert.strictEqual(after.neon.enriched, 2)
      })
    )

    it.effect("verify names every difference, and repair merges exactly those keys", () =>
      Effect.gen(function* () {
        const changed = demoCompanyKey(20)
        const missing = demoCompanyKey(21)
        const gone = demoCompanyKey(22)
        // a Neon change not merged yet, a workspace row lost, a Neon row deleted (none of them seen by the engine)
        yield* neonCompanies.update(changed, "industry = 'Coal Mining'")
        yield* onWorkspace(`DELETE FROM company_needs_enrichment WHERE company_unique_id = $1`, [missing])
        yield* onNeon(`DELETE FROM marketing.company_invalid WHERE company_unique_id = $1`, [gone])
        const report = yield* verifyEntity(Company, { buckets: 256 })
        assert.isFalse(report.inSync)
        assert.deepStrictEqual(report.neonChanged.keys, [changed])
        assert.deepStrictEqual(report.missingInWorkspace.keys, [missing])
        assert.deepStrictEqual(report.missingOnNeon.keys, [gone])
        // the held in_progress edit of the previous test is an unsynced edit
        assert.deepStrictEqual(report.unsyncedEdits.keys, [demoCompanyKey(12)])
        const repaired = yield* verifyEntity(Company, { buckets: 256, repair: true })
        assert.strictEqual(repaired.repaired?.inserted, 1)
        assert.strictEqual(repaired.repaired?.removed, 1)
        const after = yield* verifyEntity(Company, { buckets: 256, deep: true })
        assert.deepStrictEqual(
          [
            after.neonChanged.count,
            after.missingInWorkspace.count,
            after.missingOnNeon.count,
            after.corruptBase.count
          ],
          [0, 0, 0, 0]
        )
        assert.deepStrictEqual(after.unsyncedEdits.keys, [demoCompanyKey(12)])
      })
    )

    it.effect("deep verify catches a tampered base that a shallow one trusts", () =>
      Effect.gen(function* () {
        const key = demoCompanyKey(30)
        // a person's edit of a workspace-only column: the trigger stores the base beside the row
        yield* workspaceCompanies.update(key, "enrichment_notes = 'looked at'")
        yield* workspaceCompaniesAsEngine.update(
          key,
          `sync_base = jsonb_set(sync_base, '{city}', '"Nowhere"')`
        )
        const deep = yield* verifyEntity(Company, { buckets: 64, deep: true })
        assert.deepStrictEqual(deep.corruptBase.keys, [key])
      })
    )

    it.effect(
      "an edit held back by the push policy stays listed after a Neon change is merged into its row",
      () =>
        Effect.gen(function* () {
          const key = demoCompanyKey(13)
          yield* enterWebsite(key, "https://held.example", "in_progress")
          // Neon changes another field of the row, and the merge takes it in (the edit stays, held back)
          yield* neonCompanies.update(key, "industry = 'Glass Blowing'")
          yield* applyKeys(Company, [{ key }])
          const [row] = yield* onWorkspace(
            `SELECT industry, website, sync_dirty FROM company_needs_enrichment WHERE company_unique_id = $1`,
            [key]
          )
          assert.deepStrictEqual(row, {
            industry: "Glass Blowing",
            website: "https://held.example",
            sync_dirty: false
          })
          // the quick comparison trusts the stored hash of clean rows, except those holding edits
          const quick = yield* verifyEntity(Company, { buckets: 64 })
          assert.include(quick.unsyncedEdits.keys, key)
          assert.isFalse(quick.inSync)
          const deep = yield* verifyEntity(Company, { buckets: 64, deep: true })
          assert.deepStrictEqual(quick.unsyncedEdits.keys, deep.unsyncedEdits.keys)
        })
    )
  })
})

describe("verify tells JSON apart by its digits", () => {
  layer(engineFixture({ seed: { companies: 20, people: 0 } }))((it) => {
    it.effect("a number written with other digits (2.5 for 2.50) on either side is a difference", () =>
      Effect.gen(function* () {
        const key = demoCompanyKey(3)
        yield* neonCompanies.update(key, "validation_errors = $2::jsonb", [exactJson])
        yield* backfillEntity(Company)
        const fewerDigits = exactJson.replace("2.50", "2.5")
        const differences = (deep: boolean) =>
          Effect.map(verifyEntity(Company, { buckets: 64, deep }), (r) => ({
            inSync: r.inSync,
            neonChanged: r.neonChanged.keys,
            unsyncedEdits: r.unsyncedEdits.keys
          }))
        /** The quick and the deep verify both report `expected`. */
        const bothReport = (expected: Effect.Success<ReturnType<typeof differences>>) =>
          Effect.gen(function* () {
            for (const deep of [false, true]) assert.deepStrictEqual(yield* differences(deep), expected)
          })
        const inSync = { inSync: true, neonChanged: [], unsyncedEdits: [] }
        yield* bothReport(inSync)

        // on Neon
        yield* neonCompanies.update(key, "validation_errors = $2::jsonb", [fewerDigits])
        yield* bothReport({ inSync: false, neonChanged: [key], unsyncedEdits: [] })
        yield* applyKeys(Company, [{ key }])
        yield* bothReport(inSync)

        // in the workspace, by a person
        yield* workspaceCompanies.update(key, "original_validation_errors = $2::jsonb", [exactJson])
        yield* bothReport({ inSync: false, neonChanged: [], unsyncedEdits: [key] })
        yield* applyKeys(Company, [{ key }])
        yield* bothReport(inSync)

        // in the workspace, behind the trigger's back: only a deep verify re-hashes such a row
        yield* workspaceCompaniesAsEngine.update(key, "original_validation_errors = $2::jsonb", [exactJson])
        assert.deepStrictEqual(yield* differences(true), {
          inSync: false,
          neonChanged: [],
          unsyncedEdits: [key]
        })
      })
    )
  })
})
