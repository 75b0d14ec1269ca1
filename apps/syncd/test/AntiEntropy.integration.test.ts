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
import { assertBothEditsMerged, editOnBothSides, workspaceCompany } from "./support/CompanyRows.ts"
import * as Harness from "./support/LoopHarness.ts"
import { mergeServices, seededDatabases, until } from "./support/MergeLayers.ts"

const { capturing, nextPassAfter, onNeon, onTestClock, onWorkspace, startLoop, syncBoth } = Harness
type Logged = Harness.Logged

const policy = { pushOn: ["complete"] }
const entities: ReadonlyArray<Entity> = [Company, Person]
const options = { entities, policy, batchSize: 50 }
const neonCompanies = qualified(Company.sourceTable)
const workspaceCompanies = qualified(Company.workspaceTable)
/** Both sides in sync, by a reconcile with services of its own (the test's metrics start at zero). */
const inSync = syncBoth(entities, policy)

/** A test on the merge lane, fresh metrics and the test clock, given the count of its statements to Neon. */
const laneTest =
  <A, E, R>(body: (neonSent: { readonly n: number }) => Effect.Effect<A, E, R>) =>
  () =>
    onTestClock(mergeServices, body)

/** A test as `laneTest`, from both sides in sync. */
const inSyncTest = <A, E, R>(body: (neonSent: { readonly n: number }) => Effect.Effect<A, E, R>) =>
  laneTest((neonSent) => Effect.andThen(inSync, body(neonSent)))

/** An anti-entropy pass: what it repaired, the lines it logged, and the metrics after it. */
const loggedPass = Effect.gen(function* () {
  const lines: Array<Logged> = []
  const repaired = yield* antiEntropyPass(options).pipe(Effect.provide(capturing(lines)))
  return { repaired, lines, metrics: yield* (yield* SyncMetrics).snapshot }
})

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

describe("the anti-entropy pass", () => {
  layer(seededDatabases("anti_entropy"), { excludeTestServices: true, timeout: "120 seconds" })((it) => {
    it.effect(
      "writes nothing on tables in sync, counts the run with no differences, and says both sides agree",
      inSyncTest(() =>
        Effect.gen(function* () {
          const before = yield* versions
          assert.isAbove(before.workspaceCompanies.length, 100)
          const { repaired, lines, metrics } = yield* loggedPass
          assert.strictEqual(repaired, 0)
          assert.strictEqual(metrics.antiEntropyRuns, 1)
          assert.strictEqual(metrics.antiEntropyDifferences, 0)
          assert.strictEqual(metrics.reconciles, 1)
          assert.deepStrictEqual(metrics.merged, {})
          assert.deepStrictEqual(
            lines.map((l) => [l.level, l.text, l.annotations.keys]),
            [["Info", "anti-entropy pass: both sides agree", 0]]
          )
          assert.deepStrictEqual(yield* versions, before, "no row was written on either side")
        })
      )
    )

    it.effect(
      "merges every key an event missed, on either side and of each entity, counting and logging each key once",
      inSyncTest(() =>
        Effect.gen(function* () {
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
          yield* editOnBothSides(33)
          // and a change of the other entity
          yield* onNeon(
            `UPDATE ${qualified(Person.sourceTable)} SET full_name = 'Missed Person' WHERE unique_id = $1`,
            [demoPersonKey(1)]
          )
          const { repaired, lines, metrics } = yield* loggedPass
          assert.strictEqual(repaired, 5)
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
          yield* assertBothEditsMerged(33)
          const [person] = yield* onWorkspace(
            `SELECT full_name FROM ${qualified(Person.workspaceTable)} WHERE unique_id = $1`,
            [demoPersonKey(1)]
          )
          assert.strictEqual(person?.full_name, "Missed Person")
          // the next pass finds both sides agreeing
          const again = yield* loggedPass
          assert.strictEqual(again.repaired, 0)
          assert.deepStrictEqual(
            again.lines.map((l) => l.text),
            ["anti-entropy pass: both sides agree"]
          )
          assert.strictEqual(again.metrics.antiEntropyRuns, 2)
          assert.strictEqual(again.metrics.antiEntropyDifferences, 5)
        })
      )
    )

    it.effect(
      "leaves edits the push policy holds back where they are, before and after a Neon change of their row, and says so",
      inSyncTest(() =>
        Effect.gen(function* () {
          // a person's edit still in progress: the policy pushes complete rows only
          yield* onWorkspace(
            `UPDATE ${workspaceCompanies} SET website = 'https://held.example', enrichment_status = 'in_progress' WHERE company_unique_id = $1`,
            [demoCompanyKey(34)]
          )
          const held = yield* loggedPass
          assert.strictEqual(held.repaired, 0)
          assert.strictEqual(held.metrics.antiEntropyDifferences, 0)
          assert.deepStrictEqual(
            held.lines.map((l) => [l.level, l.text]),
            [
              [
                "Info",
                "anti-entropy pass: both sides agree (1 record(s) hold edits the push policy holds back, left as they are)"
              ]
            ]
          )
          // Neon changes another field of that row: merged, the edit stays held
          yield* onNeon(
            `UPDATE ${neonCompanies} SET industry = 'Held Industry' WHERE company_unique_id = $1`,
            [demoCompanyKey(34)]
          )
          const changed = yield* loggedPass
          assert.strictEqual(changed.repaired, 1)
          assert.include(
            changed.lines.find((l) => l.level === "Warn")?.text ?? "",
            "1 changed on Neon, 0 unsynced edits"
          )
          const [row] = yield* onWorkspace(
            `SELECT industry, website, enrichment_status FROM ${workspaceCompanies} WHERE company_unique_id = $1`,
            [demoCompanyKey(34)]
          )
          assert.deepStrictEqual(row, {
            industry: "Held Industry",
            website: "https://held.example",
            enrichment_status: "in_progress"
          })
          const [onNeonNow] = yield* onNeon(
            `SELECT website FROM ${neonCompanies} WHERE company_unique_id = $1`,
            [demoCompanyKey(34)]
          )
          assert.notStrictEqual(onNeonNow?.website, "https://held.example", "not pushed")
          const after = yield* loggedPass
          assert.strictEqual(after.repaired, 0)
          assert.match(after.lines.at(-1)?.text ?? "", /both sides agree \(1 record\(s\) hold edits/)
        })
      )
    )

    it.effect(
      "runs every 15 minutes by default, the first pass one period after start, its lines marked anti-entropy",
      inSyncTest((neonSent) =>
        Effect.gen(function* () {
          const lines: Array<Logged> = []
          const loops = yield* startLoop(antiEntropyLayer, {}).pipe(Effect.provide(capturing(lines)))
          assert.strictEqual(loops.n, 1)
          const metrics = yield* SyncMetrics
          const atStart = neonSent.n
          yield* TestClock.adjust("899 seconds")
          assert.strictEqual(neonSent.n, atStart, "no pass before a period has passed")
          yield* onNeon(`UPDATE ${neonCompanies} SET city = 'Found At 15' WHERE company_unique_id = $1`, [
            demoCompanyKey(40)
          ])
          const sentBefore = neonSent.n
          yield* TestClock.adjust("1 second")
          assert.isAbove(neonSent.n, sentBefore, "the first pass starts at 15 minutes")
          yield* until(
            "the first pass is counted",
            Effect.map(metrics.snapshot, (m) => (m.antiEntropyRuns === 1 ? m : undefined))
          )
          assert.strictEqual((yield* workspaceCompany(40))?.city, "Found At 15")
          assert.strictEqual((yield* metrics.snapshot).antiEntropyDifferences, 1)
          assert.isNotEmpty(lines)
          for (const line of lines) assert.strictEqual(line.annotations.direction, "anti-entropy", line.text)
          // the second pass at 30 minutes
          yield* nextPassAfter(neonSent, 15 * 60_000)
          yield* until(
            "the second pass is counted",
            Effect.map(metrics.snapshot, (m) => (m.antiEntropyRuns === 2 ? m : undefined))
          )
          assert.strictEqual((yield* metrics.snapshot).antiEntropyDifferences, 1, "the second found nothing")
        })
      )
    )

    it.effect(
      "starts no loop when ENRICH_SYNC_ANTI_ENTROPY_MINUTES is 0",
      laneTest((neonSent) =>
        Effect.gen(function* () {
          const loops = yield* startLoop(antiEntropyLayer, { ENRICH_SYNC_ANTI_ENTROPY_MINUTES: "0" })
          assert.strictEqual(loops.n, 0)
          yield* TestClock.adjust("1 day")
          assert.strictEqual(neonSent.n, 0)
          assert.strictEqual((yield* (yield* SyncMetrics).snapshot).antiEntropyRuns, 0)
        })
      )
    )
  })
})
