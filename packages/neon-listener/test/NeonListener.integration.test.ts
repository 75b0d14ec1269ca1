/**
 * The listener against a real server (the shared "neon" server, a fresh database per test): whole
 * transactions in commit order, acknowledgements that move the slot, an idle slot kept moving by
 * heartbeats but held at the acknowledged position while data is pending, bounded memory under a large
 * transaction and a slow consumer, and no loss or duplicate when the walsender is killed mid-stream or
 * the slot vanishes.
 */

import { assert, describe, it } from "@effect/vitest"
import { formatLsn, parseLsn } from "@enrich-sync/core"
import { injectedServers } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import * as Latch from "effect/Latch"
import { ensureSlot } from "../src/Slot.ts"
import {
  bartonId,
  changesOf,
  deliveredKeys,
  eventually,
  freshSource,
  slotReaches,
  slotRow,
  sourceOfItsOwn,
  startListener,
  streaming
} from "./support/Source.ts"

describe("NeonListener", () => {
  it.live(
    "creates the publication and slot, streams whole transactions in commit order, and acks move the slot",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const source = yield* freshSource(injectedServers().neon, "nl_stream")
          const { sql } = source
          const running = yield* startListener(source.config, { autoAck: false })
          const created = yield* eventually(
            "SlotCreated",
            Effect.sync(() => running.events.find((e) => e._tag === "SlotCreated"))
          )
          assert.deepInclude(created, { _tag: "SlotCreated", reason: "first-start" })
          const [pub] = yield* sql.query<{ n: string }>(
            "SELECT count(*)::text AS n FROM pg_publication_tables WHERE pubname = $1",
            [source.publication]
          )
          assert.strictEqual(pub?.n, "2")
          yield* streaming(running)

          const before = Date.now()
          yield* sql.query("BEGIN")
          yield* sql.query(
            "INSERT INTO marketing.company_invalid (company_unique_id, company_name) VALUES ($1, 'A'), ($2, 'B')",
            [bartonId(1), bartonId(2)]
          )
          yield* sql.query("INSERT INTO marketing.people_invalid (unique_id, full_name) VALUES ($1, 'P')", [
            bartonId(3)
          ])
          yield* sql.query("INSERT INTO public.unrelated (note) VALUES ('ignored')")
          yield* sql.query("COMMIT")
          yield* sql.query("INSERT INTO public.unrelated (note) VALUES ('an unrelated transaction')")
          yield* sql.query(
            "UPDATE marketing.company_invalid SET company_name = 'A2' WHERE company_unique_id = $1",
            [bartonId(1)]
          )
          yield* sql.query("DELETE FROM marketing.company_invalid WHERE company_unique_id = $1", [
            bartonId(2)
          ])
          yield* sql.query("TRUNCATE marketing.people_invalid")

          const txns = yield* eventually(
            "four transactions",
            Effect.sync(() => {
              const cs = changesOf(running.events)
              return cs.length >= 4 ? cs : undefined
            })
          )
          assert.deepStrictEqual(
            txns.map((t) => [
              t.changes.map((c) => [c.table.name, c.op, c.key]),
              t.truncated.map((t) => t.name),
              t.last
            ]),
            [
              [
                [
                  ["company_invalid", "insert", bartonId(1)],
                  ["company_invalid", "insert", bartonId(2)],
                  ["people_invalid", "insert", bartonId(3)]
                ],
                [],
                true
              ],
              [[["company_invalid", "update", bartonId(1)]], [], true],
              [[["company_invalid", "delete", bartonId(2)]], [], true],
              [[], ["people_invalid"], true]
            ]
          )
          for (const [i, t] of txns.entries()) {
            assert.isTrue(t.commitLsn < t.endLsn)
            if (i > 0) assert.isTrue(txns[i - 1]!.endLsn <= t.commitLsn, "commit order")
            assert.match(t.commitTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/)
            assert.isTrue(
              Math.abs(Date.parse(t.commitTime) - before) < 60_000,
              "the commit time is the commit's, not seven days off"
            )
          }
          // Not acknowledged: the slot stays before the first transaction.
          const initial = yield* slotRow(sql, source.slot)
          assert.isTrue(parseLsn(initial!.confirmed!) < txns[0]!.endLsn)

          // Acknowledging the second transaction confirms exactly its end (Postgres prints what formatLsn prints).
          yield* running.listener.ack(txns[1]!.endLsn)
          yield* eventually(
            "the slot at the second commit",
            slotRow(sql, source.slot).pipe(
              Effect.map((row) => (row?.confirmed === formatLsn(txns[1]!.endLsn) ? row : undefined))
            )
          )
          const status = yield* running.listener.status
          assert.strictEqual(status.confirmed, txns[1]!.endLsn)
          assert.strictEqual(status.waiting, 2)

          // A lower acknowledgement is ignored; one past anything delivered too.
          yield* running.listener.ack(txns[0]!.endLsn)
          yield* running.listener.ack(txns[3]!.endLsn + 1_000_000n)
          assert.strictEqual((yield* running.listener.status).confirmed, txns[1]!.endLsn)

          // Acknowledging the last one lets the slot move to it and past it (keepalives, empty transactions).
          yield* running.listener.ack(txns[3]!.endLsn)
          yield* slotReaches(sql, source.slot, txns[3]!.endLsn, "the slot at or past the last commit")
          assert.isUndefined(running.failure())
        })
      )
  )

  it.live(
    "coalesces acknowledgements: the first at once, a burst after it within ackInterval",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          // Nothing but this test may send a status in the window: a keepalive with a newer position lets
          // the listener confirm past everything acknowledged at once (right, but not what is measured
          // here), and any WAL written on the server brings one. So: a server of its own (no other test's
          // WAL), no heartbeat or periodic status within the test, and a fourth transaction delivered and
          // never acknowledged, which holds the slot before it whatever keepalive comes.
          const { source } = yield* sourceOfItsOwn("coalesce")
          const { sql } = source
          const running = yield* startListener(
            {
              ...source.config,
              ackInterval: "5 seconds",
              heartbeatInterval: "1 hour",
              statusInterval: "1 hour"
            },
            { autoAck: false }
          )
          yield* streaming(running)
          for (let i = 1; i <= 4; i++) {
            yield* sql.query(
              "INSERT INTO marketing.company_invalid (company_unique_id, company_name) VALUES ($1, 'A')",
              [bartonId(i)]
            )
          }
          const txns = yield* eventually(
            "four transactions",
            Effect.sync(() => {
              const cs = changesOf(running.events)
              return cs.length >= 4 ? cs : undefined
            })
          )
          const confirmedIs = (lsn: bigint) =>
            slotRow(sql, source.slot).pipe(
              Effect.map((row) => (row?.confirmed === formatLsn(lsn) ? row : undefined))
            )
          yield* running.listener.ack(txns[0]!.endLsn)
          yield* eventually("the first acknowledgement, at once", confirmedIs(txns[0]!.endLsn))
          yield* running.listener.ack(txns[1]!.endLsn)
          yield* running.listener.ack(txns[2]!.endLsn)
          assert.strictEqual((yield* running.listener.status).confirmed, txns[2]!.endLsn)
          yield* Effect.sleep("300 millis")
          const held = yield* slotRow(sql, source.slot)
          assert.strictEqual(held?.confirmed, formatLsn(txns[0]!.endLsn), "the burst waits for the interval")
          yield* eventually(
            "the last of the burst, one status later",
            slotRow(sql, source.slot).pipe(
              Effect.map((row) =>
                row?.confirmed !== undefined && parseLsn(String(row.confirmed)) >= txns[2]!.endLsn
                  ? row
                  : undefined
              )
            )
          )
          assert.isUndefined(running.failure())
        })
      ),
    { timeout: 60_000 }
  )

  it.live(
    "ensureSlot before a backfill creates the slot first; the listener then follows it without SlotCreated",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const source = yield* freshSource(injectedServers().neon, "nl_ensure")
          const first = yield* ensureSlot(source.config)
          assert.isTrue(first.created)
          assert.isTrue(first.publicationChanged)
          // Committed after the slot was created and before the listener starts (during a backfill).
          yield* source.sql.query("INSERT INTO marketing.company_invalid (company_unique_id) VALUES ($1)", [
            bartonId(10)
          ])
          const again = yield* ensureSlot(source.config)
          assert.deepStrictEqual(again, {
            created: false,
            position: first.position,
            publicationChanged: false
          })
          const running = yield* startListener(source.config)
          yield* eventually(
            "the row committed during the backfill",
            Effect.sync(() =>
              deliveredKeys(running.events).includes(`company_invalid:${bartonId(10)}`) ? true : undefined
            )
          )
          assert.isFalse(running.events.some((e) => e._tag === "SlotCreated"))
        })
      )
  )

  it.live(
    "an idle slot advances with heartbeats, and only up to the acknowledged position while data is pending",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const source = yield* freshSource(injectedServers().neon, "nl_idle")
          const { sql, slot } = source
          const running = yield* startListener(
            { ...source.config, heartbeatInterval: "100 millis" },
            { autoAck: false }
          )
          yield* streaming(running)
          const start = parseLsn((yield* slotRow(sql, slot))!.confirmed!)
          // Idle: heartbeats alone move the slot, twice.
          const moved = yield* eventually(
            "the idle slot to move",
            slotRow(sql, slot).pipe(
              Effect.map((row) => (parseLsn(row!.confirmed!) > start ? parseLsn(row!.confirmed!) : undefined))
            )
          )
          yield* eventually(
            "the idle slot to move again",
            slotRow(sql, slot).pipe(
              Effect.map((row) => (parseLsn(row!.confirmed!) > moved ? true : undefined))
            )
          )

          // Pending: one transaction delivered and not acknowledged holds the slot before it.
          yield* sql.query("INSERT INTO marketing.company_invalid (company_unique_id) VALUES ($1)", [
            bartonId(20)
          ])
          const [txn] = yield* eventually(
            "the transaction",
            Effect.sync(() => {
              const cs = changesOf(running.events)
              return cs.length > 0 ? cs : undefined
            })
          )
          const heldAt = parseLsn((yield* slotRow(sql, slot))!.confirmed!)
          // Several heartbeats later (WAL keeps moving) the slot has not passed the transaction.
          const walBefore = yield* sql.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn")
          yield* Effect.sleep("700 millis")
          const walAfter = yield* sql.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn")
          assert.isTrue(
            parseLsn(walAfter[0]!.lsn) > parseLsn(walBefore[0]!.lsn),
            "heartbeats kept writing WAL"
          )
          const held = parseLsn((yield* slotRow(sql, slot))!.confirmed!)
          assert.isTrue(
            held < txn!.endLsn,
            `the slot (${formatLsn(held)}) passed an unacknowledged transaction ending at ${formatLsn(txn!.endLsn)}`
          )
          assert.isTrue(held <= txn!.commitLsn)
          assert.isTrue(held >= heldAt)
          assert.isTrue((yield* running.listener.status).confirmed < txn!.endLsn)

          // Acknowledged: the slot moves to it and then beyond it with heartbeats.
          yield* running.listener.ack(txn!.endLsn)
          yield* eventually(
            "the slot past the acknowledged transaction",
            slotRow(sql, slot).pipe(
              Effect.map((row) => (parseLsn(row!.confirmed!) > txn!.endLsn ? true : undefined))
            )
          )
        })
      )
  )

  it.live(
    "a 200k-row UPDATE comes as bounded chunks of keys, and a slow consumer pauses reading instead of buffering",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const rows = 200_000
          const source = yield* freshSource(injectedServers().neon, "nl_large")
          const { sql } = source
          // Room on each page so that the UPDATE stays HOT and quick; the WAL it decodes to is the same.
          yield* sql.query("ALTER TABLE marketing.company_invalid SET (fillfactor = 45)")
          yield* sql.query(
            "INSERT INTO marketing.company_invalid (company_unique_id, company_name) SELECT 'k' || n, 'name ' || n FROM generate_series(1, $1) AS n",
            [rows]
          )
          const gate = yield* Latch.make(false)
          const bufferChunks = 2
          const running = yield* startListener({ ...source.config, bufferChunks }, { gate })
          yield* streaming(running)
          yield* sql.query("UPDATE marketing.company_invalid SET company_name = company_name || ' (checked)'")

          // The consumer holds one chunk and takes no more: the buffer fills up to its bound and stays there.
          yield* eventually(
            "a full buffer",
            running.listener.status.pipe(Effect.map((s) => (s.buffered >= bufferChunks ? s : undefined)))
          )
          for (let i = 0; i < 5; i++) {
            yield* Effect.sleep("100 millis")
            const status = yield* running.listener.status
            // one socket read past the bound at most (it holds far fewer than 5000 row messages)
            assert.isAtMost(status.buffered, bufferChunks + 1, "chunks pile up: reading did not pause")
          }
          const [replication] = yield* sql.query<{ sent: string; wal: string }>(
            "SELECT r.sent_lsn::text AS sent, pg_current_wal_lsn()::text AS wal FROM pg_stat_replication r JOIN pg_replication_slots s ON s.active_pid = r.pid WHERE s.slot_name = $1",
            [source.slot]
          )
          assert.isTrue(parseLsn(replication!.sent) < parseLsn(replication!.wal), "the server was held back")

          yield* gate.open
          const done = yield* eventually(
            "the whole transaction",
            Effect.sync(() => {
              const cs = changesOf(running.events)
              return cs.some((c) => c.last) ? cs : undefined
            }),
            "40 seconds"
          )
          assert.strictEqual(done.length, rows / 5000)
          assert.isTrue(
            done.every(
              (c) => c.changes.length <= 5000 && c.xid === done[0]!.xid && c.commitLsn === done[0]!.commitLsn
            )
          )
          assert.deepStrictEqual(
            done.map((c) => c.last),
            done.map((_, i) => i === done.length - 1)
          )
          const keys = done.flatMap((c) => c.changes.map((x) => x.key))
          assert.strictEqual(keys.length, rows)
          assert.strictEqual(new Set(keys).size, rows)
          assert.isTrue(done.every((c) => c.changes.every((x) => x.op === "update")))
        })
      ),
    { timeout: 60_000 }
  )
})
