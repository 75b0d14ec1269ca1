/**
 * Connection losses lose nothing and duplicate nothing: the walsender killed in the middle of a large
 * transaction and between small ones, the server restarted cleanly and crashed mid-stream (a server of
 * the test's own), and the slot dropped under the listener (recreated and reported for a full reconcile).
 * Nothing acknowledged is delivered again, including what PostgreSQL 15 re-sends after a restart (R4).
 */

import { assert, describe, it } from "@effect/vitest"
import { injectedServers } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import type { Changes, ListenerEvent } from "../src/ListenerEvent.ts"
import {
  changesOf,
  connect,
  deliveredKeys,
  eventually,
  freshSource,
  type Running,
  type Sql,
  slotReaches,
  slotRow,
  sourceOfItsOwn,
  startListener,
  streaming,
  walsenderPid
} from "./support/Source.ts"

const count = (events: ReadonlyArray<ListenerEvent>, prefix: string) =>
  deliveredKeys(events).filter((k) => k.includes(`:${prefix}`)).length

/** Waits until `expected` keys were delivered, then checks that each came exactly once. */
const exactlyOnce = (running: Running, expected: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    yield* eventually(
      `${expected.length} keys`,
      Effect.sync(() => (deliveredKeys(running.events).length >= expected.length ? true : undefined)),
      "30 seconds"
    )
    // anything extra would be a duplicate: give it a moment to show up
    yield* Effect.sleep("200 millis")
    const got = deliveredKeys(running.events)
    const seen = new Map<string, number>()
    for (const k of got) seen.set(k, (seen.get(k) ?? 0) + 1)
    const duplicates = [...seen].filter(([, n]) => n > 1).map(([k]) => k)
    assert.deepStrictEqual(duplicates, [], "delivered twice")
    assert.deepStrictEqual([...got].sort(), [...expected].sort())
    assert.isUndefined(running.failure())
  })

/** One transaction inserting rows `from..to`; `width` pads each row (wide rows outgrow the socket buffers). */
const insertCompanies = (sql: Sql, prefix: string, from: number, to: number, width = 1) =>
  sql.query(
    "INSERT INTO marketing.company_invalid (company_unique_id, company_name) SELECT $1 || n, repeat(md5(n::text), $4::int / 32 + 1) FROM generate_series($2::int, $3::int) AS n",
    [prefix, from, to, width]
  )

const smallTransactions = (sql: Sql, prefix: string, n: number) =>
  Effect.forEach(
    Array.from({ length: n }, (_, i) => i),
    (i) => sql.query("INSERT INTO marketing.people_invalid (unique_id) VALUES ($1)", [`${prefix}${i}`]),
    { discard: true }
  )

const range = (table: string, prefix: string, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `${table}:${prefix}${from + i}`)

/** A new client once the restarted server accepts connections. */
const reconnected = (url: string) =>
  eventually(
    "the server back",
    connect(url).pipe(
      Effect.tap((sql) => sql.query("SELECT 1")),
      Effect.catchDefect(() => Effect.succeed(undefined))
    )
  )

const terminateWalsender = (sql: Sql, slot: string) =>
  Effect.gen(function* () {
    const pid = yield* walsenderPid(sql, slot)
    yield* sql.query("SELECT pg_terminate_backend($1)", [pid])
  })

describe("NeonListener reconnects", () => {
  it.live(
    "pg_terminate_backend of the walsender, mid-transaction and between transactions, loses and duplicates nothing",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const source = yield* freshSource(injectedServers().neon, "nl_kill")
          const { sql, slot } = source
          // Small chunks, one buffered, a slow consumer: the kill lands in the middle of the stream.
          const running = yield* startListener(
            { ...source.config, maxChunkChanges: 50, bufferChunks: 1 },
            { delay: "5 millis" }
          )
          yield* streaming(running)
          // One transaction of 80 chunks and about 16 MB: more than the socket buffers hold, so the kill
          // cuts it in the middle and the next connection resumes after what was delivered.
          yield* insertCompanies(sql, "big-", 1, 4000, 4000)

          yield* eventually(
            "part of the large transaction",
            Effect.sync(() => (count(running.events, "big-") >= 300 ? true : undefined))
          )
          yield* terminateWalsender(sql, slot)
          assert.isBelow(
            count(running.events, "big-"),
            4000,
            "the kill should land inside the large transaction"
          )
          // Then between small transactions.
          yield* smallTransactions(sql, "small-", 100)
          yield* eventually(
            "some small transactions",
            Effect.sync(() => (count(running.events, "small-") >= 40 ? true : undefined))
          )
          yield* terminateWalsender(sql, slot)

          yield* exactlyOnce(running, [
            ...range("company_invalid", "big-", 1, 4000),
            ...range("people_invalid", "small-", 0, 99)
          ])
          const chunks = changesOf(running.events)
          assert.strictEqual(chunks.filter((c) => c.last).length, 101, "each transaction ends once")
          assert.isAtLeast((yield* running.listener.status).reconnects, 2)
          // Everything was acknowledged: the slot catches up with the last transaction.
          const last = chunks[chunks.length - 1]!.endLsn
          yield* slotReaches(sql, slot, last, "the slot at the last transaction")
        })
      ),
    { timeout: 60_000 }
  )

  it.live(
    "a slot dropped under the listener is recreated and reported (SlotCreated missing), and streaming resumes",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const source = yield* freshSource(injectedServers().neon, "nl_drop")
          const { sql, slot } = source
          const running = yield* startListener({
            ...source.config,
            reconnectBase: "1 second",
            reconnectCap: "2 seconds"
          })
          yield* streaming(running)
          yield* insertCompanies(sql, "before-", 1, 1)
          yield* eventually(
            "the first row",
            Effect.sync(() => (count(running.events, "before-") === 1 ? true : undefined))
          )

          // Kill the walsender and drop the slot before the listener comes back (its first retry is ~1 s away).
          yield* terminateWalsender(sql, slot)
          yield* eventually(
            "the slot dropped",
            sql.query("SELECT pg_drop_replication_slot($1)", [slot]).pipe(
              Effect.as(true),
              Effect.catchDefect(() => Effect.succeed(undefined))
            ),
            "5 seconds"
          )
          // Not streamed by anyone: this is what the full reconcile after SlotCreated("missing") is for.
          yield* insertCompanies(sql, "meanwhile-", 1, 1)

          const missing = yield* eventually(
            "SlotCreated missing",
            Effect.sync(() => {
              const index = running.events.findIndex(
                (e) => e._tag === "SlotCreated" && e.reason === "missing"
              )
              return index >= 0 ? index : undefined
            })
          )
          yield* streaming(running)
          assert.isNotNull((yield* slotRow(sql, slot)) ?? null, "the slot exists again")
          yield* insertCompanies(sql, "after-", 1, 1)
          yield* eventually(
            "the row after",
            Effect.sync(() => (count(running.events, "after-") === 1 ? true : undefined))
          )
          const after = running.events.findIndex(
            (e) => e._tag === "Changes" && e.changes.some((c) => c.key === "after-1")
          )
          assert.isTrue(missing < after, "SlotCreated comes before what the new slot streams")
          assert.strictEqual(count(running.events, "before-"), 1)
          assert.isAtLeast((yield* running.listener.status).reconnects, 1)
          assert.isUndefined(running.failure())
        })
      ),
    { timeout: 60_000 }
  )

  it.live(
    "a server restart (clean, then a crash with delivered, unacknowledged transactions) loses and duplicates nothing",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const { server, source } = yield* sourceOfItsOwn("restart")
          const { slot } = source
          const running = yield* startListener(
            { ...source.config, maxChunkChanges: 500, heartbeatInterval: "200 millis" },
            { autoAck: false }
          )
          const ackAll = Effect.suspend(() => {
            const lastChunk = running.events.findLast((e): e is Changes => e._tag === "Changes" && e.last)
            return lastChunk === undefined ? Effect.void : running.listener.ack(lastChunk.endLsn)
          })
          yield* streaming(running)
          const sql = source.sql
          yield* smallTransactions(sql, "one-", 30)
          yield* eventually(
            "phase one",
            Effect.sync(() => (count(running.events, "one-") === 30 ? true : undefined))
          )
          yield* ackAll

          // A clean restart: the server waits for the listener to confirm what it sent, then stops.
          yield* Effect.promise(() => server.restart("fast"))
          const sql2 = yield* reconnected(source.url)
          yield* streaming(running)
          yield* smallTransactions(sql2, "two-", 30)
          yield* eventually(
            "phase two",
            Effect.sync(() => (count(running.events, "two-") === 30 ? true : undefined))
          )
          yield* ackAll

          // A crash while a large transaction is delivered but not acknowledged: the server sends it again
          // from the confirmed position, and the listener must not deliver it twice.
          yield* insertCompanies(sql2, "three-", 1, 5000)
          yield* eventually(
            "phase three",
            Effect.sync(() => (count(running.events, "three-") === 5000 ? true : undefined))
          )
          const before = (yield* running.listener.status).reconnects
          yield* Effect.promise(() => server.restart("immediate"))
          const sql3 = yield* reconnected(source.url)
          yield* eventually(
            "a new connection",
            running.listener.status.pipe(
              Effect.map((s) => (s.state === "streaming" && s.reconnects > before ? s : undefined))
            )
          )
          yield* smallTransactions(sql3, "four-", 10)
          yield* exactlyOnce(running, [
            ...range("people_invalid", "one-", 0, 29),
            ...range("people_invalid", "two-", 0, 29),
            ...range("company_invalid", "three-", 1, 5000),
            ...range("people_invalid", "four-", 0, 9)
          ])
          yield* ackAll
          const lastEnd = running.events.findLast((e): e is Changes => e._tag === "Changes" && e.last)!.endLsn
          yield* slotReaches(sql3, slot, lastEnd, "the slot at the last transaction")
        })
      ),
    { timeout: 60_000 }
  )
})
