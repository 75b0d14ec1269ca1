/**
 * Every value a merge overwrites, on either side, is in `sync_conflicts`: a status that Neon moved
 * backwards, rejected and written back on Neon while the workspace row itself needs no change; and a push
 * that overwrote a Neon value whose workspace write then lost its race to a person's edit.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Company } from "@enrich-sync/core"
import { demoCompanyKey } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import { applyKeys } from "../../src/merge/MergeApply.ts"
import { neonCompanies, workspaceCompanies } from "../support/CompanyRows.ts"
import {
  editHeldRow,
  engineFixture,
  mergeHeldAtTheWorkspace,
  mergeTheSeededCompanies,
  onNeon,
  onWorkspace
} from "../support/EngineFixture.ts"

const conflictsOf = (key: string) =>
  onWorkspace(
    `SELECT field, reason, winner, base_value, source_value, source_edited_at::text AS source_edited_at,
            workspace_value, workspace_edited_at::text AS workspace_edited_at
       FROM sync_conflicts WHERE record_key = $1 ORDER BY id`,
    [key]
  )

/** Marks the company `key` complete in the workspace and merges it, so both sides hold `complete`: its key. */
const completeOnBothSides = (key: string) =>
  Effect.gen(function* () {
    yield* workspaceCompanies.update(
      key,
      `enrichment_status = 'complete', enriched_by = 'enricher@example.com'`
    )
    const stats = yield* applyKeys(Company, [{ key }])
    assert.strictEqual(stats.pushed, 1)
    const neon = yield* neonCompanies.row(key, `enrichment_status`)
    assert.strictEqual(neon?.enrichment_status, "complete")
    return key
  })

describe("conflicts are recorded whichever side is overwritten", () => {
  // the live clock: a test waits in real time for a push to reach Neon
  layer(engineFixture({ seed: {} }), { excludeTestServices: true })((it) => {
    it.effect("setup: every Neon company merged into the workspace", () => mergeTheSeededCompanies)

    it.effect(
      "Neon moves enrichment_status backwards on a row complete on both sides: Neon gets complete back, and its value is logged with both values and times",
      () =>
        Effect.gen(function* () {
          const key = yield* completeOnBothSides(demoCompanyKey(10))
          const before = yield* workspaceCompanies.row(
            key,
            `updated_at::text AS updated_at, pushed_to_neon_at::text AS pushed`
          )
          // a re-import sets the status to NULL (which projects to `pending`), and bumps updated_at
          yield* neonCompanies.update(
            key,
            `enrichment_status = NULL, updated_at = '2031-05-06 07:08:09.123456'`
          )
          const stats = yield* applyKeys(Company, [{ key }])
          assert.strictEqual(stats.pushed, 1)
          assert.strictEqual(stats.conflicts, 1)
          const neon = yield* neonCompanies.row(key, `enrichment_status, xmin::text::bigint AS xmin`)
          assert.strictEqual(neon?.enrichment_status, "complete")
          assert.deepStrictEqual(yield* conflictsOf(key), [
            {
              field: "enrichment_status",
              reason: "status-only-forward",
              winner: "base",
              base_value: "complete",
              source_value: "pending",
              source_edited_at: "2031-05-06 07:08:09.123456",
              workspace_value: "complete",
              workspace_edited_at: String(before?.updated_at)
            }
          ])
          // the workspace row records the push and the Neon version it was merged with
          const ws = yield* workspaceCompanies.row(
            key,
            `enrichment_status, source_xmin, pushed_to_neon_at::text AS pushed, sync_dirty`
          )
          assert.strictEqual(ws?.enrichment_status, "complete")
          assert.strictEqual(ws?.source_xmin, neon?.xmin)
          assert.notStrictEqual(ws?.pushed, before?.pushed)
          assert.isFalse(ws?.sync_dirty)
          // merging again writes nothing and logs nothing more
          const again = yield* applyKeys(Company, [{ key }])
          assert.strictEqual(again.unchanged, 1)
          assert.strictEqual((yield* conflictsOf(key)).length, 1)
        })
    )

    it.effect(
      "a push that overwrote a Neon value logs it even when its workspace write loses the race to a person's edit",
      () =>
        Effect.gen(function* () {
          const key = yield* completeOnBothSides(demoCompanyKey(11))
          // Neon changes the city first, the workspace later (newer): the workspace's city wins
          yield* neonCompanies.update(key, `city = 'Star City', updated_at = '2001-01-01'`)
          yield* workspaceCompanies.update(key, `city = 'Westover'`)
          const stats = yield* Effect.scoped(
            Effect.gen(function* () {
              // a person holds the workspace row: the merge reads it, pushes to Neon, and its workspace
              // write waits behind the person's transaction, which edits the row and commits
              const held = yield* mergeHeldAtTheWorkspace(
                key,
                Effect.map(
                  onNeon(`SELECT city FROM marketing.company_invalid WHERE company_unique_id = $1`, [key]),
                  ([neon]) => neon?.city === "Westover"
                )
              )
              return yield* editHeldRow(held, key, `enrichment_notes = 'called them'`)
            })
          )
          assert.isAbove(stats.retries, 0, "the workspace write lost its race and the key was merged again")
          assert.strictEqual(stats.conflicts, 1)
          const logged = yield* conflictsOf(key)
          assert.deepStrictEqual(
            logged.map((c) => [c.field, c.winner, c.source_value, c.workspace_value]),
            [["city", "workspace", "Star City", "Westover"]]
          )
          const ws = yield* workspaceCompanies.row(
            key,
            `city, enrichment_notes, enrich_sync.company_workspace_hash(t) = last_sync_hash AS agreed`
          )
          assert.deepStrictEqual(ws, { city: "Westover", enrichment_notes: "called them", agreed: true })
        })
    )
  })
})
