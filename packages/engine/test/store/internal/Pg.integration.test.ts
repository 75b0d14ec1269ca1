import { Readable } from "node:stream"
import { assert, describe, layer } from "@effect/vitest"
import { canonicalJson, jsonNull } from "@enrich-sync/core"
import { TwoDatabases } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import type { PoolOptions } from "../../../src/store/internal/Pg.ts"
import { openPool } from "../../../src/store/internal/Pg.ts"

/** A pool on the fixture's "neon" database, ended with the scope. */
const scopedPool = (options?: PoolOptions) =>
  Effect.acquireRelease(
    Effect.gen(function* () {
      const dbs = yield* TwoDatabases
      return openPool(dbs.neon.url, options)
    }),
    (pool) => Effect.promise(() => pool.end()).pipe(Effect.timeout("5 seconds"), Effect.ignore)
  )

/** Waits until the server has no session with the backend process `pid` (the test fails after 10 s). */
const gone = (pid: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const watcher = yield* scopedPool({ max: 1 })
      for (let i = 0; ; i++) {
        const answer = yield* Effect.promise(() =>
          watcher.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1`, [pid])
        )
        if (answer.rows[0]?.n === 0) return
        assert.isBelow(i, 200, `backend ${pid} still there after 10 s`)
        yield* Effect.sleep("50 millis")
      }
    })
  )

/** Ends the session of backend `pid` from another connection, as a server restart or an admin would. */
const terminate = (pid: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const admin = yield* scopedPool({ max: 1 })
      yield* Effect.promise(() => admin.query(`SELECT pg_terminate_backend($1)`, [pid]))
      yield* gone(pid)
    })
  )

describe("pg pools", () => {
  layer(TwoDatabases.layer(undefined, { prefix: "pg" }), { excludeTestServices: true })((it) => {
    it.effect("read values the way the projection expects, on the pool and on a checked-out connection", () =>
      Effect.scoped(
        Effect.gen(function* () {
          const pool = yield* scopedPool()
          const sql = `SELECT '2025-11-07 16:32:09.123456'::timestamp AS at,
                              '2025-11-07 16:32:09.5+00'::timestamptz AS at_tz,
                              '2025-11-07'::date AS day,
                              9007199254740991::int8 AS big,
                              '[1, {"b": [2.50, 0.0000001, 12345678901234567890123]}]'::jsonb AS exact,
                              '{"n": 1.10}'::json AS plain,
                              'null'::jsonb AS json_null,
                              NULL::jsonb AS sql_null`
          const connection = yield* Effect.promise(() => pool.connect())
          yield* Effect.promise(() => connection.query(`SET TIME ZONE 'UTC'`))
          const checkedOut = yield* Effect.promise(() => connection.query(sql))
          connection.release()
          const pooled = yield* Effect.promise(() => pool.query(`SET TIME ZONE 'UTC'; ${sql}`))
          for (const [row] of [checkedOut.rows, pooled.rows]) {
            assert.strictEqual(row?.at, "2025-11-07 16:32:09.123456")
            assert.strictEqual(row?.at_tz, "2025-11-07 16:32:09.5+00")
            assert.strictEqual(row?.day, "2025-11-07")
            assert.strictEqual(row?.big, 9007199254740991)
            assert.strictEqual(
              canonicalJson(row?.exact),
              '[1, {"b": [2.50, 0.0000001, 12345678901234567890123]}]'
            )
            assert.strictEqual(canonicalJson(row?.plain), '{"n": 1.10}')
            assert.strictEqual(row?.json_null, jsonNull)
            assert.strictEqual(row?.sql_null, null)
          }
        })
      )
    )

    it.effect(
      "answer a text of several statements with all their rows, the sum of their row counts and the columns of the first with rows",
      () =>
        Effect.scoped(
          Effect.gen(function* () {
            const pool = yield* scopedPool()
            const several = yield* Effect.promise(() =>
              pool.query(`CREATE TEMP TABLE m (n int); INSERT INTO m VALUES (1), (2), (3);
                          SELECT n FROM m ORDER BY n; SELECT 'x' AS label, 2::int8 AS two`)
            )
            assert.deepStrictEqual(several.rows, [{ n: 1 }, { n: 2 }, { n: 3 }, { label: "x", two: 2 }])
            assert.strictEqual(several.rowCount, 7)
            assert.deepStrictEqual(several.fields, [{ name: "n", dataTypeID: 23 }])
            const one = yield* Effect.promise(() =>
              pool.query(`SELECT $1::int AS a, $2::text AS b`, [4, "four"])
            )
            assert.deepStrictEqual(one, {
              rows: [{ a: 4, b: "four" }],
              rowCount: 1,
              fields: [
                { name: "a", dataTypeID: 23 },
                { name: "b", dataTypeID: 25 }
              ]
            })
          })
        )
    )

    it.effect("copy rows in from a readable, counting them, and out as COPY text", () =>
      Effect.scoped(
        Effect.gen(function* () {
          const pool = yield* scopedPool()
          const connection = yield* Effect.acquireRelease(
            Effect.promise(() => pool.connect()),
            (c) => Effect.sync(() => c.release())
          )
          yield* Effect.promise(() => connection.query(`CREATE TEMP TABLE c (k text, v int8)`))
          const copied = yield* Effect.promise(() =>
            connection.copyIn(
              `COPY c FROM STDIN`,
              Readable.from([Buffer.from("a\t1\nb\t\\N\n"), Buffer.from("c\t3\n")])
            )
          )
          assert.strictEqual(copied, 3)
          const out = yield* Effect.promise(async () => {
            const chunks: Array<Buffer> = []
            for await (const chunk of connection.copyOut(`COPY (SELECT k, v FROM c ORDER BY k) TO STDOUT`))
              chunks.push(Buffer.from(chunk as Buffer))
            return Buffer.concat(chunks).toString("utf8")
          })
          assert.strictEqual(out, "a\t1\nb\t\\N\nc\t3\n")
        })
      )
    )

    it.effect("reuse a released connection, and destroy one released with an error", () =>
      Effect.scoped(
        Effect.gen(function* () {
          const pool = yield* scopedPool({ max: 1 })
          const connect = Effect.promise(() => pool.connect())
          const first = yield* connect
          const [backend] = (yield* Effect.promise(() => first.query(`SELECT pg_backend_pid() AS pid`))).rows
          assert.isDefined(first.processId)
          assert.strictEqual(first.processId, backend?.pid)
          first.release()
          const again = yield* connect
          assert.strictEqual(again.processId, first.processId)
          again.release(new Error("left in a failed transaction"))
          const fresh = yield* connect
          assert.isDefined(fresh.processId)
          assert.notStrictEqual(fresh.processId, first.processId)
          fresh.release()
        })
      )
    )

    it.effect("name their sessions enrich-sync unless told otherwise", () =>
      Effect.scoped(
        Effect.gen(function* () {
          const named = (options?: PoolOptions) =>
            Effect.flatMap(scopedPool(options), (pool) =>
              Effect.promise(
                async () => (await pool.query(`SHOW application_name`)).rows[0]?.application_name
              )
            )
          assert.strictEqual(yield* named(), "enrich-sync")
          assert.strictEqual(yield* named({ applicationName: "enrich-sync pg test" }), "enrich-sync pg test")
        })
      )
    )

    it.effect(
      "survive the server ending a checked-out session: its next query fails, the process goes on, the pool reconnects",
      () =>
        Effect.scoped(
          Effect.gen(function* () {
            const pool = yield* scopedPool({ max: 1 })
            const connection = yield* Effect.promise(() => pool.connect())
            yield* terminate(connection.processId!)
            const failed = yield* Effect.tryPromise(() => connection.query(`SELECT 1`)).pipe(Effect.flip)
            assert.instanceOf(failed, Error)
            connection.release(failed)
            const answer = yield* Effect.promise(() => pool.query(`SELECT 1 AS one`))
            assert.deepStrictEqual(answer.rows, [{ one: 1 }])
          })
        )
    )

    it.effect("survive the server ending an idle pooled session: the next query opens another", () =>
      Effect.scoped(
        Effect.gen(function* () {
          const pool = yield* scopedPool({ max: 1 })
          const connection = yield* Effect.promise(() => pool.connect())
          const pid = connection.processId!
          connection.release()
          yield* terminate(pid)
          // the pool drops the client once its socket closes, which follows the session's end at once
          yield* Effect.sleep("200 millis")
          const [row] = (yield* Effect.promise(() => pool.query(`SELECT pg_backend_pid() AS pid`))).rows
          assert.notStrictEqual(row?.pid, pid)
        })
      )
    )
  })
})
