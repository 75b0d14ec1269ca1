import { assert, describe, layer } from "@effect/vitest"
import type { Conflict } from "@enrich-sync/core"
import { Company } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import { logConflicts } from "../../src/store/ConflictLog.ts"
import { WorkspaceDatabase } from "../../src/store/Database.ts"
import { engineFixture, onWorkspace } from "../support/EngineFixture.ts"

const conflict = (overrides: Partial<Conflict> = {}): Conflict => ({
  field: "phone",
  reason: "both-changed",
  winner: "workspace",
  base: "(304) 555-0100",
  source: { value: "(304) 555-0101", editedAt: "2025-11-07T16:32:09.123456Z" },
  workspace: { value: "(304) 555-0102", editedAt: "2025-11-07T16:33:00.000000Z" },
  pending: false,
  ...overrides
})

const logged = onWorkspace(
  `SELECT entity, record_key, field, reason, winner, base_value, source_value, source_edited_at::text AS source_edited_at,
          workspace_value, workspace_edited_at::text AS workspace_edited_at
     FROM public.sync_conflicts ORDER BY id`
)

describe("the conflict log", () => {
  layer(engineFixture())((it) => {
    it.effect(
      "keeps both values, the base and both edit times of each conflict, in the writer's transaction",
      () =>
        Effect.gen(function* () {
          const db = yield* WorkspaceDatabase
          yield* db.transaction((tx) =>
            logConflicts(tx, Company, [
              { key: "04.04.01.01.00101.101", conflict: conflict() },
              {
                key: "04.04.01.01.00102.102",
                conflict: conflict({
                  field: "validation_errors",
                  reason: "source-owned",
                  winner: "source",
                  base: null,
                  source: { value: { website: "empty or blank" }, editedAt: null },
                  workspace: { value: null, editedAt: null }
                })
              },
              { key: "04.04.01.01.00103.103", conflict: conflict({ pending: true }) }
            ])
          )
          const rows = yield* logged
          assert.deepStrictEqual(rows[0], {
            entity: "company",
            record_key: "04.04.01.01.00101.101",
            field: "phone",
            reason: "both-changed",
            winner: "workspace",
            base_value: "(304) 555-0100",
            source_value: "(304) 555-0101",
            source_edited_at: "2025-11-07 16:32:09.123456",
            workspace_value: "(304) 555-0102",
            workspace_edited_at: "2025-11-07 16:33:00"
          })
          // JSON values stay JSON; a missing value and a missing time are SQL NULL
          assert.deepStrictEqual(rows[1]?.source_value, { website: "empty or blank" })
          assert.isNull(rows[1]?.base_value)
          assert.isNull(rows[1]?.workspace_value)
          assert.isNull(rows[1]?.source_edited_at)
          // a winner held back until it is pushed says so
          assert.strictEqual(rows[2]?.reason, "both-changed (pending push)")
        })
    )

    it.effect("writes nothing when the writer's transaction rolls back, and nothing for no conflicts", () =>
      Effect.gen(function* () {
        const db = yield* WorkspaceDatabase
        const before = (yield* logged).length
        yield* db.transaction((tx) => logConflicts(tx, Company, []))
        const failed = yield* db
          .transaction((tx) =>
            Effect.andThen(
              logConflicts(tx, Company, [{ key: "04.04.01.01.00104.104", conflict: conflict() }]),
              tx.query("SELECT 1/0")
            )
          )
          .pipe(Effect.flip)
        assert.strictEqual(failed._tag, "DatabaseError")
        assert.strictEqual((yield* logged).length, before)
      })
    )
  })
})
