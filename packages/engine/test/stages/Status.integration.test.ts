import { assert, describe, layer } from "@effect/vitest"
import { Company, Person } from "@enrich-sync/core"
import { demoCompanyKey } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import { backfillEntity } from "../../src/stages/Backfill.ts"
import { entityStatus } from "../../src/stages/Status.ts"
import { logConflicts, markReviewed } from "../../src/store/ConflictLog.ts"
import { WorkspaceDatabase } from "../../src/store/Database.ts"
import { markGone } from "../../src/store/WorkspaceStore.ts"
import { engineFixture, onNeon, onWorkspace } from "../support/EngineFixture.ts"

describe("status", () => {
  layer(engineFixture({ seed: {} }))((it) => {
    it.effect("counts both sides of each entity, and changes nothing", () =>
      Effect.gen(function* () {
        const empty = yield* entityStatus(Company)
        const nothing = {
          rows: 0,
          active: 0,
          promoted: 0,
          removed: 0,
          byStatus: {},
          lastPull: null,
          lastPush: null,
          pendingPushes: 0,
          touched: 0
        }
        assert.deepStrictEqual(empty.workspace, nothing)
        assert.strictEqual(empty.neon.invalid, 119)
        assert.strictEqual(empty.neon.passed + empty.neon.failed, 119)

        yield* backfillEntity(Company)
        yield* backfillEntity(Person)
        const pulled = yield* entityStatus(Company)
        assert.deepStrictEqual(pulled.workspace, {
          ...nothing,
          rows: 119,
          active: 119,
          byStatus: { pending: 119 },
          lastPull: pulled.workspace.lastPull
        })
        assert.isNotNull(pulled.workspace.lastPull)
        assert.strictEqual(pulled.conflicts, 0)
        assert.strictEqual((yield* entityStatus(Person)).workspace.active, 5)
      })
    )

    it.effect("follows edits, statuses, pending pushes, promotions and conflicts", () =>
      Effect.gen(function* () {
        const [a, b, c, d] = [demoCompanyKey(60), demoCompanyKey(61), demoCompanyKey(62), demoCompanyKey(63)]
        yield* onWorkspace(
          `UPDATE company_needs_enrichment SET website = 'https://a.example', enrichment_status = 'complete' WHERE company_unique_id = $1`,
          [a]
        )
        yield* onWorkspace(
          `UPDATE company_needs_enrichment SET enrichment_status = 'in_progress' WHERE company_unique_id = $1`,
          [b]
        )
        yield* onNeon(
          `UPDATE marketing.company_invalid SET validation_status = 'PASSED', enrichment_status = 'complete', still_invalid = true
            WHERE company_unique_id = $1`,
          [c]
        )
        yield* markGone(Company, [d], [])
        const db = yield* WorkspaceDatabase
        yield* db.transaction((tx) =>
          logConflicts(tx, Company, [
            {
              key: a,
              conflict: {
                field: "phone",
                reason: "both-changed",
                winner: "source",
                base: null,
                source: { value: "1", editedAt: null },
                workspace: { value: "2", editedAt: null },
                pending: false
              }
            }
          ])
        )
        const status = yield* entityStatus(Company)
        assert.deepInclude(status.neon, {
          invalid: 119,
          passed: 1,
          failed: 118,
          enriched: 1,
          stillInvalid: 1,
          master: 0
        })
        assert.deepInclude(status.workspace, {
          rows: 119,
          active: 118,
          promoted: 1,
          removed: 0,
          pendingPushes: 1,
          touched: 2
        })
        assert.deepStrictEqual(status.workspace.byStatus, { complete: 1, in_progress: 1, pending: 116 })
        assert.strictEqual(status.conflicts, 1)
        assert.strictEqual(status.unreviewedConflicts, 1)
        yield* markReviewed({ filter: { entity: "company" } }, "ana@example.com")
        const reviewed = yield* entityStatus(Company)
        assert.deepStrictEqual([reviewed.conflicts, reviewed.unreviewedConflicts], [1, 0])
        // people are counted apart
        assert.strictEqual((yield* entityStatus(Person)).conflicts, 0)
      })
    )
  })
})
