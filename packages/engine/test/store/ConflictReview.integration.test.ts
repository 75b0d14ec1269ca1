/**
 * The conflict log's review: workspace migration 3 adds its columns to a log that already holds conflicts
 * (keeping them, idempotently); conflicts are read back with filters (entity, key, time, unreviewed), newest
 * first within a limit, and marked reviewed one by one or by filter, a review never overwriting an earlier one.
 */
import { assert, describe, layer } from "@effect/vitest"
import type { Conflict } from "@enrich-sync/core"
import { Company, migrationsFor, Person } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import { listConflicts, logConflicts, markReviewed, readConflict } from "../../src/store/ConflictLog.ts"
import { WorkspaceDatabase } from "../../src/store/Database.ts"
import { applyMigrations } from "../../src/store/Migrator.ts"
import { schemaProblems } from "../../src/store/SchemaCheck.ts"
import { earlierReleaseFixture } from "../support/EarlierRelease.ts"
import { engineFixture, onWorkspace } from "../support/EngineFixture.ts"

const conflict = (field: string, overrides: Partial<Conflict> = {}): Conflict => ({
  field,
  reason: "both-changed",
  winner: "workspace",
  base: "base",
  source: { value: `Neon ${field}`, editedAt: "2025-11-07T16:32:09.123456Z" },
  workspace: { value: `workspace ${field}`, editedAt: "2025-11-07T16:33:00.000000Z" },
  pending: false,
  ...overrides
})

describe("workspace migration 3 over a conflict log with rows", () => {
  layer(earlierReleaseFixture(3))((it) => {
    it.effect(
      "adds the review columns and index, keeps every conflict, and runs again changing nothing",
      () =>
        Effect.gen(function* () {
          const db = yield* WorkspaceDatabase
          // the log of the releases before migration 3, holding a conflict
          yield* logConflicts(db, Company, [{ key: "04.04.01.01.00101.101", conflict: conflict("city") }])
          assert.include(
            (yield* schemaProblems(db)).join("; "),
            "public.sync_conflicts.reviewed_at is missing"
          )

          const plan = yield* applyMigrations(db)
          assert.include(
            plan.pending.map((m) => m.version),
            3
          )
          assert.deepStrictEqual(yield* schemaProblems(db), [])
          const rows = yield* onWorkspace(
            `SELECT record_key, field, source_value, workspace_value, reviewed_at, reviewed_by, restored_at FROM sync_conflicts`
          )
          assert.deepStrictEqual(rows, [
            {
              record_key: "04.04.01.01.00101.101",
              field: "city",
              source_value: "Neon city",
              workspace_value: "workspace city",
              reviewed_at: null,
              reviewed_by: null,
              restored_at: null
            }
          ])
          const [index] = yield* onWorkspace(
            `SELECT to_regclass('public.idx_sync_conflicts_unreviewed') IS NOT NULL AS present`
          )
          assert.isTrue(index?.present)
          // every statement of migration 3 runs again without changing anything
          const third = migrationsFor("workspace").find((m) => m.version === 3)!
          yield* db.transaction((tx) =>
            Effect.forEach(third.statements, (s) => tx.query(s), { discard: true })
          )
          assert.strictEqual((yield* onWorkspace(`SELECT count(*)::int AS n FROM sync_conflicts`))[0]?.n, 1)
        })
    )
  })
})

describe("reading and reviewing the conflict log", () => {
  layer(engineFixture())((it) => {
    it.effect("lists by entity, key, time and review, newest within the limit, with the counts", () =>
      Effect.gen(function* () {
        yield* WorkspaceDatabase.use((db) =>
          db.transaction((tx) =>
            Effect.andThen(
              logConflicts(tx, Company, [
                { key: "04.04.01.01.00101.101", conflict: conflict("city") },
                { key: "04.04.01.01.00101.101", conflict: conflict("phone", { pending: true }) },
                { key: "04.04.01.01.00102.102", conflict: conflict("website") }
              ]),
              logConflicts(tx, Person, [{ key: "04.04.02.04.20000.001", conflict: conflict("email") }])
            )
          )
        )
        // the first conflict was found long ago
        yield* onWorkspace(`UPDATE sync_conflicts SET detected_at = '2020-01-01' WHERE field = 'city'`)

        const all = yield* listConflicts({}, 100)
        assert.deepStrictEqual(
          all.conflicts.map((c) => c.field),
          ["city", "phone", "website", "email"]
        )
        assert.strictEqual(all.total, 4)
        assert.strictEqual(all.unreviewed, 4)
        const phone = all.conflicts[1]!
        assert.strictEqual(phone.reason, "both-changed")
        assert.isTrue(phone.pending)
        assert.deepStrictEqual(phone.source, { value: "Neon phone", editedAt: "2025-11-07T16:32:09.123456Z" })
        assert.deepStrictEqual(phone.workspace, {
          value: "workspace phone",
          editedAt: "2025-11-07T16:33:00.000000Z"
        })
        assert.match(phone.detectedAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/)

        const people = yield* listConflicts({ entity: "people" }, 100)
        assert.deepStrictEqual(
          people.conflicts.map((c) => c.key),
          ["04.04.02.04.20000.001"]
        )
        const byKey = yield* listConflicts({ key: "04.04.01.01.00101.101" }, 100)
        assert.deepStrictEqual(
          byKey.conflicts.map((c) => c.field),
          ["city", "phone"]
        )
        const recent = yield* listConflicts({ since: "2024-01-01T00:00:00Z" }, 100)
        assert.deepStrictEqual(
          recent.conflicts.map((c) => c.field),
          ["phone", "website", "email"]
        )
        // the limit keeps the newest, the counts are of every match
        const newest = yield* listConflicts({}, 2)
        assert.deepStrictEqual(
          newest.conflicts.map((c) => c.field),
          ["website", "email"]
        )
        assert.strictEqual(newest.total, 4)
      })
    )

    it.effect("marks one reviewed, then every unreviewed match, never overwriting an earlier review", () =>
      Effect.gen(function* () {
        const db = yield* WorkspaceDatabase
        const all = yield* listConflicts({}, 100)
        const city = all.conflicts.find((c) => c.field === "city")!
        assert.deepStrictEqual(yield* markReviewed({ id: city.id }, "ana@example.com"), [city.id])
        // again: nothing more to mark, and the first review stays
        assert.deepStrictEqual(yield* markReviewed({ id: city.id }, "bo@example.com"), [])
        const reviewed = yield* readConflict(db, city.id)
        assert.strictEqual(reviewed?.reviewedBy, "ana@example.com")
        assert.isNotNull(reviewed?.reviewedAt)
        assert.strictEqual((yield* listConflicts({ unreviewed: true }, 100)).total, 3)

        const companies = yield* markReviewed({ filter: { entity: "company" } }, null)
        assert.strictEqual(companies.length, 2)
        const left = yield* listConflicts({ unreviewed: true }, 100)
        assert.deepStrictEqual(
          left.conflicts.map((c) => c.field),
          ["email"]
        )
        assert.strictEqual((yield* readConflict(db, city.id))?.reviewedBy, "ana@example.com")
        assert.isUndefined(yield* readConflict(db, 999_999))
      })
    )
  })
})
