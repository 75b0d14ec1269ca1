import { assert, describe, layer } from "@effect/vitest"
import type { SyncRecord } from "@enrich-sync/core"
import { Company, emptyRecord, recordHash } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import { markGone, markGoneInTurn, readWorkspace, writeWorkspace } from "../../src/store/WorkspaceStore.ts"
import { engineFixture, onWorkspace } from "../support/EngineFixture.ts"

const record = (key: string, name: string): SyncRecord => ({
  ...emptyRecord(Company),
  company_unique_id: key,
  company_name: name,
  enrichment_status: "pending",
  validation_errors: { website: "empty or blank" },
  reason_code: "EMPTY_WEBSITE",
  validation_status: "FAILED",
  neon_id: Number(key.slice(-3))
})

const insertOf = (key: string, name: string, sourceXmin = 7) => {
  const r = record(key, name)
  return {
    key,
    record: r,
    hash: recordHash(Company, r),
    updatedAt: "2025-11-07T16:32:09.000000Z",
    sourceXmin
  }
}

const readOne = (key: string) => Effect.map(readWorkspace(Company, [key]), (rows) => rows.get(key)!)

const conflictCount = (key: string) =>
  Effect.map(
    onWorkspace(`SELECT count(*)::int AS n FROM sync_conflicts WHERE record_key = $1`, [key]),
    ([row]) => Number(row?.n)
  )

const aConflict = {
  field: "company_name",
  reason: "both-changed" as const,
  winner: "source" as const,
  base: "Acme",
  source: { value: "Acme Neon", editedAt: null },
  workspace: { value: "Acme Draft", editedAt: null },
  pending: false
}

describe("the workspace store", () => {
  layer(engineFixture())((it) => {
    const a = "04.04.01.01.00101.101"
    const b = "04.04.01.01.00102.102"

    it.effect("inserts rows that are their own base, once, and reads them back as the merge sees them", () =>
      Effect.gen(function* () {
        const written = yield* writeWorkspace(Company, [insertOf(a, "Acme"), insertOf(b, "Bolt")], [], [])
        assert.deepStrictEqual([...written.inserted].sort(), [a, b])
        // a key someone inserted first is not inserted again (and reported as not written)
        const again = yield* writeWorkspace(Company, [insertOf(a, "Acme again")], [], [])
        assert.strictEqual(again.inserted.size, 0)

        const rows = yield* readWorkspace(Company, [a, b, "04.04.01.01.00199.199"])
        assert.deepStrictEqual([...rows.keys()].sort(), [a, b])
        const row = rows.get(a)!
        assert.deepStrictEqual(row.record, record(a, "Acme"))
        // no stored base: the row hashes to last_sync_hash, so it is its own base
        assert.deepStrictEqual(row.base, row.record)
        assert.isFalse(row.storedBase)
        assert.strictEqual(row.lastSyncHash, recordHash(Company, record(a, "Acme")))
        assert.strictEqual(row.updatedAt, "2025-11-07T16:32:09.000000Z")
        assert.strictEqual(row.syncState, "active")
        assert.isFalse(row.dirty)
        assert.strictEqual(row.sourceXmin, 7)
      })
    )

    it.effect(
      "an update lands only on the row as it was read, and logs its conflicts only when it lands",
      () =>
        Effect.gen(function* () {
          const read = yield* readOne(a)
          // a person edits the row after it was read: the trigger stamps it and keeps the agreed base
          yield* onWorkspace(
            `UPDATE company_needs_enrichment SET company_name = 'Acme Draft' WHERE company_unique_id = $1`,
            [a]
          )
          const merged = { ...record(a, "Acme Neon") }
          const update = (from: typeof read) => ({
            key: a,
            expectedHash: from.lastSyncHash,
            expectedUpdatedAt: from.updatedAtRaw,
            set: { company_name: "Acme Neon" },
            base: null,
            hash: recordHash(Company, merged),
            updatedAt: null,
            pulled: true,
            pushed: false,
            syncState: "active" as const,
            sourceXmin: 8
          })
          const lost = yield* writeWorkspace(Company, [], [update(read)], [{ key: a, conflict: aConflict }])
          assert.strictEqual(lost.updated.size, 0)
          assert.strictEqual(yield* conflictCount(a), 0)

          const edited = yield* readOne(a)
          assert.isTrue(edited.dirty)
          assert.isTrue(edited.storedBase)
          assert.deepStrictEqual(edited.base, record(a, "Acme"))
          assert.strictEqual(edited.record.company_name, "Acme Draft")

          const landed = yield* writeWorkspace(
            Company,
            [],
            [update(edited)],
            [{ key: a, conflict: aConflict }]
          )
          assert.deepStrictEqual([...landed.updated], [a])
          assert.strictEqual(yield* conflictCount(a), 1)
          const after = yield* readOne(a)
          assert.deepStrictEqual(after.record, merged)
          assert.deepStrictEqual(after.base, merged)
          assert.isFalse(after.storedBase)
          assert.isFalse(after.dirty)
          assert.strictEqual(after.sourceXmin, 8)
          // the engine's write kept the edit time the person's edit gave it (the trigger leaves the engine alone)
          assert.strictEqual(after.updatedAtRaw, edited.updatedAtRaw)
        })
    )

    it.effect(
      "a clean mark clears the dirty mark and records the Neon version, unless the row moved since",
      () =>
        Effect.gen(function* () {
          yield* onWorkspace(
            `UPDATE company_needs_enrichment SET enrichment_notes = 'called' WHERE company_unique_id = $1`,
            [b]
          )
          const read = yield* readOne(b)
          assert.isTrue(read.dirty)
          const clean = { key: b, expectedUpdatedAt: read.updatedAtRaw, sourceXmin: 9 }
          yield* onWorkspace(
            `UPDATE company_needs_enrichment SET enrichment_notes = 'called twice' WHERE company_unique_id = $1`,
            [b]
          )
          yield* writeWorkspace(Company, [], [], [], [clean])
          assert.isTrue((yield* readOne(b)).dirty)
          const fresh = yield* readOne(b)
          yield* writeWorkspace(Company, [], [], [], [{ ...clean, expectedUpdatedAt: fresh.updatedAtRaw }])
          const after = yield* readOne(b)
          assert.isFalse(after.dirty)
          assert.strictEqual(after.sourceXmin, 9)
        })
    )

    it.effect("rows gone from Neon are marked promoted or removed, kept, and marked once", () =>
      Effect.gen(function* () {
        // a key as an array literal could break it: quoted, with a backslash, a comma and braces
        const odd = `04.04.01.01 "x\\y,{z}'.00103.103`
        yield* writeWorkspace(Company, [insertOf(odd, "Odd")], [], [])
        const before = yield* readOne(a)
        assert.strictEqual(yield* markGone(Company, [a, odd], [b]), 3)
        const promoted = yield* readOne(a)
        assert.strictEqual(promoted.syncState, "promoted")
        assert.strictEqual((yield* readOne(odd)).syncState, "promoted")
        assert.strictEqual((yield* readOne(b)).syncState, "removed")
        // the engine's write: the trigger kept the edit time and marked nothing dirty
        assert.strictEqual(promoted.updatedAtRaw, before.updatedAtRaw)
        assert.strictEqual(promoted.dirty, before.dirty)
        yield* onWorkspace(`DELETE FROM company_needs_enrichment WHERE company_unique_id = $1`, [odd])
        assert.strictEqual(yield* markGone(Company, [a], [b]), 0)
        assert.strictEqual(yield* markGone(Company, [], []), 0)
        const [stamps] = yield* onWorkspace(
          `SELECT count(*) FILTER (WHERE promoted_at IS NOT NULL)::int AS promoted,
                  count(*) FILTER (WHERE removed_at IS NOT NULL)::int AS removed
             FROM company_needs_enrichment`
        )
        assert.deepStrictEqual(stamps, { promoted: 1, removed: 1 })
      })
    )

    it.effect(
      "sets of gone rows sent together are marked one transaction after another; a failure keeps those before it",
      () =>
        Effect.gen(function* () {
          const keys = [
            "04.04.01.01.00201.201",
            "04.04.01.01.00202.202",
            "04.04.01.01.00203.203",
            "04.04.01.01.00204.204",
            "04.04.01.01.00205.205"
          ]
          const [c1, c2, c3, c4, c5] = keys as [string, string, string, string, string]
          yield* writeWorkspace(
            Company,
            keys.map((k) => insertOf(k, `Row ${k}`)),
            [],
            []
          )
          assert.strictEqual(
            yield* markGoneInTurn(Company, [
              { promoted: [c1], removed: [c2] },
              { promoted: [], removed: [] }
            ]),
            2
          )
          // the second set fails (a trigger refuses its row): the first stays marked, the third never runs
          yield* onWorkspace(`CREATE FUNCTION refuse_c4() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF NEW.company_unique_id = '${c4}' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$`)
          yield* onWorkspace(
            `CREATE TRIGGER refuse_c4 BEFORE UPDATE ON company_needs_enrichment FOR EACH ROW EXECUTE FUNCTION refuse_c4()`
          )
          const failed = yield* Effect.flip(
            markGoneInTurn(Company, [
              { promoted: [c3], removed: [] },
              { promoted: [c4], removed: [] },
              { promoted: [c5], removed: [] }
            ])
          )
          assert.include(failed.message, "refused")
          yield* onWorkspace(`DROP TRIGGER refuse_c4 ON company_needs_enrichment`)
          yield* onWorkspace(`DROP FUNCTION refuse_c4()`)
          const states = yield* Effect.forEach(keys, (k) => Effect.map(readOne(k), (r) => r.syncState))
          assert.deepStrictEqual(states, ["promoted", "removed", "promoted", "active", "active"])
          // the connection left in the failed transaction is not reused: the next marking works
          assert.strictEqual(yield* markGone(Company, [c4, c5], []), 2)
        })
    )
  })
})
