import { assert, describe, layer } from "@effect/vitest"
import { TwoDatabases } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { SourceDatabase } from "../../src/store/Database.ts"
import { engineFixture, onNeon } from "../support/EngineFixture.ts"

describe("database transactions", () => {
  layer(engineFixture(), { excludeTestServices: true })((it) => {
    it.effect("roll back on failure and write nothing", () =>
      Effect.gen(function* () {
        const db = yield* SourceDatabase
        yield* onNeon(`CREATE TABLE t (n int)`)
        const failed = yield* db
          .transaction((tx) =>
            Effect.andThen(tx.query(`INSERT INTO t VALUES (1)`), tx.query(`INSERT INTO t VALUES ('x')`))
          )
          .pipe(Effect.flip)
        assert.strictEqual(failed.reason, "Query")
        const [row] = yield* onNeon(`SELECT count(*)::int AS n FROM t`)
        assert.strictEqual(row?.n, 0)
      })
    )

    it.effect("run the statements sent with BEGIN inside the transaction, and roll back when they fail", () =>
      Effect.gen(function* () {
        const db = yield* SourceDatabase
        yield* onNeon(`CREATE TABLE IF NOT EXISTS t (n int)`)
        // a transaction-local setting made with BEGIN is seen by the body, and gone after the commit
        const seen = yield* db.transaction(
          (tx) =>
            Effect.gen(function* () {
              yield* tx.query(`INSERT INTO t VALUES (10)`)
              return (yield* tx.query(`SELECT current_setting('enrich_sync.test', true) AS v`))[0]?.v
            }),
          { begin: `SELECT set_config('enrich_sync.test', 'it''s set', true)` }
        )
        assert.strictEqual(seen, "it's set")
        const failed = yield* db
          .transaction((tx) => tx.query(`INSERT INTO t VALUES (11)`), { begin: `SELECT 1 / 0` })
          .pipe(Effect.flip)
        assert.strictEqual(failed.reason, "Query")
        // the pool's connections are all usable: none was left in an aborted transaction
        const rows = yield* Effect.all(
          Array.from({ length: 6 }, () => db.query(`SELECT current_setting('enrich_sync.test', true) AS v`)),
          { concurrency: 6 }
        )
        for (const [row] of rows) assert.include([null, ""], row?.v)
        const [count] = yield* onNeon(
          `SELECT count(*) FILTER (WHERE n = 10)::int AS ok, count(*) FILTER (WHERE n = 11)::int AS bad FROM t`
        )
        assert.deepStrictEqual(count, { ok: 1, bad: 0 })
        yield* onNeon(`DELETE FROM t WHERE n IN (10, 11)`)
      })
    )

    it.effect("stop promptly when interrupted: the running statement is cancelled, then rolled back", () =>
      Effect.gen(function* () {
        const db = yield* SourceDatabase
        const fiber = yield* Effect.forkChild(
          db.transaction((tx) =>
            Effect.andThen(tx.query(`INSERT INTO t VALUES (2)`), tx.query(`SELECT pg_sleep(30)`))
          )
        )
        yield* Effect.sleep("300 millis")
        const started = Date.now()
        yield* Fiber.interrupt(fiber)
        assert.isBelow(Date.now() - started, 5000, "interrupting waited for the statement to finish")
        const [row] = yield* onNeon(`SELECT count(*)::int AS n FROM t`)
        assert.strictEqual(row?.n, 0)
        const running = yield* onNeon(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%' AND state = 'active'`
        )
        assert.strictEqual(running[0]?.n, 0)
      })
    )

    it.effect(
      "with an idle-in-transaction limit, a transaction left waiting for its next statement is rolled back by the server, its row free",
      () =>
        Effect.gen(function* () {
          yield* onNeon(`CREATE TABLE held (n int PRIMARY KEY)`)
          yield* onNeon(`INSERT INTO held VALUES (1)`)
          const url = Redacted.make((yield* TwoDatabases).neon.url)
          /** locks the row, then waits 1.5 s before its next statement (a process that hung part way) */
          const hang = (limit: number | undefined) =>
            SourceDatabase.use((db) =>
              db.transaction((tx) =>
                Effect.gen(function* () {
                  yield* tx.query(`UPDATE held SET n = n WHERE n = 1`)
                  yield* Effect.sleep("1500 millis")
                  yield* tx.query(`SELECT 1`)
                })
              )
            ).pipe(
              Effect.provide(
                SourceDatabase.layer(url, {
                  max: 1,
                  ...(limit === undefined ? {} : { idleInTransactionTimeoutMs: limit })
                })
              )
            )
          /** how long an update of the row waits, with the hung transaction started 200 ms before */
          const blockedFor = (limit: number | undefined) =>
            Effect.gen(function* () {
              const hung = yield* Effect.forkChild(Effect.result(hang(limit)))
              yield* Effect.sleep("200 millis")
              const started = Date.now()
              yield* onNeon(`UPDATE held SET n = 1 WHERE n = 1`)
              const waited = Date.now() - started
              return { waited, hung: yield* Fiber.join(hung) }
            })
          const limited = yield* blockedFor(300)
          assert.isBelow(limited.waited, 1000, "the row stayed locked past the limit")
          assert.strictEqual(limited.hung._tag, "Failure", "the hung transaction went on after the limit")
          if (limited.hung._tag === "Failure") assert.isTrue(limited.hung.failure.retryable)
          // without the limit the row waits for the hung transaction: the limit is what freed it
          const unlimited = yield* blockedFor(undefined)
          assert.isAtLeast(unlimited.waited, 1000)
          assert.strictEqual(unlimited.hung._tag, "Success")
        })
    )

    it.effect("opens the connections to keep open at once, before any query", () =>
      Effect.gen(function* () {
        const url = Redacted.make((yield* TwoDatabases).neon.url)
        const name = "enrich-sync keep-open test"
        const open = onNeon(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`,
          [name]
        ).pipe(Effect.map(([row]) => Number(row?.n)))
        const counted = yield* Effect.scoped(
          Effect.gen(function* () {
            yield* Layer.build(SourceDatabase.layer(url, { max: 3, keepOpen: 2, applicationName: name }))
            for (let i = 0; i < 100 && (yield* open) < 2; i++) yield* Effect.sleep("50 millis")
            return yield* open
          })
        )
        assert.strictEqual(counted, 2)
      })
    )
  })
})

describe("exchanges: several statements and their COPY data in one message", () => {
  layer(engineFixture(), { excludeTestServices: true })((it) => {
    it.effect(
      "run every statement in order, take each COPY's data, and return the rows and the COPY output",
      () =>
        Effect.scoped(
          Effect.gen(function* () {
            const db = yield* SourceDatabase
            yield* onNeon(`CREATE TABLE x (k text PRIMARY KEY, v text)`)
            const session = yield* db.session
            const answer = yield* session.exchange(
              `BEGIN; COPY x FROM STDIN; INSERT INTO x VALUES ('c', 'three') RETURNING k, v; COMMIT;
             COPY x (k, v) FROM STDIN; SELECT count(*) AS n FROM x;
             SELECT set_config('enrich_sync.test', 'local', true); COPY (SELECT k, v, current_setting('enrich_sync.test') FROM x ORDER BY k) TO STDOUT`,
              [[Buffer.from("a\tone\n"), Buffer.from("b\t\\N\n")], [Buffer.from("d\tfour\n")]]
            )
            assert.deepStrictEqual(answer.rows, [["c", "three"], ["4"], ["local"]])
            assert.strictEqual(
              answer.copyOut.toString("utf8"),
              "a\tone\tlocal\nb\t\\N\tlocal\nc\tthree\tlocal\nd\tfour\tlocal\n"
            )
            // the setting was local to the message's implicit transaction
            const [after] = yield* session.query(`SELECT current_setting('enrich_sync.test', true) AS v`)
            assert.include([null, ""], after?.v)
          })
        )
    )

    it.effect(
      "stop at a failing statement: the transactions before it stay committed, the data still to come is dropped, and the pool stays usable",
      () =>
        Effect.gen(function* () {
          const db = yield* SourceDatabase
          yield* onNeon(`CREATE TABLE IF NOT EXISTS y (n int PRIMARY KEY)`)
          const failed = yield* Effect.scoped(
            Effect.flatMap(db.session, (s) =>
              s.exchange(
                `BEGIN; COPY y FROM STDIN; COMMIT; BEGIN; COPY y FROM STDIN; COMMIT; BEGIN; COPY y FROM STDIN; COMMIT`,
                [[Buffer.from("1\n2\n")], [Buffer.from("3\nnot a number\n")], [Buffer.from("4\n")]]
              )
            )
          ).pipe(Effect.flip)
          assert.strictEqual(failed.reason, "Query")
          assert.include(failed.message, "not a number")
          // a failure before any COPY: its data (sent with the message) is dropped too
          yield* Effect.scoped(
            Effect.flatMap(db.session, (s) =>
              s.exchange(`BEGIN; SELECT 1 / 0; COPY y FROM STDIN; COMMIT`, [[Buffer.from("5\n")]])
            )
          ).pipe(Effect.flip)
          const [row] = yield* onNeon(`SELECT array_agg(n ORDER BY n)::text AS ns FROM y`)
          assert.strictEqual(row?.ns, "{1,2}")
          // every connection of the pool is usable and outside a transaction
          const states = yield* Effect.all(
            Array.from({ length: 6 }, () => db.query(`SELECT now() = statement_timestamp() AS fresh`)),
            { concurrency: 6 }
          )
          for (const [state] of states) assert.isTrue(state?.fresh)
        })
    )
  })
})
