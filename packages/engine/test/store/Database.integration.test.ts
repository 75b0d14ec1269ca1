import { assert, describe, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
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
  })
})
