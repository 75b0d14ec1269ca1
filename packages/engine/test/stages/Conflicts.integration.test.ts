/**
 * Restoring a conflict's losing value: on Neon when Neon's value lost (then merged into the workspace), in
 * the workspace as a person's edit when the workspace's did (pushed when the row is pushable, pending
 * otherwise); the replaced value logged as a conflict of its own, which restores the other way; and every
 * refusal: an unknown id, a conflict restored before, a status moved backwards, a row gone, a field changed
 * since.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Company } from "@enrich-sync/core"
import { demoCompanyKey } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import { applyKeys } from "../../src/merge/MergeApply.ts"
import { restoreConflict } from "../../src/stages/Conflicts.ts"
import { listConflicts } from "../../src/store/ConflictLog.ts"
import { engineFixture, mergeAllFromNeon, onNeon, onWorkspace } from "../support/EngineFixture.ts"

const cityOf = (key: string) =>
  Effect.gen(function* () {
    const [neon] = yield* onNeon(
      `SELECT city, updated_at::text AS updated_at FROM marketing.company_invalid WHERE company_unique_id = $1`,
      [key]
    )
    const [ws] = yield* onWorkspace(
      `SELECT city, enrich_sync.company_workspace_hash(t) IS DISTINCT FROM last_sync_hash AS unsynced
         FROM company_needs_enrichment t WHERE company_unique_id = $1`,
      [key]
    )
    return { neon: neon?.city, neonUpdatedAt: neon?.updated_at, workspace: ws?.city, unsynced: ws?.unsynced }
  })

/** The city of `key` on Neon and in the workspace, and whether the workspace row holds an unsynced edit. */
const citiesOf = (key: string) =>
  Effect.map(cityOf(key), (city) => [city.neon, city.workspace, city.unsynced])

const conflictsOf = (key: string) => Effect.map(listConflicts({ key }, 100), (page) => page.conflicts)

/**
 * The companies of the tests: a city whose Neon value loses and one whose workspace value loses, a status
 * Neon moves backwards, a field changed again since its conflict, a row deleted on Neon.
 */
const [neonLoses, workspaceLoses, statusKey, changedKey, goneKey] = [
  demoCompanyKey(20),
  demoCompanyKey(21),
  demoCompanyKey(22),
  demoCompanyKey(23),
  demoCompanyKey(24)
]

/** Both sides change the city of `key`, `winner`'s edit the newer one: the conflict logged, won by `winner`. */
const conflictOnCity = (
  key: string,
  neonCity: string,
  workspaceCity: string,
  winner: "source" | "workspace"
) =>
  Effect.gen(function* () {
    yield* onWorkspace(`UPDATE company_needs_enrichment SET city = $2 WHERE company_unique_id = $1`, [
      key,
      workspaceCity
    ])
    const neonTime = winner === "workspace" ? "2001-01-01 00:00:00" : "2099-01-01 00:00:00"
    yield* onNeon(
      `UPDATE marketing.company_invalid SET city = $2, updated_at = $3 WHERE company_unique_id = $1`,
      [key, neonCity, neonTime]
    )
    const stats = yield* applyKeys(Company, [{ key, committedAt: neonTime }])
    assert.strictEqual(stats.conflicts, 1)
    const logged = yield* conflictsOf(key)
    const conflict = logged[logged.length - 1]!
    assert.strictEqual(conflict.winner, winner)
    return conflict
  })

describe("restoring a conflict's losing value", () => {
  layer(engineFixture({ seed: {} }))((it) => {
    it.effect("setup: every Neon company merged, three of them complete on both sides", () =>
      Effect.gen(function* () {
        yield* mergeAllFromNeon(Company)
        for (const key of [neonLoses, statusKey, goneKey]) {
          yield* onWorkspace(
            `UPDATE company_needs_enrichment SET enrichment_status = 'complete' WHERE company_unique_id = $1`,
            [key]
          )
          yield* applyKeys(Company, [{ key }])
        }
      })
    )

    it.effect(
      "Neon's value lost: written back on Neon with a fresh time and merged into the workspace; the replaced value restores the other way",
      () =>
        Effect.gen(function* () {
          const lost = yield* conflictOnCity(neonLoses, "Star City", "Westover", "workspace")
          assert.deepStrictEqual(yield* cityOf(neonLoses), {
            neon: "Westover",
            neonUpdatedAt: (yield* cityOf(neonLoses)).neonUpdatedAt,
            workspace: "Westover",
            unsynced: false
          })

          const report = yield* restoreConflict(lost.id, { by: "ana@example.com" })
          assert.strictEqual(report.side, "source")
          assert.strictEqual(report.value, "Star City")
          assert.strictEqual(report.replaced, "Westover")
          assert.strictEqual(report.merge.updated, 1)
          const after = yield* cityOf(neonLoses)
          assert.strictEqual(after.neon, "Star City")
          assert.strictEqual(after.workspace, "Star City")
          assert.isAbove(
            Date.parse(`${String(after.neonUpdatedAt)}Z`),
            Date.now() - 60_000,
            "a fresh edit time"
          )

          const logged = yield* conflictsOf(neonLoses)
          const original = logged.find((c) => c.id === lost.id)!
          assert.isNotNull(original.restoredAt)
          assert.strictEqual(original.reviewedBy, "ana@example.com")
          const replaced = logged.find((c) => c.id === report.loggedAs)!
          assert.deepStrictEqual(
            [
              replaced.reason,
              replaced.winner,
              replaced.source.value,
              replaced.workspace.value,
              replaced.pending
            ],
            [`restored #${lost.id}`, "source", "Star City", "Westover", false]
          )
          assert.strictEqual(logged.length, 2, "the merge after the restore logged nothing more")

          // restored twice: refused
          const again = yield* Effect.flip(restoreConflict(lost.id))
          assert.strictEqual(again._tag, "ConflictReviewError")
          assert.include(again.message, `conflict ${lost.id} was already restored`)

          // the replaced value comes back the other way: a workspace edit, pushed since the row is complete
          const undo = yield* restoreConflict(report.loggedAs)
          assert.strictEqual(undo.side, "workspace")
          assert.strictEqual(undo.merge.pushed, 1)
          assert.deepStrictEqual(yield* citiesOf(neonLoses), ["Westover", "Westover", false])
        })
    )

    it.effect(
      "the workspace's value lost on a row not yet pushable: written back as a person's edit, pending until the row is complete",
      () =>
        Effect.gen(function* () {
          const lost = yield* conflictOnCity(workspaceLoses, "Neon City", "Draft City", "source")
          const report = yield* restoreConflict(lost.id)
          assert.strictEqual(report.side, "workspace")
          assert.strictEqual(report.merge.pushed, 0)
          assert.deepStrictEqual(yield* citiesOf(workspaceLoses), ["Neon City", "Draft City", true])
          const replaced = (yield* conflictsOf(workspaceLoses)).find((c) => c.id === report.loggedAs)!
          assert.deepStrictEqual(
            [replaced.winner, replaced.source.value, replaced.workspace.value, replaced.pending],
            ["workspace", "Neon City", "Draft City", true]
          )
        })
    )

    it.effect("refuses an unknown id, a status moved backwards, a field changed since, and a row gone", () =>
      Effect.gen(function* () {
        const missing = yield* Effect.flip(restoreConflict(987_654))
        assert.strictEqual(missing.reason, "NotFound")
        assert.include(missing.message, "enrich-sync conflicts")

        // the case: Neon's NULL status lost to complete, and stays lost
        yield* onNeon(
          `UPDATE marketing.company_invalid SET enrichment_status = NULL WHERE company_unique_id = $1`,
          [statusKey]
        )
        yield* applyKeys(Company, [{ key: statusKey }])
        const [status] = yield* conflictsOf(statusKey)
        assert.strictEqual(status?.reason, "status-only-forward")
        const backwards = yield* Effect.flip(restoreConflict(status!.id))
        assert.strictEqual(backwards.reason, "NotRestorable")
        assert.include(backwards.message, "only moves forward")
        assert.include(backwards.message, `enrich-sync conflicts review ${status!.id}`)

        // Neon changed the field again since the conflict
        const changed = yield* conflictOnCity(changedKey, "Old Neon", "Newer workspace", "source")
        yield* onWorkspace(
          `UPDATE company_needs_enrichment SET city = 'Third value' WHERE company_unique_id = $1`,
          [changedKey]
        )
        const refused = yield* Effect.flip(restoreConflict(changed.id))
        assert.strictEqual(refused.reason, "Changed")
        assert.include(refused.message, `"Third value"`)
        assert.strictEqual((yield* cityOf(changedKey)).workspace, "Third value")

        // the Neon row is gone
        const gone = yield* conflictOnCity(goneKey, "Gone City", "Workspace City", "workspace")
        yield* onNeon(`DELETE FROM marketing.company_invalid WHERE company_unique_id = $1`, [goneKey])
        const rowGone = yield* Effect.flip(restoreConflict(gone.id))
        assert.strictEqual(rowGone.reason, "RowGone")
        assert.include(rowGone.message, "is no longer in marketing.company_invalid")
        // nothing was marked restored by the refusals
        assert.isNull((yield* conflictsOf(goneKey))[0]?.restoredAt)
      })
    )
  })
})
