/**
 * Auto-promotion (`AutoPromote`), in process, on real databases: a pass promotes the rows re-validation
 * marked PASSED (in batches of ENRICH_SYNC_BATCH_SIZE, their backup written, counted, logged, reported as a
 * `records.promoted` webhook event) and leaves the FAILED ones; it runs alone on the merge lane; a PASSED row
 * whose workspace row holds edits Neon has not received is left out and logged once, looked at again only
 * when its Neon row changes or after 5 minutes, and promoted with the person's edits once they are pushed; the loop
 * of `autoPromoteLayer` (ENRICH_SYNC_AUTO_PROMOTE=on) runs a pass at start and every 2 seconds, and a pass
 * that fails is logged and tried again by the next. Time is `TestClock`'s.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, layer } from "@effect/vitest"
import { Company, qualified } from "@enrich-sync/core"
import { revalidateEntity, SourceDatabase } from "@enrich-sync/engine"
import { demoCompanyAt, demoCompanyKey } from "@enrich-sync/testing"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as TestClock from "effect/testing/TestClock"
import { autoPromoteLayer, type HeldKeys, promotePassed } from "../src/AutoPromote.ts"
import { MergeLane } from "../src/MergeLane.ts"
import { mergeKeys } from "../src/Reconcile.ts"
import { SyncMetrics } from "../src/SyncMetrics.ts"
import { type WebhookEvent, Webhooks } from "../src/Webhooks.ts"
import * as Harness from "./support/LoopHarness.ts"
import { seededDatabases, sleepLive, until } from "./support/MergeLayers.ts"

const { capturing, countingRuns, nextPassAfter, onNeon, onTestClock, onWorkspace, startLoop, syncBoth } =
  Harness
type Logged = Harness.Logged

const policy = { pushOn: ["complete"] }
const neonTable = qualified(Company.sourceTable)
const workspaceTable = qualified(Company.workspaceTable)
/** Both sides in sync, by a reconcile with services of its own (the test's metrics start at zero). */
const inSync = syncBoth([Company], policy)

/** Demo companies (their indexes) whose only problem is the missing website: they pass once it is set. */
const websiteOnly = Array.from({ length: 119 }, (_, i) => i).filter((i) => {
  const row = demoCompanyAt(i)
  return (
    row.reason_code === "EMPTY_WEBSITE" && Object.keys(row.validation_errors as object).join() === "website"
  )
})
/** A demo company with a bad phone: it still fails once its website is set. */
const badPhone = Array.from({ length: 119 }, (_, i) => i).find(
  (i) => demoCompanyAt(i).reason_code === "INVALID_PHONE"
)!

/** The n-th website-only company, each test taking its own. */
const passing = (n: number) => websiteOnly[n]!
const websiteOf = (index: number) => `https://www.${demoCompanyKey(index).replaceAll(".", "")}.example.com`

/** The enrichment of companies arriving on Neon (their website set, complete), as a push writes it. */
const enrichOnNeon = (indexes: ReadonlyArray<number>) =>
  Effect.forEach(indexes, (i) =>
    onNeon(
      `UPDATE ${neonTable} SET website = $2, enrichment_status = 'complete', enriched_by = 'enricher@example.com',
              enriched_at = now() WHERE company_unique_id = $1`,
      [demoCompanyKey(i), websiteOf(i)]
    )
  )

/** Marks companies PASSED on Neon, as a re-validation by something else would. */
const passedOnNeon = (indexes: ReadonlyArray<number>) =>
  onNeon(`UPDATE ${neonTable} SET validation_status = 'PASSED' WHERE company_unique_id = ANY($1)`, [
    indexes.map(demoCompanyKey)
  ])

/** Where a company is on Neon: its website in the master table (undefined when not there), and whether the invalid table holds it. */
const whereIs = (index: number) =>
  onNeon(
    `SELECT (SELECT website FROM marketing.company_master WHERE company_unique_id = $1) AS master,
            EXISTS (SELECT 1 FROM ${neonTable} WHERE company_unique_id = $1) AS invalid`,
    [demoCompanyKey(index)]
  ).pipe(
    Effect.map(([row]) => ({
      master: (row?.master ?? undefined) as string | undefined,
      invalid: row?.invalid
    }))
  )

const syncState = (index: number) =>
  onWorkspace(`SELECT sync_state FROM ${workspaceTable} WHERE company_unique_id = $1`, [
    demoCompanyKey(index)
  ]).pipe(Effect.map(([row]) => row?.sync_state))

/** A temporary folder for the scope. */
const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "syncd-auto-promote-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

/** What a test watches: the promotions asked of the lane (merges run alone), and the webhook events. */
interface Watched {
  readonly laneRuns: { n: number }
  /** what waits behind a merge run alone: the lane runs it as the merge leaves the lane */
  readonly waiting: Array<Effect.Effect<unknown>>
  readonly events: Array<WebhookEvent>
}

/**
 * The merge lane (counting the merges run alone, running what waits behind each as it leaves), fresh
 * metrics, and webhooks that keep their events.
 */
const watchedServices = (watched: Watched) =>
  Layer.mergeAll(
    Layer.effect(
      MergeLane,
      Effect.map(Effect.service(MergeLane), (lane) =>
        MergeLane.of({
          run: countingRuns(watched.laneRuns, <A, E, R>(merge: Effect.Effect<A, E, R>) =>
            lane.run(merge).pipe(Effect.tap(() => Effect.all(watched.waiting.splice(0))))
          ),
          runKeys: lane.runKeys
        })
      )
    ).pipe(Layer.provide(MergeLane.layer)),
    SyncMetrics.layer,
    Layer.succeed(Webhooks)(
      Webhooks.of({
        enabled: true,
        emit: (events) =>
          Effect.sync(() => {
            watched.events.push(...events)
          })
      })
    )
  )

/**
 * A test on the watched services and the test clock: `body` is given what it watches and the count of its
 * statements to Neon.
 */
const watching =
  <A, E, R>(body: (watched: Watched, neonSent: { readonly n: number }) => Effect.Effect<A, E, R>) =>
  () => {
    const watched: Watched = { laneRuns: { n: 0 }, waiting: [], events: [] }
    return onTestClock(watchedServices(watched), (neonSent) => body(watched, neonSent))
  }

/** A test as `watching`, on both sides in sync, with a temporary folder of its own (`dir`) for the backups. */
const promoting = <A, E, R>(
  body: (watched: Watched, dir: string, neonSent: { readonly n: number }) => Effect.Effect<A, E, R>
) =>
  watching((watched, neonSent) =>
    Effect.gen(function* () {
      yield* inSync
      return yield* body(watched, yield* tempDir, neonSent)
    })
  )

const notPromotedLines = (lines: ReadonlyArray<Logged>) =>
  lines.filter((l) => / PASSED company record\(s\) not promoted/.test(l.text))

describe("auto-promotion", () => {
  layer(seededDatabases("auto_promote"), { excludeTestServices: true, timeout: "120 seconds" })((it) => {
    it.effect(
      "promotes the rows re-validation passed, in batches, with their backup, counted, logged and reported; not the ones it failed",
      promoting((watched, dir) =>
        Effect.gen(function* () {
          const [a, b] = [passing(0), passing(1)]
          yield* enrichOnNeon([a, b, badPhone])
          const revalidated = yield* revalidateEntity(Company, { onlyEnriched: true })
          assert.sameMembers([...revalidated.passedIds], [a, b].map(demoCompanyKey))
          const lines: Array<Logged> = []
          const promoted = yield* promotePassed([Company], { batchSize: 1, backupDir: dir }).pipe(
            Effect.provide(capturing(lines))
          )
          assert.strictEqual(promoted, 2)
          for (const i of [a, b]) {
            assert.deepStrictEqual(yield* whereIs(i), { master: websiteOf(i), invalid: false })
            assert.strictEqual(yield* syncState(i), "promoted")
          }
          assert.deepStrictEqual(yield* whereIs(badPhone), { master: undefined, invalid: true })
          assert.strictEqual(yield* syncState(badPhone), "active")
          // batches of batchSize: each row in a Neon transaction of its own
          const [batches] = yield* onNeon(
            `SELECT count(DISTINCT xmin::text)::int AS n FROM marketing.company_master WHERE company_unique_id = ANY($1)`,
            [[a, b].map(demoCompanyKey)]
          )
          assert.strictEqual(batches?.n, 2)
          // the backup holds both rows
          const files = readdirSync(dir)
          assert.strictEqual(files.length, 1)
          const backupFile = join(dir, files[0]!)
          const backup = readFileSync(backupFile, "utf8")
            .split("\n")
            .filter((l) => l !== "")
          assert.sameMembers(
            backup.map((l) => (JSON.parse(l) as { company_unique_id: string }).company_unique_id),
            [a, b].map(demoCompanyKey)
          )
          assert.strictEqual((yield* (yield* SyncMetrics).snapshot).autoPromoted, 2)
          assert.deepStrictEqual(
            lines.map((l) => [l.level, l.text, l.annotations.entity, l.annotations.keys]),
            [
              [
                "Info",
                `promoted 2 company record(s) to company_master; their backup is ${backupFile}`,
                "company",
                2
              ]
            ]
          )
          assert.deepStrictEqual(watched.events, [
            {
              type: "records.promoted",
              payload: {
                entity: "company",
                count: 2,
                updatedInMaster: 0,
                masterTable: "marketing.company_master",
                backupFile
              }
            }
          ])
          assert.strictEqual(watched.laneRuns.n, 1, "one promotion, run alone on the lane")
          // nothing PASSED is left: the next pass promotes nothing, says nothing, and asks nothing of the lane
          const again: Array<Logged> = []
          assert.strictEqual(
            yield* promotePassed([Company], { batchSize: 1, backupDir: dir }).pipe(
              Effect.provide(capturing(again))
            ),
            0
          )
          assert.deepStrictEqual(again, [])
          assert.strictEqual(watched.events.length, 1)
          assert.strictEqual(watched.laneRuns.n, 1)
          assert.strictEqual((yield* (yield* SyncMetrics).snapshot).autoPromoted, 2)
        })
      )
    )

    it.effect(
      "a held row's Neon row changed the moment the promotion leaves the lane (by a push that waited behind it) is looked at again on the next pass",
      promoting((watched, dir) =>
        Effect.gen(function* () {
          const held = passing(7)
          yield* onWorkspace(
            `UPDATE ${workspaceTable} SET website = 'https://held.example', enrichment_status = 'in_progress' WHERE company_unique_id = $1`,
            [demoCompanyKey(held)]
          )
          yield* passedOnNeon([held])
          // the lane runs, as the promotion leaves it, what waited behind it: here a change of the held row
          const neon = yield* SourceDatabase
          watched.waiting.push(
            Effect.orDie(
              neon.query(`UPDATE ${neonTable} SET city = 'Pushed Meanwhile' WHERE company_unique_id = $1`, [
                demoCompanyKey(held)
              ])
            )
          )
          const pass = promotePassed([Company], { batchSize: 10, backupDir: dir }, new Map()).pipe(
            Effect.provide(Logger.layer([]))
          )
          assert.strictEqual(yield* pass, 0, "held: its edits are not pushed")
          assert.strictEqual(watched.laneRuns.n, 1)
          // the row changed after the promotion decided: the next pass looks at it again, not in 5 minutes
          assert.strictEqual(yield* pass, 0)
          assert.strictEqual(watched.laneRuns.n, 2, "the row changed since it was held: tried again")
          assert.strictEqual(yield* pass, 0)
          assert.strictEqual(watched.laneRuns.n, 2, "unchanged since: passed over")
          // not PASSED any more, so that the passes of the tests after this one do not meet it
          yield* onNeon(`UPDATE ${neonTable} SET validation_status = 'FAILED' WHERE company_unique_id = $1`, [
            demoCompanyKey(held)
          ])
        })
      )
    )

    it.effect(
      "waits for a merge in flight: a promotion runs alone on the lane",
      promoting((_, dir, neonSent) =>
        Effect.gen(function* () {
          const c = passing(2)
          yield* enrichOnNeon([c])
          yield* passedOnNeon([c])
          // a merge of another key holds the lane
          const lane = yield* MergeLane
          const release = yield* Deferred.make<void>()
          const started = yield* Deferred.make<void>()
          const merge = yield* lane
            .runKeys(
              "company",
              [demoCompanyKey(0)],
              Deferred.succeed(started, undefined).pipe(Effect.andThen(Deferred.await(release)))
            )
            .pipe(Effect.forkChild)
          yield* Deferred.await(started)
          const before = neonSent.n
          const promotion = yield* promotePassed([Company], { batchSize: 10, backupDir: dir }).pipe(
            Effect.forkChild
          )
          yield* until(
            "the pass has asked Neon whether a row is PASSED",
            Effect.sync(() => (neonSent.n > before ? true : undefined))
          )
          // time enough for a promotion that did not wait to read the PASSED rows, and more
          yield* sleepLive(300)
          assert.strictEqual(neonSent.n, before + 1, "the promotion has not started: it waits for the merge")
          assert.isUndefined(promotion.pollUnsafe())
          yield* Deferred.succeed(release, undefined)
          yield* Fiber.join(merge)
          assert.strictEqual(yield* Fiber.join(promotion), 1)
          assert.deepStrictEqual(yield* whereIs(c), { master: websiteOf(c), invalid: false })
        }).pipe(Effect.provide(Logger.layer([])))
      )
    )

    it.effect(
      "leaves out a PASSED row with unpushed workspace edits, says so once, looks again when its Neon row changes or after 5 minutes, and promotes it once pushed",
      promoting((watched, dir) =>
        Effect.gen(function* () {
          const [held, other] = [passing(3), passing(4)]
          const website = `https://person.${demoCompanyKey(held).replaceAll(".", "")}.example.com`
          // a person is still at work on the row (not complete: not pushed) ...
          yield* onWorkspace(
            `UPDATE ${workspaceTable} SET website = $2, enrichment_status = 'in_progress' WHERE company_unique_id = $1`,
            [demoCompanyKey(held), website]
          )
          // ... when something else marks it PASSED on Neon, beside a row without edits
          yield* enrichOnNeon([other])
          yield* passedOnNeon([held, other])
          const heldKeys: HeldKeys = new Map()
          const lines: Array<Logged> = []
          const pass = promotePassed([Company], { batchSize: 10, backupDir: dir }, heldKeys).pipe(
            Effect.provide(capturing(lines))
          )

          assert.strictEqual(yield* pass, 1, "the row without edits is promoted")
          assert.deepStrictEqual(yield* whereIs(other), { master: websiteOf(other), invalid: false })
          assert.deepStrictEqual(yield* whereIs(held), { master: undefined, invalid: true })
          assert.strictEqual(yield* syncState(held), "active")
          assert.deepStrictEqual(
            notPromotedLines(lines).map((l) => [l.level, l.text, l.annotations.entity, l.annotations.keys]),
            [
              [
                "Info",
                `1 PASSED company record(s) not promoted: their workspace rows hold edits not yet pushed to Neon; they are promoted once those edits are pushed and re-validated (e.g. ${demoCompanyKey(held)})`,
                "company",
                1
              ]
            ]
          )
          assert.strictEqual(watched.laneRuns.n, 1)

          // the next passes pass over it while its Neon row stays the same
          assert.strictEqual(yield* pass, 0)
          assert.strictEqual(watched.laneRuns.n, 1, "no promotion run for the held row")

          // its Neon row changes: looked at again (still held: the edits are not pushed), not said again
          yield* onNeon(`UPDATE ${neonTable} SET city = 'Changed On Neon' WHERE company_unique_id = $1`, [
            demoCompanyKey(held)
          ])
          assert.strictEqual(yield* pass, 0)
          assert.strictEqual(watched.laneRuns.n, 2, "the changed row is tried again")
          assert.strictEqual(yield* pass, 0)
          assert.strictEqual(watched.laneRuns.n, 2)

          // 5 minutes after it was last held: looked at again, not said again
          yield* TestClock.adjust("299 seconds")
          assert.strictEqual(yield* pass, 0)
          assert.strictEqual(watched.laneRuns.n, 2, "still held before 5 minutes")
          yield* TestClock.adjust("1 second")
          assert.strictEqual(yield* pass, 0)
          assert.strictEqual(watched.laneRuns.n, 3, "tried again at 5 minutes")
          assert.strictEqual(yield* pass, 0)
          assert.strictEqual(watched.laneRuns.n, 3, "and held for 5 more")
          assert.lengthOf(notPromotedLines(lines), 1, "said once")
          assert.deepStrictEqual(yield* whereIs(held), { master: undefined, invalid: true })

          // the person completes the row: it is pushed and re-validated, then promoted with the person's website
          yield* onWorkspace(
            `UPDATE ${workspaceTable} SET enrichment_status = 'complete' WHERE company_unique_id = $1`,
            [demoCompanyKey(held)]
          )
          yield* mergeKeys(Company, [{ key: demoCompanyKey(held) }], {
            policy,
            batchSize: 10,
            direction: "workspace->neon"
          })
          assert.strictEqual(yield* pass, 1)
          assert.deepStrictEqual(yield* whereIs(held), { master: website, invalid: false })
          assert.strictEqual(yield* syncState(held), "promoted")
          assert.isFalse(heldKeys.has("company"), "nothing is held any more")
          assert.lengthOf(notPromotedLines(lines), 1)
          // only the passes that promoted something reported it
          assert.deepStrictEqual(
            watched.events.filter((e) => e.type === "records.promoted").map((e) => [e.type, e.payload.count]),
            [
              ["records.promoted", 1],
              ["records.promoted", 1]
            ]
          )
          assert.lengthOf(
            lines.filter((l) => l.text.startsWith("promoted ")),
            2
          )
        })
      )
    )

    it.effect(
      "ENRICH_SYNC_AUTO_PROMOTE=on: a pass at start and every 2 seconds; a failed pass is logged and the next tries again",
      promoting((_, dir, neonSent) =>
        Effect.gen(function* () {
          // the backup folder cannot be made while a file stands where its parent should be
          const parent = join(dir, "parent")
          writeFileSync(parent, "not a folder")
          const [first, second] = [passing(5), passing(6)]
          yield* enrichOnNeon([first, second])
          yield* passedOnNeon([first])
          const lines: Array<Logged> = []
          const loops = yield* startLoop(autoPromoteLayer, {
            ENRICH_SYNC_AUTO_PROMOTE: "on",
            ENRICH_SYNC_BACKUP_DIR: join(parent, "backups")
          }).pipe(Effect.provide(capturing(lines)))
          assert.strictEqual(loops.n, 1)
          const failed = yield* until(
            "the first pass fails",
            Effect.sync(() => lines.find((l) => l.text.startsWith("auto-promotion failed")))
          )
          assert.strictEqual(failed.level, "Warn")
          assert.match(failed.text, /^auto-promotion failed: .*; the next pass tries again$/)
          assert.strictEqual(failed.annotations.direction, "promote")
          assert.isTrue((yield* whereIs(first)).invalid)
          // the folder can be made now; the next pass comes 2 seconds after the last
          rmSync(parent)
          mkdirSync(parent)
          yield* nextPassAfter(neonSent, 2000)
          yield* until(
            "the next pass promotes the row",
            Effect.map(whereIs(first), (w) => (w.invalid === false ? w : undefined))
          )
          const metrics = yield* SyncMetrics
          yield* until(
            "the promotion is counted",
            Effect.map(metrics.snapshot, (m) => (m.autoPromoted === 1 ? m : undefined))
          )
          const promotedLine = lines.find((l) => l.text.startsWith("promoted 1 company record(s)"))
          assert.strictEqual(promotedLine?.annotations.direction, "promote")
          // and the loop goes on: a row PASSED later is promoted by a later pass
          yield* passedOnNeon([second])
          yield* until(
            "a later pass promotes the second row",
            Effect.gen(function* () {
              yield* TestClock.adjust("2 seconds")
              const where = yield* whereIs(second)
              return where.invalid === false ? where : undefined
            })
          )
          assert.strictEqual(readdirSync(join(parent, "backups")).length, 2)
        })
      )
    )

    it.effect(
      "starts no loop when ENRICH_SYNC_AUTO_PROMOTE is not on",
      watching((_, neonSent) =>
        Effect.gen(function* () {
          const loops = yield* startLoop(autoPromoteLayer, {})
          assert.strictEqual(loops.n, 0)
          yield* TestClock.adjust("1 hour")
          assert.strictEqual(neonSent.n, 0)
        })
      )
    )
  })
})
