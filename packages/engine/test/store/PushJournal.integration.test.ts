import { assert, describe, layer } from "@effect/vitest"
import type { SyncRecord } from "@enrich-sync/core"
import { Company, emptyRecord, recordHash, recordJson } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import { conflictRecords } from "../../src/store/ConflictLog.ts"
import type { PushJournalEntry } from "../../src/store/PushJournal.ts"
import { sweepReceipts } from "../../src/store/PushJournal.ts"
import { readWorkspace, writeWorkspace } from "../../src/store/WorkspaceStore.ts"
import { engineFixture, onWorkspace } from "../support/EngineFixture.ts"

const record = (key: string, name: string): SyncRecord => ({
  ...emptyRecord(Company),
  company_unique_id: key,
  company_name: name,
  enrichment_status: "complete",
  validation_status: "FAILED",
  neon_id: Number(key.slice(-3))
})

/** Inserts the workspace row of `key` named `name`, as an engine write (edited 2025-11-07T16:32:09Z). */
const insertRow = (key: string, name: string) => {
  const inserted = record(key, name)
  return writeWorkspace(
    Company,
    [
      {
        key,
        record: inserted,
        hash: recordHash(Company, inserted),
        updatedAt: "2025-11-07T16:32:09.000000Z",
        sourceXmin: 7
      }
    ],
    [],
    []
  )
}

const readOne = (key: string) => Effect.map(readWorkspace(Company, [key]), (rows) => rows.get(key)!)

const conflictCount = (key: string) =>
  Effect.map(
    onWorkspace(`SELECT count(*)::int AS n FROM sync_conflicts WHERE record_key = $1`, [key]),
    ([row]) => Number(row?.n)
  )

/** An entry of a push of `name` over Neon's "Acme Neon", whose merge read the row with `priorHash`. */
const entryOf = (key: string, name: string, priorHash: string | null): PushJournalEntry => {
  const base = record(key, name)
  return {
    pushId: crypto.randomUUID(),
    key,
    priorHash,
    base: recordJson(Company, base),
    baseHash: recordHash(Company, base),
    conflicts: conflictRecords(Company, [
      {
        key,
        conflict: {
          field: "company_name",
          reason: "both-changed",
          winner: "workspace",
          base: "Acme",
          source: { value: "Acme Neon", editedAt: null },
          workspace: { value: name, editedAt: null },
          pending: false
        }
      }
    ])
  }
}

describe("the push journal's workspace side", () => {
  layer(engineFixture())((it) => {
    const a = "04.04.01.01.00101.101"
    const b = "04.04.01.01.00102.102"

    it.effect(
      "an entry whose row write lost makes its base the row's, keeping the row's values and edit time; an entry applied before changes nothing",
      () =>
        Effect.gen(function* () {
          yield* insertRow(a, "Acme")
          const read = yield* readOne(a)
          // a person edits after the push's merge read the row: its update will lose
          yield* onWorkspace(
            `UPDATE company_needs_enrichment SET company_name = 'Acme Two' WHERE company_unique_id = $1`,
            [a]
          )
          const edited = yield* readOne(a)
          const entry = entryOf(a, "Acme One", read.lastSyncHash)
          const update = {
            key: a,
            expectedHash: read.lastSyncHash,
            expectedUpdatedAt: read.updatedAtRaw,
            set: {},
            base: null,
            hash: entry.baseHash,
            updatedAt: null,
            pulled: false,
            pushed: true,
            syncState: "active" as const,
            sourceXmin: 8
          }
          const written = yield* writeWorkspace(Company, [], [update], [], [], [entry])
          assert.deepStrictEqual(
            [[...written.updated], [...written.journaled], [...written.rebased]],
            [[], [a], [a]]
          )
          assert.strictEqual(yield* conflictCount(a), 1)
          const rebased = yield* readOne(a)
          assert.deepStrictEqual(rebased.record, edited.record)
          assert.deepStrictEqual(rebased.base, record(a, "Acme One"))
          assert.strictEqual(rebased.lastSyncHash, entry.baseHash)
          assert.strictEqual(rebased.updatedAtRaw, edited.updatedAtRaw)
          assert.isTrue(rebased.dirty)

          // the same entry again (a recovery after the write, or a write after a recovery): nothing
          const again = yield* writeWorkspace(
            Company,
            [],
            [{ ...update, expectedHash: rebased.lastSyncHash, expectedUpdatedAt: rebased.updatedAtRaw }],
            [],
            [],
            [entry]
          )
          assert.deepStrictEqual([again.updated.size, again.journaled.size, again.rebased.size], [0, 0, 0])
          assert.strictEqual(yield* conflictCount(a), 1)
          assert.deepStrictEqual(yield* readOne(a), rebased)
        })
    )

    it.effect(
      "an entry whose row another engine write merged since keeps that write's base, and logs its conflicts",
      () =>
        Effect.gen(function* () {
          yield* insertRow(b, "Bolt")
          const entry = entryOf(b, "Bolt One", "a hash the row no longer has")
          const before = yield* readOne(b)
          const written = yield* writeWorkspace(Company, [], [], [], [], [entry])
          assert.deepStrictEqual([written.journaled.size, written.rebased.size], [1, 0])
          assert.strictEqual(yield* conflictCount(b), 1)
          assert.deepStrictEqual(yield* readOne(b), before)
        })
    )

    it.effect("the sweep deletes only old receipts whose entry is gone", () =>
      Effect.gen(function* () {
        const [young, old, kept] = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()]
        yield* onWorkspace(`DELETE FROM enrich_sync.push_receipts`)
        yield* onWorkspace(
          `INSERT INTO enrich_sync.push_receipts (push_id, created_at)
           VALUES ($1, now()), ($2, now() - interval '2 days'), ($3, now() - interval '2 days')`,
          [young, old, kept]
        )
        assert.strictEqual(yield* sweepReceipts([kept]), 1)
        const left = yield* onWorkspace(
          `SELECT push_id::text AS id FROM enrich_sync.push_receipts ORDER BY id`
        )
        assert.deepStrictEqual(left.map((r) => r.id).sort(), [young, kept].sort())
      })
    )
  })
})
