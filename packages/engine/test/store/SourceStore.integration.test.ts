import { assert, describe, layer } from "@effect/vitest"
import { TwoDatabases } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import pg from "pg"
import { SourceDatabase } from "../../src/store/Database.ts"
import { awaitVisible } from "../../src/store/SourceStore.ts"
import { engineFixture } from "../support/EngineFixture.ts"

describe("waiting for replicated transactions to be visible", () => {
  layer(engineFixture(), { excludeTestServices: true })((it) => {
    it.effect("does not return while the transaction is still in progress, and returns once it commits", () =>
      Effect.gen(function* () {
        const dbs = yield* TwoDatabases
        const other = new pg.Client({ connectionString: dbs.neon.url })
        yield* Effect.promise(() => other.connect())
        yield* Effect.promise(() => other.query("BEGIN"))
        const { rows } = yield* Effect.promise(() => other.query("SELECT txid_current()::bigint AS x"))
        // pgoutput reports the 32-bit id
        const xid = Number(rows[0].x) % 2 ** 32
        const waiting = yield* Effect.forkChild(awaitVisible([xid]))
        yield* Effect.sleep("300 millis")
        assert.isUndefined(waiting.pollUnsafe(), "returned before the transaction committed")
        yield* Effect.promise(() => other.query("COMMIT"))
        yield* Fiber.join(waiting).pipe(Effect.timeout("5 seconds"))
        yield* Effect.promise(() => other.end())
        // already visible transactions return at once
        const db = yield* SourceDatabase
        const [old] = yield* db.query("SELECT (txid_current() - 1)::bigint AS x")
        yield* awaitVisible([Number(old?.x) % 2 ** 32]).pipe(Effect.timeout("1 second"))
      })
    )
  })
})
