/**
 * The plain SQL session against a real server: rows as objects, failures translated (with the code and
 * without the password), and the connection closed when the scope closes.
 */
import { assert, describe, it } from "@effect/vitest"
import { injectedServers } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { applicationName, openSession } from "../../src/internal/SqlSession.ts"
import { eventually, freshSource } from "../support/Source.ts"

describe("SqlSession", () => {
  it.live("runs statements with parameters and returns rows as objects", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const source = yield* freshSource(injectedServers().neon, "nl_session")
        const session = yield* openSession(Redacted.make(source.url), "testing")
        const rows = yield* session.query<{ n: number; s: string }>(
          "SELECT $1::int + 1 AS n, $2::text AS s",
          [41, "x"]
        )
        assert.deepStrictEqual(rows, [{ n: 42, s: "x" }])
        assert.deepStrictEqual(yield* session.query("CREATE TABLE t (v int)"), [])
      })
    )
  )

  it.live("a failing statement and a missing database are translated errors without the password", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const source = yield* freshSource(injectedServers().neon, "nl_session_err")
        const password = new URL(source.url).password
        const session = yield* openSession(Redacted.make(source.url), "testing a query")
        const syntax = yield* session.query("SELEC 1").pipe(Effect.flip)
        assert.strictEqual(syntax.reason, "Query")
        assert.strictEqual(syntax.code, "42601")
        assert.include(syntax.message, "while testing a query")
        const missing = new URL(source.url)
        missing.pathname = "/no_such_database"
        const error = yield* openSession(Redacted.make(missing.toString()), "opening").pipe(Effect.flip)
        assert.strictEqual(error.reason, "Configuration")
        assert.strictEqual(error.code, "3D000")
        assert.include(error.message, "fix the database name")
        assert.notInclude(error.message, password)
      })
    )
  )

  it.live("closes its connection when the scope closes", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const source = yield* freshSource(injectedServers().neon, "nl_session_close")
        const sessions = source.sql
          .query<{ n: number }>(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1",
            [applicationName]
          )
          .pipe(Effect.map((rows) => rows[0]!.n))
        yield* Effect.scoped(
          Effect.gen(function* () {
            const session = yield* openSession(Redacted.make(source.url), "testing")
            yield* session.query("SELECT 1")
            assert.strictEqual(yield* sessions, 1)
          })
        )
        yield* eventually(
          "the session closed",
          sessions.pipe(Effect.map((n) => (n === 0 ? true : undefined)))
        )
      })
    )
  )
})
