/**
 * The anti-entropy pass (`AntiEntropy`), in process, on real databases: on tables in sync a pass writes
 * nothing and says both sides agree; a pass finds what the events missed on either side (a Neon change, a
 * workspace row deleted by hand, a Neon row gone, a workspace edit not synced), merges each of those keys
 * once, and counts and logs them; the loop of `antiEntropyLayer` runs a pass every
 * ENRICH_SYNC_ANTI_ENTROPY_MINUTES (15 by default), the first one a period after start, and none at 0.
 * Time is `TestClock`'s: a pass is seen to start by the queries it sends to Neon.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Company, type Entity, Person, qualified } from "@enrich-sync/core"
import { SourceDatabase, WorkspaceDatabase } from "@enrich-sync/engine"
import { demoCompanyKey, demoPersonKey } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/testing/TestClock"
import { antiEntropyLayer, antiEntropyPass } from "../src/AntiEntropy.ts"
import { SyncMetrics } from "../src/SyncMetrics.ts"
import * as Harness from "./support/LoopHarness.ts"
import { mergeServices, seededDatabases, until } from "./support/MergeLayers.ts"

const { capturing, countingNeon, nextPassAfter, onNeon, onWorkspace, startLoop, syncBoth } = Harness
type Logged = Harness.Logged

const policy = { pushOn: ["complete"] }
const entities: ReadonlyArray<Entity> = [Company, Person]
const options = { entities, policy, batchSize: 50 }
const neonCompanies = qualified(Company.sourceTable)
const workspaceCompanies = qualified(Company.workspaceTable)
/** Both sides in sync, by a reconcile with services of its own (the test's metrics start at zero). */
const inSync = syncBoth(entities, policy)

/** Every row's version (`xmin`) on both sides: a row written since has another. */
const versions = Effect.gen(function* () {
  const read = (db: SourceDatabase["Service"], table: string, key: string) =>
    db.query(`SELECT ${key} AS key, xmin::text AS v FROM ${table} ORDER BY 1`)
  const neon = yield* SourceDatabase
  const ws = yield* WorkspaceDatabase
  return {
    neonCompanies: yield* read(neon, neonCompanies, Company.key),
    neonPeople: yield* read(neon, qualified(Person.sourceTable), Person.key),
    workspaceCompanies: yield* read(ws, workspaceCompanies, Company.key),
    workspacePeople: yield* read(ws, qualified(Person.workspaceTable), Person.key)
  }
})

const workspaceCompany = (index: number) =>
  onWorkspace(
    `SELECT city, industry, enrichment_status, sync_state, sync_dirty FROM ${workspaceCompanies} WHERE company_unique_id = $1`,
    [demoCompanyKey(index)]
  ).pipe(Effect.map(([row]) => row))

const neonCompany = (index: number) =>
  onNeon(`SELECT city, industry, enrichment_status FROM ${neonCompanies} WHERE company_unique_id = $1`, [
    demoCompanyKey(index)
  ]).pipe(Effect.map(([row]) => row))

describe("the anti-entropy pass", () => {
  layer(seededDatabases("anti_entropy"), { excludeTestServices: true, timeout: "120 seconds" })((it) => {
    it.effect(
      "writes nothing on tables in sync, counts the run with no differences, and says both sides agree",
      () =>
        Effect.gen(function* () {
          yield* inSync
          const before = yield* versions
          assert.isAbove(before.workspaceCompanies.length, 100)
          const lines: Array<Logged> = []
          const repaired = yield* antiEntropyPass(options).pipe(Effect.provide(capturing(lines)))
          assert.strictEqual(repaired, 0)
          const metrics = yield* (yield* SyncMetrics).snapshot
          assert.strictEqual(metrics.antiEntropyRuns, 1)
          assert.strictEqual(metrics.antiEntropyDifferences, 0)
          assert.strictEqual(metrics.reconciles, 1)
          assert.deepStrictEqual(metrics.merged, {})
          assert.deepStrictEqual(
            lines.map((l) => [l.level, l.text, l.annotations.keys]),
            [["Info", "anti-entropy pass: both sides agree", 0]]
          )
          assert.deepStrictEqual(yield* versions, before, "no row was written on either side")
        }).pipe(Effect.provide(mergeServices), Effect.provide(TestClock.layer()))
    )

    it.effect(
      "merges every key an event missed, on either side and of each entity, counting and logging each key once",
      () =>
        Effect.gen(function* () {
          yield* inSync
          // a Neon change no event brought
          yield* onNeon(`UPDATE ${neonCompanies} SET city = 'Missed On Neon' WHERE company_unique_id = $1`, [
            demoCompanyKey(30)
          ])
          // a workspace row deleted by hand
          yield* onWorkspace(`DELETE FROM ${workspaceCompanies} WHERE company_unique_id = $1`, [
            demoCompanyKey(31)
          ])
          // a Neon row gone (deleted, not promoted)
          yield* onNeon(`DELETE FROM ${neonCompanies} WHERE company_unique_id = $1`, [demoCompanyKey(32)])
          // a person's completed edit never pushed, on a row Neon changed too: one key, two findings
          yield* onWorkspace(
            `UPDATE ${workspaceCompanies} SET city = 'Edited In Workspace', enrichment_status = 'complete'
              WHERE company_unique_id = $1`,
            [demoCompanyKey(33)]
          )
          yield* onNeon(
            `UPDATE ${neonCompanies} SET industry = 'Neon Industry' WHERE company_unique_id = $1`,
            [demoCompanyKey(33)]
          )
          // and a change of the other entity
          yield* onNeon(
            `UPDATE ${qualified(Person.sourceTable)} SET full_name = 'Missed Person' WHERE unique_id = $1`,
            [demoPersonKey(1)]
          )
          const lines: Array<Logged> = []
          const repaired = yield* antiEntropyPass(options).pipe(Effect.provide(capturing(lines)))
          assert.strictEqual(repaired, 5)
          const metrics = yield* (yield* SyncMetrics).snapshot
          assert.strictEqual(metrics.antiEntropyRuns, 1)
          assert.strictEqual(metrics.antiEntropyDifferences, 5)
          assert.deepStrictEqual(metrics.merged, { "anti-entropy/company": 4, "anti-entropy/people": 1 })
          assert.deepStrictEqual(
            lines
              .filter((l) => l.level === "Warn" && l.text.startsWith("anti-entropy"))
              .map((l) => [l.text, l.annotations.entity, l.annotations.keys]),
            [
              [
                "anti-entropy found 4 company record(s) out of sync (1 missing in the workspace, 1 gone from Neon, 2 changed on Neon, 1 unsynced edits); merging them",
                "company",
                4
              ],
              [
                "anti-entropy found 1 person record(s) out of sync (0 missing in the workspace, 0 gone from Neon, 1 changed on Neon, 0 unsynced edits); merging them",
                "people",
                1
              ]
            ]
          )
          const last = lines.at(-1)
          assert.deepStrictEqual(
            [last?.level, last?.text, last?.annotations.keys],
            ["Info", "anti-entropy pass: merged 5 record(s) that were out of sync", 5]
          )
          // each difference repaired
          assert.strictEqual((yield* workspaceCompany(30))?.city, "Missed On Neon")
          assert.deepInclude(yield* workspaceCompany(31), { sync_state: "active" })
          assert.strictEqual((yield* workspaceCompany(32))?.sync_state, "removed")
          const edited = {
            city: "Edited In Workspace",
            industry: "Neon Industry",
            enrichment_status: "complete"
          }
          assert.deepStrictEqual(yield* neonCompany(33), edited)
          assert.deepInclude(yield* workspaceCompany(33), { ...edited, sync_dirty: false })
          const [person] = yield* onWorkspace(
            `SELECT full_name FROM ${qualified(Person.workspaceTable)} WHERE unique_id = $1`,
            [demoPersonKey(1)]
          )
          assert.strictEqual(person?.full_name, "Missed Person")
          // the next pass finds both sides agreeing
          const again: Array<Logged> = []
          assert.strictEqual(yield* antiEntropyPass(options).pipe(Effect.provide(capturing(again))), 0)
          assert.deepStrictEqual(
            again.map((l) => l.text),
            ["anti-entropy pass: both sides agree"]
          )
          const after = yield* (yield* SyncMetrics).snapshot
          assert.strictEqual(after.antiEntropyRuns, 2)
          assert.strictEqual(after.antiEntropyDifferences, 5)
        }).pipe(Effect.provide(mergeServices), Effect.provide(TestClock.layer()))
    )

    it.effect(
      "runs every 15 minutes by default, the first pass one period after start, its lines marked anti-entropy",
      () => {
        const neon = countingNeon()
        return Effect.gen(function* () {
          yield* inSync
          const lines: Array<Logged> = []
          const loops = yield* startLoop(antiEntropyLayer, {}).pipe(Effect.provide(capturing(lines)))
          assert.strictEqual(loops.n, 1)
          const metrics = yield* SyncMetrics
          const atStart = neon.sent.n
          yield* TestClock.adjust("899 seconds")
          assert.strictEqual(neon.sent.n, atStart, "no pass before a period has passed")
          yield* onNeon(`UPDATE ${neonCompanies} SET city = 'Found At 15' WHERE company_unique_id = $1`, [
            demoCompanyKey(40)
          ])
          const sentBefore = neon.sent.n
          yield* TestClock.adjust("1 second")
          assert.isAbove(neon.sent.n, sentBefore, "the first pass starts at 15 minutes")
          yield* until(
            "the first pass is counted",
            Effect.map(metrics.snapshot, (m) => (m.antiEntropyRuns === 1 ? m : undefined))
          )
          assert.strictEqual((yield* workspaceCompany(40))?.city, "Found At 15")
          assert.strictEqual((yield* metrics.snapshot).antiEntropyDifferences, 1)
          assert.isNotEmpty(lines)
          for (const line of lines) assert.strictEqual(line.annotations.direction, "anti-entropy", line.text)
          // the second pass at 30 minutes
          yield* nextPassAfter(neon.sent, 15 * 60_000)
          yield* until(
            "the second pass is counted",
            Effect.map(metrics.snapshot, (m) => (m.antiEntropyRuns === 2 ? m : undefined))
          )
          assert.strictEqual((yield* metrics.snapshot).antiEntropyDifferences, 1, "the second found nothing")
        }).pipe(Effect.scoped, neon.wrap, Effect.provide(mergeServices), Effect.provide(TestClock.layer()))
      }
    )

    it.effect("starts no loop when ENRICH_SYNC_ANTI_ENTROPY_MINUTES is 0", () => {
      const neon = countingNeon()
      return Effect.gen(function* () {
        const loops = yield* startLoop(antiEntropyLayer, { ENRICH_SYNC_ANTI_ENTROPY_MINUTES: "0" })
        assert.strictEqual(loops.n, 0)
        yield* TestClock.adjust("1 day")
        assert.strictEqual(neon.sent.n, 0)
        assert.strictEqual((yield* (yield* SyncMetrics).snapshot).antiEntropyRuns, 0)
      }).pipe(Effect.scoped, neon.wrap, Effect.provide(mergeServices), Effect.provide(TestClock.layer()))
    })
  })
})
