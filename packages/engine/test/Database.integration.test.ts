import { assert, describe, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { SourceDatabase } from "../src/Database.ts"
import { engineFixture, onNeon } from "./support/EngineFixture.ts"

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
