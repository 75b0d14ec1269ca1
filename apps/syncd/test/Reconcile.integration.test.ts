/**
 * Merging with retries and the full reconcile of both sides (`Reconcile`), on real databases: `mergeKeys`
 * merges every key it is handed in batches of `batchSize` (a person's edits planned a batch ahead, a plan
 * gone stale meanwhile merged again); a failure retrying can fix (the merge's
 * connection terminated while it waits for a row lock) is retried until the merge lands, one it cannot
 * (a query the workspace refuses) escapes at once; keys that kept losing their compare-and-swap races are
 * merged again until they win; `reconcile` copies Neon into an empty workspace table, and otherwise merges
 * the keys that differ, counting and logging what it did. Time (the retries' backoff, the pause before a
 * contended key is merged again) is driven by `TestClock`.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Company, qualified } from "@enrich-sync/core"
import { DatabaseError, SourceDatabase, WorkspaceDatabase } from "@enrich-sync/engine"
import { demoCompanyKey, TwoDatabases } from "@enrich-sync/testing"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/testing/TestClock"
import pg from "pg"
import { mergeKeys, reconcile } from "../src/Reconcile.ts"
import { SyncMetrics } from "../src/SyncMetrics.ts"
import { assertBothEditsMerged, editOnBothSides, workspaceCompany } from "./support/CompanyRows.ts"
import { capturing, type Logged } from "./support/LoopHarness.ts"
import { mergeServices, seededDatabases, sleepLive, until } from "./support/MergeLayers.ts"

const policy = { pushOn: ["complete"] }
const neonTable = qualified(Company.sourceTable)
const workspaceTable = qualified(Company.workspaceTable)

/** Sets columns of a demo company's Neon row (`set`: a SET list whose `$2` is `value`). */
const onNeon = (index: number, set: string, value: string) =>
  SourceDatabase.use((db) =>
    db.query(`UPDATE ${neonTable} SET ${set} WHERE company_unique_id = $1`, [demoCompanyKey(index), value])
  )

/** A plain connection to the workspace for the scope, as a person's tool would hold one. */
const workspaceClient = Effect.gen(function* () {
  const dbs = yield* TwoDatabases
  const client = new pg.Client({ connectionString: dbs.workspace.url })
  yield* Effect.promise(() => client.connect())
  yield* Effect.addFinalizer(() => Effect.promise(() => client.end()))
  return client
})

/**
 * A trigger of the scope on the workspace's company table: function `name` runs `body` (plpgsql, then
 * `RETURN NEW`) at `events` of each row, keeping its count in `state` (created first, dropped last).
 * Returns the workspace database.
 */
const workspaceTrigger = (
  name: string,
  options: {
    readonly events: string
    readonly body: string
    readonly state: { readonly create: string; readonly drop: string }
  }
) =>
  Effect.gen(function* () {
    const ws = yield* WorkspaceDatabase
    yield* ws.query(options.state.create)
    yield* ws.query(`CREATE FUNCTION public.${name}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        ${options.body}
        RETURN NEW;
      END $$`)
    yield* ws.query(`CREATE TRIGGER ${name} ${options.events} ON ${workspaceTable}
      FOR EACH ROW EXECUTE FUNCTION public.${name}()`)
    yield* Effect.addFinalizer(() =>
      ws
        .query(
          `DROP TRIGGER ${name} ON ${workspaceTable}; DROP FUNCTION public.${name}(); ${options.state.drop}`
        )
        .pipe(Effect.orDie)
    )
    return ws
  })

const keyChanges = (indexes: ReadonlyArray<number>) => indexes.map((i) => ({ key: demoCompanyKey(i) }))

/** `mergeKeys` of demo companies as the Neon follower calls it, in batches of `batchSize`. */
const mergeFromNeon = (indexes: ReadonlyArray<number>, batchSize = 10) =>
  mergeKeys(Company, keyChanges(indexes), { policy, batchSize, direction: "neon->workspace" })

/** Keys merged from Neon into the workspace, as the test's metrics count them. */
const mergedSoFar = SyncMetrics.use((m) => m.snapshot).pipe(
  Effect.map((m) => m.merged["neon->workspace/company"] ?? 0)
)

/**
 * Merges demo companies from Neon into the workspace (their rows are then there to lock, or to make lose their races), and
 * returns the keys merged so far by the test's metrics.
 */
const mergedBefore = (indexes: ReadonlyArray<number>) =>
  mergeFromNeon(indexes, 100).pipe(Effect.andThen(mergedSoFar))

describe("mergeKeys", () => {
  layer(seededDatabases("reconcile_merge"), { excludeTestServices: true, timeout: "120 seconds" })((it) => {
    it.effect("merges every key handed to it, in batches of batchSize", () =>
      Effect.gen(function* () {
        const indexes = [1, 2, 3, 4, 5]
        for (const i of indexes) yield* onNeon(i, "city = $2", `Batched ${i}`)
        yield* mergeFromNeon(indexes, 2)
        for (const i of indexes) assert.strictEqual((yield* workspaceCompany(i))?.city, `Batched ${i}`)
        // each batch is one write: the rows it inserted share their transaction
        const written = yield* WorkspaceDatabase.use((db) =>
          db.query(
            `SELECT array_agg(company_unique_id ORDER BY company_unique_id) AS keys FROM ${workspaceTable}
              WHERE company_unique_id = ANY($1) GROUP BY xmin::text ORDER BY min(company_unique_id)`,
            [indexes.map(demoCompanyKey)]
          )
        )
        assert.deepStrictEqual(
          written.map((r) => r.keys),
          [[1, 2], [3, 4], [5]].map((batch) => batch.map(demoCompanyKey))
        )
        const metrics = yield* (yield* SyncMetrics).snapshot
        assert.strictEqual(metrics.merged["neon->workspace/company"], 5)
        assert.strictEqual(metrics.inserted, 5)
        assert.strictEqual(metrics.batchSeconds.count, 3, "one batch of 2, 2 and 1 keys each")
      }).pipe(Effect.provide(mergeServices), Effect.provide(TestClock.layer()))
    )

    it.effect(
      "plans a person's edits a batch ahead, and merges again a key Neon changed between its plan and its write",
      () =>
        Effect.gen(function* () {
          const indexes = [20, 21, 22, 23, 24, 25]
          yield* mergedBefore(indexes)
          const person = yield* workspaceClient
          // a person completes six rows (two batches of three), then holds the first in an open transaction
          yield* Effect.promise(() =>
            person.query(
              `UPDATE ${workspaceTable} SET website = 'https://planned-' || neon_id || '.example',
                 enrichment_status = 'complete' WHERE company_unique_id = ANY($1)`,
              [indexes.map(demoCompanyKey)]
            )
          )
          yield* Effect.promise(() =>
            person.query(
              `BEGIN; SELECT 1 FROM ${workspaceTable} WHERE company_unique_id = '${demoCompanyKey(20)}' FOR UPDATE`
            )
          )
          const metrics = yield* SyncMetrics
          const retriesBefore = (yield* metrics.snapshot).retries
          const fiber = yield* mergeKeys(Company, keyChanges(indexes), {
            policy,
            batchSize: 3,
            direction: "workspace->neon"
          }).pipe(Effect.forkChild)
          // the first batch is pushed, and its workspace write waits for the person's lock; the second is
          // read and planned meanwhile
          yield* until(
            "the first batch's workspace write waits for the row",
            WorkspaceDatabase.use((db) =>
              db.query(
                `SELECT 1 FROM pg_stat_activity
                  WHERE datname = current_database() AND state = 'active' AND wait_event_type = 'Lock'`
              )
            ).pipe(Effect.map((rows) => (rows.length > 0 ? true : undefined)))
          )
          yield* sleepLive(500)
          assert.isUndefined(fiber.pollUnsafe())
          // Neon changes a row of the second batch after its plan was read
          yield* onNeon(24, "city = $2", "Changed After Plan")
          yield* Effect.promise(() => person.query("COMMIT"))
          yield* Fiber.join(fiber)
          const neon = yield* SourceDatabase.use((db) =>
            db.query(
              `SELECT company_unique_id AS key, website, city FROM ${neonTable} WHERE company_unique_id = ANY($1)`,
              [indexes.map(demoCompanyKey)]
            )
          )
          for (const row of neon) assert.match(String(row.website), /^https:\/\/planned-\d+\.example$/)
          assert.strictEqual(neon.find((r) => r.key === demoCompanyKey(24))?.city, "Changed After Plan")
          assert.strictEqual((yield* workspaceCompany(24))?.city, "Changed After Plan")
          assert.isAtLeast(
            (yield* metrics.snapshot).retries - retriesBefore,
            1,
            "the plan made ahead lost its compare-and-swap and its key was merged again"
          )
          const conflicts = yield* WorkspaceDatabase.use((db) =>
            db.query(`SELECT 1 FROM sync_conflicts WHERE record_key = $1`, [demoCompanyKey(24)])
          )
          assert.deepStrictEqual(conflicts, [], "different fields: nothing was overwritten")
        }).pipe(Effect.scoped, Effect.provide(mergeServices), Effect.provide(TestClock.layer()))
    )

    it.effect(
      "retries a merge whose connection was terminated while it waited for a row lock, until it lands",
      () =>
        Effect.gen(function* () {
          const before = yield* mergedBefore([6])
          yield* onNeon(6, "city = $2", "After Retry")
          // a person holds the workspace row in an open transaction: the merge's write waits for it
          const holder = yield* workspaceClient
          yield* Effect.promise(() =>
            holder.query(
              `BEGIN; SELECT 1 FROM ${workspaceTable} WHERE company_unique_id = '${demoCompanyKey(6)}' FOR UPDATE`
            )
          )
          const lines: Array<Logged> = []
          const fiber = yield* mergeFromNeon([6]).pipe(Effect.provide(capturing(lines)), Effect.forkChild)
          const waiting = WorkspaceDatabase.use((db) =>
            db.query(
              `SELECT pid FROM pg_stat_activity
                WHERE datname = current_database() AND state = 'active' AND wait_event_type = 'Lock'`
            )
          ).pipe(Effect.map((rows) => rows.map((r) => Number(r.pid))))
          const [first] = yield* until(
            "the merge waits for the row",
            Effect.map(waiting, (pids) => (pids.length === 1 ? pids : undefined))
          )
          // the server ends the merge's session (57P01): a failure retrying can fix
          yield* WorkspaceDatabase.use((db) => db.query("SELECT pg_terminate_backend($1)", [first]))
          const second = yield* until(
            "the merge is tried again and waits for the row on a new connection",
            Effect.gen(function* () {
              yield* TestClock.adjust("1 second")
              const pids = yield* waiting
              return pids.length === 1 && pids[0] !== first ? pids[0] : undefined
            })
          )
          assert.notStrictEqual(second, first)
          assert.isUndefined(fiber.pollUnsafe(), "the merge has not given up")
          assert.isTrue(
            lines.some((l) => l.level === "Warn" && /^merging company records: .*; retrying$/.test(l.text)),
            `the retry is logged as a warning: ${JSON.stringify(lines)}`
          )
          assert.notStrictEqual((yield* workspaceCompany(6))?.city, "After Retry")
          yield* Effect.promise(() => holder.query("COMMIT"))
          yield* Fiber.join(fiber)
          assert.strictEqual((yield* workspaceCompany(6))?.city, "After Retry")
          assert.strictEqual(yield* mergedSoFar, before + 1, "counted once, when it landed")
        }).pipe(Effect.scoped, Effect.provide(mergeServices), Effect.provide(TestClock.layer()))
    )

    it.effect("lets a failure retrying cannot fix escape after one attempt", () =>
      Effect.gen(function* () {
        const key = demoCompanyKey(7)
        yield* onNeon(7, "city = $2", "Refused")
        // the workspace refuses every write of the row (as a constraint of its own would): P0001, a query error
        const ws = yield* workspaceTrigger("reconcile_test_refuse", {
          events: "BEFORE INSERT OR UPDATE",
          body: `IF NEW.company_unique_id = '${key}' THEN
              PERFORM nextval('public.reconcile_test_refusals');
              RAISE EXCEPTION 'the test refuses this row';
            END IF;`,
          state: {
            create: "CREATE SEQUENCE public.reconcile_test_refusals",
            drop: "DROP SEQUENCE public.reconcile_test_refusals"
          }
        })
        const fiber = yield* mergeFromNeon([7]).pipe(Effect.forkChild)
        // time enough for any retry to run (a retry would wait for the clock, then try again)
        const exit = yield* until(
          "the merge has ended",
          Effect.gen(function* () {
            yield* TestClock.adjust("1 minute")
            return fiber.pollUnsafe()
          }),
          5_000
        )
        assert.isTrue(Exit.isFailure(exit))
        const failure = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
        assert.instanceOf(failure, DatabaseError)
        assert.isFalse(failure.retryable)
        assert.strictEqual(failure.reason, "Query")
        assert.include(failure.message, "the test refuses this row")
        const [tried] = yield* ws.query(
          `SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS n FROM public.reconcile_test_refusals`
        )
        assert.strictEqual(Number(tried?.n), 1, "tried once, not again")
        assert.isUndefined(yield* workspaceCompany(7))
      }).pipe(Effect.scoped, Effect.provide(mergeServices), Effect.provide(TestClock.layer()))
    )

    it.effect("merges a key that kept losing its compare-and-swap races again, until it wins", () =>
      Effect.gen(function* () {
        const key = demoCompanyKey(8)
        const before = yield* mergedBefore([8])
        yield* onNeon(8, "city = $2", "Won At Last")
        // while the gate is shut, every write of the row finds it changed (the update skips it, as the
        // compare-and-swap does when a person's edit came first)
        const ws = yield* workspaceTrigger("reconcile_test_lose", {
          events: "BEFORE UPDATE",
          body: `IF NEW.company_unique_id = '${key}' AND NOT (SELECT open FROM public.reconcile_test_gate) THEN
              UPDATE public.reconcile_test_gate SET lost = lost + 1;
              RETURN NULL;
            END IF;`,
          state: {
            create: `CREATE TABLE public.reconcile_test_gate (open boolean NOT NULL, lost int NOT NULL);
              INSERT INTO public.reconcile_test_gate VALUES (false, 0)`,
            drop: "DROP TABLE public.reconcile_test_gate"
          }
        })
        const metrics = yield* SyncMetrics
        const fiber = yield* mergeFromNeon([8]).pipe(Effect.forkChild)
        // the first merge gives up on the key after its rounds (counted), and waits to merge it again
        const first = yield* until(
          "the first merge is counted",
          Effect.map(metrics.snapshot, (m) =>
            m.merged["neon->workspace/company"] === before + 1 ? m : undefined
          )
        )
        assert.isAbove(first.retries, 0, "the key was merged again within the first merge")
        const [gate] = yield* ws.query(`SELECT lost FROM public.reconcile_test_gate`)
        assert.isAbove(Number(gate?.lost), 1)
        assert.isUndefined(fiber.pollUnsafe(), "the contended key is not dropped")
        assert.notStrictEqual((yield* workspaceCompany(8))?.city, "Won At Last")
        yield* ws.query(`UPDATE public.reconcile_test_gate SET open = true`)
        yield* until(
          "the key is merged again",
          Effect.gen(function* () {
            yield* TestClock.adjust("200 millis")
            return fiber.pollUnsafe()
          })
        )
        yield* Fiber.join(fiber)
        assert.strictEqual((yield* workspaceCompany(8))?.city, "Won At Last")
        const after = yield* metrics.snapshot
        assert.strictEqual(
          after.merged["neon->workspace/company"],
          before + 2,
          "the key's second merge is counted too"
        )
      }).pipe(Effect.scoped, Effect.provide(mergeServices), Effect.provide(TestClock.layer()))
    )
  })
})

describe("reconcile", () => {
  layer(seededDatabases("reconcile_full"), { excludeTestServices: true, timeout: "120 seconds" })((it) => {
    const options = { policy, batchSize: 50, direction: "reconcile" } as const

    /** Reconciles the companies with fresh metrics; returns them and the lines logged. */
    const reconciled = (why: string) =>
      Effect.gen(function* () {
        const lines: Array<Logged> = []
        yield* reconcile(why, options, [Company]).pipe(Effect.provide(capturing(lines)))
        const metrics = yield* (yield* SyncMetrics).snapshot
        return { metrics, lines: lines.map((l) => l.text) }
      }).pipe(Effect.provide(mergeServices))

    const neonCount = SourceDatabase.use((db) =>
      db.query(`SELECT count(*)::int AS n FROM ${neonTable}`)
    ).pipe(Effect.map(([row]) => Number(row?.n)))

    it.effect("copies every Neon row into an empty workspace table", () =>
      Effect.gen(function* () {
        const total = yield* neonCount
        assert.isAbove(total, 100)
        const { metrics, lines } = yield* reconciled("test, empty workspace")
        const [copied] = yield* WorkspaceDatabase.use((db) =>
          db.query(
            `SELECT count(*)::int AS n, count(*) FILTER (WHERE last_sync_hash IS NOT NULL)::int AS hashed
               FROM ${workspaceTable}`
          )
        )
        assert.deepStrictEqual(copied, { n: total, hashed: total })
        // the same values on both sides, row by row
        const neonNames = yield* SourceDatabase.use((db) =>
          db.query(`SELECT company_unique_id AS key, company_name, city FROM ${neonTable} ORDER BY 1`)
        )
        const workspaceNames = yield* WorkspaceDatabase.use((db) =>
          db.query(`SELECT company_unique_id AS key, company_name, city FROM ${workspaceTable} ORDER BY 1`)
        )
        assert.deepStrictEqual(workspaceNames, neonNames)
        assert.strictEqual(metrics.reconciles, 1)
        assert.strictEqual(metrics.merged["reconcile/company"], total)
        assert.include(lines, "reconciling both sides (test, empty workspace)")
        assert.include(
          lines,
          `reconciled company: ${total} Neon rows, ${total} copied, 0 merged, 0 unchanged`
        )
      })
    )

    it.effect("merges the keys that differ: Neon's changes, a workspace edit, a Neon row gone", () =>
      Effect.gen(function* () {
        // a baseline: every row in the workspace (copied here unless the test before did it)
        yield* reconciled("test, baseline")
        const total = yield* neonCount
        // a Neon change of one key
        yield* onNeon(20, "city = $2", "Changed On Neon")
        // a person completes a row in the workspace, while Neon changes another field of it
        yield* editOnBothSides(21)
        // a Neon row deleted without being promoted
        yield* SourceDatabase.use((db) =>
          db.query(`DELETE FROM ${neonTable} WHERE company_unique_id = $1`, [demoCompanyKey(22)])
        )
        const { metrics, lines } = yield* reconciled("test, both sides changed")
        assert.strictEqual((yield* workspaceCompany(20))?.city, "Changed On Neon")
        // the edit is pushed (the row is complete, as the policy asks) and Neon's change pulled
        yield* assertBothEditsMerged(21)
        assert.strictEqual((yield* workspaceCompany(22))?.sync_state, "removed")
        assert.strictEqual(metrics.reconciles, 1)
        assert.strictEqual(metrics.merged["reconcile/company"], 3)
        assert.strictEqual(metrics.pushed, 1)
        assert.strictEqual(metrics.removed, 1)
        assert.include(
          lines,
          `reconciled company: ${total - 1} Neon rows, 0 copied, 3 merged, ${total - 3} unchanged`
        )
      })
    )
  })
})
