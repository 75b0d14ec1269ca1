/**
 * A push whose process stops at any point between its Neon commit and the end of its clean-up loses
 * nothing and logs nothing twice: the push journal is applied before the key is merged again, or at the
 * start-up drain. Each stop is made deterministic by holding a lock the next step needs (the workspace
 * row, the journal entry on Neon, the receipt in the workspace), then stopping the merge while it waits:
 * interrupted in a transaction (rolled back, as a killed process's server does), or its connection ended.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Company } from "@enrich-sync/core"
import { demoCompanyKey } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import { applyKeys } from "../../src/merge/MergeApply.ts"
import { applyPushJournal, drainPushJournal } from "../../src/merge/PushJournalApply.ts"
import { SourceDatabase, type WorkspaceDatabase } from "../../src/store/Database.ts"
import { journalIds, sweepReceipts } from "../../src/store/PushJournal.ts"
import { enterWebsite, neonCompanies, workspaceCompanies } from "../support/CompanyRows.ts"
import {
  editHeldRow,
  engineFixture,
  exactJson,
  type HeldMerge,
  mergeHeldAtTheWorkspace,
  mergeTheSeededCompanies,
  onNeon,
  onWorkspace,
  waitUntil
} from "../support/EngineFixture.ts"

const conflictsOf = (key: string) =>
  Effect.map(
    onWorkspace(
      `SELECT field, winner, source_value #>> '{}' AS source, workspace_value #>> '{}' AS workspace
         FROM sync_conflicts WHERE record_key = $1 ORDER BY id`,
      [key]
    ),
    (rows) => rows.map((r) => [r.field, r.winner, r.source, r.workspace])
  )

/** The one conflict each push below makes: the person's newer website over Neon's. */
const neonLost = ["website", "workspace", "https://neon.example", "https://person.example"]

const journalOf = (key: string) =>
  onNeon(`SELECT push_id::text AS push_id FROM enrich_sync.push_journal WHERE record_key = $1`, [key])

/** Whether the workspace holds the receipt of an entry (it outlives its entry by a day). */
const hasReceipt = (pushId: unknown) =>
  Effect.map(
    onWorkspace(`SELECT 1 FROM enrich_sync.push_receipts WHERE push_id = $1`, [pushId]),
    (rows) => rows.length === 1
  )

const websites = (key: string) =>
  Effect.gen(function* () {
    const neon = yield* neonCompanies.row(key, `website`)
    const workspace = yield* workspaceCompanies.row(key, `website`)
    return { neon: neon?.website, workspace: workspace?.website }
  })

type Side = "neon" | "workspace"

const on = (
  side: Side,
  sql: string
): Effect.Effect<ReadonlyArray<Record<string, unknown>>, unknown, SourceDatabase | WorkspaceDatabase> =>
  side === "neon" ? onNeon(sql) : onWorkspace(sql)

/** Sessions of a side waiting for a lock. */
const lockWaiters = (side: Side) =>
  Effect.map(
    on(
      side,
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`
    ),
    ([r]) => Number(r?.n)
  )

/**
 * Ends the connections of a side that wait for a lock, as the death of their process would (a statement
 * that is not in a transaction would otherwise still run, and commit, once the lock is released).
 */
const killLockWaiters = (side: Side) =>
  on(
    side,
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`
  )

/** Neon edits the website (older), a person edits it too (newer) and completes the row: a push overwrites Neon's. */
const conflictingEdits = (key: string) =>
  Effect.gen(function* () {
    yield* neonCompanies.update(key, `website = 'https://neon.example', updated_at = '2001-01-01'`)
    yield* enterWebsite(key, "https://person.example", "complete")
  })

/**
 * A person's session holding the workspace row (as an open edit form does); the merge of `key` forked, once
 * it has pushed the website `pushed` to Neon and waits for the row.
 */
const pushHeldAtTheWorkspace = (key: string, pushed = "https://person.example") =>
  Effect.gen(function* () {
    const held = yield* mergeHeldAtTheWorkspace(
      key,
      Effect.map(websites(key), (w) => w.neon === pushed)
    )
    yield* waitUntil(
      "the merge waits for the workspace row",
      Effect.map(lockWaiters("workspace"), (n) => n === 1)
    )
    return held
  })

/**
 * Runs `during` while the push of `key`'s conflicting edits (made first) waits at its workspace row, held by
 * a person's open transaction; the person's session ends with it.
 */
const whilePushHeld = <A, E, R>(key: string, during: (held: HeldMerge) => Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    yield* conflictingEdits(key)
    return yield* Effect.scoped(Effect.flatMap(pushHeldAtTheWorkspace(key), during))
  })

/** A Neon session holding the journal entry of `key`, so that its deletion waits. */
const holdJournalEntry = (key: string) =>
  Effect.gen(function* () {
    const neon = yield* (yield* SourceDatabase).session
    yield* neon.query("BEGIN")
    const held = yield* neon.query(
      `SELECT push_id FROM enrich_sync.push_journal WHERE record_key = $1 FOR UPDATE`,
      [key]
    )
    assert.strictEqual(held.length, 1)
    return neon
  })

describe("a push that stops anywhere after its Neon commit loses nothing and logs nothing twice", () => {
  layer(engineFixture({ seed: {} }), { excludeTestServices: true })((it) => {
    it.effect("setup: every Neon company merged into the workspace", () =>
      Effect.gen(function* () {
        yield* mergeTheSeededCompanies
        // the journal is no source change: the listener's publication leaves it out
        const [published] = yield* onNeon(
          `SELECT count(*)::int AS n FROM pg_publication_tables WHERE schemaname = 'enrich_sync'`
        )
        assert.strictEqual(published?.n, 0)
      })
    )

    it.effect(
      "its workspace write loses to a person's next edit of the same field: no conflict with their own value, and the newer one is pushed",
      () =>
        Effect.gen(function* () {
          const key = demoCompanyKey(30)
          const website = "https://first.example"
          yield* enterWebsite(key, website, "complete")
          const stats = yield* Effect.scoped(
            Effect.gen(function* () {
              const held = yield* pushHeldAtTheWorkspace(key, website)
              return yield* editHeldRow(held, key, `website = 'https://second.example'`)
            })
          )
          assert.isAbove(stats.retries, 0, "the workspace write lost its race")
          assert.strictEqual(stats.pushed, 2)
          assert.strictEqual(stats.conflicts, 0)
          assert.deepStrictEqual(yield* websites(key), {
            neon: "https://second.example",
            workspace: "https://second.example"
          })
          assert.deepStrictEqual(yield* conflictsOf(key), [])
          assert.deepStrictEqual(yield* journalOf(key), [])
          const again = yield* applyKeys(Company, [{ key }])
          assert.strictEqual(again.unchanged, 1)
        })
    )

    it.effect(
      "stopped after the push, before the workspace write: the next merge takes the pushed base and logs Neon's lost value once, and a dry run plans the same",
      () =>
        Effect.gen(function* () {
          const key = demoCompanyKey(31)
          // and an edit of a Neon-owned field, with JSON numbers a double cannot hold: Neon's value wins it
          yield* workspaceCompanies.update(key, `original_validation_errors = $2::jsonb`, [exactJson])
          yield* whilePushHeld(key, ({ person, merging }) =>
            Effect.gen(function* () {
              yield* Fiber.interrupt(merging)
              // the person's next edit of the same field, after the push
              yield* person.query(
                `UPDATE company_needs_enrichment SET website = 'https://second.example' WHERE company_unique_id = $1`,
                [key]
              )
              yield* person.query("COMMIT")
            })
          )
          const [entry] = yield* journalOf(key)
          assert.isFalse(yield* hasReceipt(entry?.push_id))
          assert.deepStrictEqual(yield* conflictsOf(key), [])

          // a dry run reads the journal as applied, and writes nothing
          const dry = yield* applyKeys(Company, [{ key }], { dryRun: true })
          assert.deepStrictEqual(
            dry.changes.map((c) => [c.action, c.toSource.includes("website"), c.conflicts]),
            [["push", true, 0]]
          )
          assert.strictEqual(dry.conflicts, 2, "the journal's conflicts, to be logged")
          assert.strictEqual((yield* journalOf(key)).length, 1)

          const stats = yield* applyKeys(Company, [{ key }])
          assert.strictEqual(stats.pushed, 1)
          assert.strictEqual(stats.conflicts, 2)
          assert.deepStrictEqual(yield* websites(key), {
            neon: "https://second.example",
            workspace: "https://second.example"
          })
          const logged = yield* conflictsOf(key)
          assert.deepStrictEqual(
            logged.filter((c) => c[0] === "website"),
            [neonLost]
          )
          assert.strictEqual(logged.length, 2)
          // the journal kept the losing JSON exactly
          const [exact] = yield* onWorkspace(
            `SELECT winner, workspace_value::text AS workspace FROM sync_conflicts WHERE record_key = $1 AND field = 'validation_errors'`,
            [key]
          )
          assert.deepStrictEqual(exact, { winner: "source", workspace: exactJson })
          assert.deepStrictEqual(yield* journalOf(key), [])
          assert.isTrue(yield* hasReceipt(entry?.push_id))
          const again = yield* applyKeys(Company, [{ key }])
          assert.strictEqual(again.unchanged, 1)
          assert.deepStrictEqual(yield* conflictsOf(key), logged)
        })
    )

    it.effect(
      "stopped after the workspace write, before the journal entry is deleted: the start-up drain deletes it and logs nothing more; the receipt stays while its entry does",
      () =>
        Effect.gen(function* () {
          const key = demoCompanyKey(32)
          yield* whilePushHeld(key, ({ person, merging }) =>
            Effect.gen(function* () {
              const neon = yield* holdJournalEntry(key)
              yield* person.query("COMMIT")
              yield* waitUntil(
                "the merge waits to delete the journal entry",
                Effect.map(lockWaiters("neon"), (n) => n === 1)
              )
              yield* killLockWaiters("neon")
              assert.isTrue(Exit.isFailure(yield* Fiber.await(merging)))
              yield* neon.query("ROLLBACK")
            })
          )
          assert.deepStrictEqual(yield* conflictsOf(key), [neonLost])
          const [entry] = yield* journalOf(key)
          assert.isTrue(yield* hasReceipt(entry?.push_id))
          // a day later, a sweep keeps the receipt of an entry still in the journal
          yield* onWorkspace(`UPDATE enrich_sync.push_receipts SET created_at = now() - interval '2 days'`)
          yield* sweepReceipts(yield* journalIds())
          assert.isTrue(yield* hasReceipt(entry?.push_id))
          const before = yield* workspaceCompanies.row(key, `last_sync_hash, sync_dirty`)
          assert.isFalse(before?.sync_dirty, "the workspace write landed")

          assert.strictEqual(yield* drainPushJournal([Company]), 1)
          assert.deepStrictEqual(yield* journalOf(key), [])
          assert.deepStrictEqual(yield* conflictsOf(key), [neonLost])
          // its entry gone, the old receipt is swept
          assert.isFalse(yield* hasReceipt(entry?.push_id))
          const after = yield* workspaceCompanies.row(key, `last_sync_hash, sync_dirty`)
          assert.deepStrictEqual(after, before)
          assert.strictEqual((yield* applyKeys(Company, [{ key }])).unchanged, 1)
        })
    )

    it.effect(
      "a recovery that stops part way applies nothing; the next applies the entry once; one racing the push's own write waits for it and applies nothing",
      () =>
        Effect.gen(function* () {
          const key = demoCompanyKey(34)
          yield* whilePushHeld(key, ({ person, merging }) =>
            Effect.gen(function* () {
              yield* Fiber.interrupt(merging)
              // the recovery's workspace transaction waits for the row, and stops
              const recovering = yield* Effect.forkChild(applyPushJournal(Company, [key]))
              yield* waitUntil(
                "the recovery waits for the workspace row",
                Effect.map(lockWaiters("workspace"), (n) => n === 1)
              )
              yield* Fiber.interrupt(recovering)
              yield* person.query("ROLLBACK")
            })
          )
          const [entry] = yield* journalOf(key)
          assert.isFalse(yield* hasReceipt(entry?.push_id))
          assert.deepStrictEqual(yield* conflictsOf(key), [])
          const recovery = yield* applyPushJournal(Company, [key])
          assert.deepStrictEqual(
            [recovery.entries, [...recovery.rebased], recovery.conflicts.length],
            [1, [key], 1]
          )
          const again = yield* applyPushJournal(Company, [key])
          assert.strictEqual(again.entries, 0)
          assert.deepStrictEqual(yield* conflictsOf(key), [neonLost])
          // the pushed value is agreed: merging brings Neon's re-validation in, and pushes nothing
          const merged = yield* applyKeys(Company, [{ key }])
          assert.deepStrictEqual([merged.pushed, merged.updated, merged.conflicts], [0, 1, 0])
          assert.deepStrictEqual(yield* websites(key), {
            neon: "https://person.example",
            workspace: "https://person.example"
          })

          // a second push of the record, and a recovery of it racing its own workspace write
          const other = demoCompanyKey(35)
          yield* conflictingEdits(other)
          const [stats, raced] = yield* Effect.scoped(
            Effect.gen(function* () {
              const { person, merging } = yield* pushHeldAtTheWorkspace(other)
              const recovering = yield* Effect.forkChild(applyPushJournal(Company, [other]))
              yield* waitUntil(
                "the recovery waits for the push's receipt",
                Effect.map(lockWaiters("workspace"), (n) => n === 2)
              )
              yield* person.query("COMMIT")
              return [yield* Fiber.join(merging), yield* Fiber.join(recovering)] as const
            })
          )
          assert.strictEqual(stats.conflicts, 1)
          assert.deepStrictEqual([raced.entries, raced.rebased.size, raced.conflicts.length], [1, 0, 0])
          assert.deepStrictEqual(yield* conflictsOf(other), [neonLost])
          assert.deepStrictEqual(yield* journalOf(other), [])
          assert.strictEqual((yield* applyKeys(Company, [{ key: other }])).unchanged, 1)
        })
    )
  })
})
