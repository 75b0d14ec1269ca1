import { randomUUID } from "node:crypto"
import { assert, describe, layer } from "@effect/vitest"
import { Company } from "@enrich-sync/core"
import { demoCompanyKey, TwoDatabases } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/testing/TestClock"
import pg from "pg"
import { SourceDatabase } from "../../src/store/Database.ts"
import { awaitVisible, type SourceWrite, writeSource } from "../../src/store/SourceStore.ts"
import { engineFixture, onNeon } from "../support/EngineFixture.ts"

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

/** A transaction left open on Neon: its 32-bit id (as pgoutput reports it), rolled back with the scope. */
const openTransaction = Effect.gen(function* () {
  const dbs = yield* TwoDatabases
  const other = yield* Effect.acquireRelease(
    Effect.promise(async () => {
      const client = new pg.Client({ connectionString: dbs.neon.url })
      await client.connect()
      await client.query("BEGIN")
      return client
    }),
    (client) => Effect.promise(() => client.query("ROLLBACK").then(() => client.end()))
  )
  const { rows } = yield* Effect.promise(() => other.query("SELECT txid_current()::bigint AS x"))
  return Number(rows[0].x) % 2 ** 32
})

/** Lets the forked wait run its round trips (in real time: the test clock does not move by itself). */
const settle = Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 25)))

describe("the wait for visibility, on the test clock", () => {
  layer(engineFixture())((it) => {
    it.effect("gives up after 30 s of Clock time with a Contention error (retried by its caller)", () =>
      Effect.scoped(
        Effect.gen(function* () {
          const xid = yield* openTransaction
          const waiting = yield* Effect.forkChild(awaitVisible([xid]))
          yield* settle
          for (let second = 1; second <= 30; second++) {
            yield* TestClock.adjust("1 second")
            yield* settle
          }
          assert.isUndefined(waiting.pollUnsafe(), "gave up before 30 s had passed")
          yield* TestClock.adjust("1 second")
          for (let i = 0; i < 200 && waiting.pollUnsafe() === undefined; i++) yield* settle
          assert.isDefined(waiting.pollUnsafe(), "still waiting after 31 s of Clock time")
          const error = yield* Fiber.join(waiting).pipe(Effect.flip)
          assert.strictEqual(error.reason, "Contention")
          assert.include(error.message, "invisible after 30 s")
          assert.isTrue(error.retryable)
        })
      )
    )
  })
})

describe("pushes written to Neon", () => {
  layer(engineFixture({ seed: {} }), { excludeTestServices: true })((it) => {
    it.effect(
      "in one statement: a row whose hash still matches is written with its journal and log entries; one changed since is not, and leaves neither",
      () =>
        Effect.gen(function* () {
          const written = demoCompanyKey(60)
          const changed = demoCompanyKey(61)
          const hashes = new Map(
            (yield* onNeon(
              `SELECT company_unique_id AS key, enrich_sync.company_source_hash(t) AS h
                 FROM marketing.company_invalid t WHERE company_unique_id = ANY($1)`,
              [[written, changed]]
            )).map((r) => [String(r.key), String(r.h)])
          )
          // someone changes the second row after the push read it
          yield* onNeon(
            `UPDATE marketing.company_invalid SET city = 'Changed meanwhile' WHERE company_unique_id = $1`,
            [changed]
          )
          const write = (key: string): SourceWrite => ({
            key,
            expectedHash: hashes.get(key)!,
            set: { website: `https://${key}.example` },
            updatedAt: "2031-01-01T00:00:00.000000Z",
            journal: { pushId: randomUUID(), key, priorHash: null, base: "{}", baseHash: "h", conflicts: [] },
            log: {
              validationStatus: "FAILED",
              validationErrors: { phone: "missing" },
              details: null,
              batchId: "B-1"
            }
          })
          const result = yield* writeSource(Company, [write(written), write(changed)])
          assert.deepStrictEqual([...result.keys()], [written])
          const rows = yield* onNeon(
            `SELECT company_unique_id AS key, website FROM marketing.company_invalid WHERE company_unique_id = ANY($1) ORDER BY 1`,
            [[written, changed]]
          )
          assert.strictEqual(rows.find((r) => r.key === written)?.website, `https://${written}.example`)
          assert.notStrictEqual(rows.find((r) => r.key === changed)?.website, `https://${changed}.example`)
          const log = yield* onNeon(
            `SELECT record_id, entity, action, validation_status, validation_errors, batch_id FROM public.shq_validation_log
              WHERE record_id = ANY($1)`,
            [[written, changed]]
          )
          assert.deepStrictEqual(log, [
            {
              record_id: written,
              entity: "company",
              action: "push",
              validation_status: "FAILED",
              validation_errors: { phone: "missing" },
              batch_id: "B-1"
            }
          ])
          const journal = yield* onNeon(
            `SELECT record_key FROM enrich_sync.push_journal WHERE record_key = ANY($1)`,
            [[written, changed]]
          )
          assert.deepStrictEqual(journal, [{ record_key: written }])
        })
    )
  })
})
