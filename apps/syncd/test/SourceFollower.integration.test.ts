/**
 * The Neon follower on real databases, fed by a test double of the Neon listener (a layer that speaks the
 * listener's interface) and driven by `TestClock`: events are grouped until a batch is full or `batchWait`
 * has passed, a position is acknowledged only after its transactions are merged on both sides,
 * transactions at or before the position recorded at start are skipped (a server may send them again), and
 * a stop finishes what was taken, then returns.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Company, type Lsn, qualified } from "@enrich-sync/core"
import {
  readReplicationProgress,
  SourceDatabase,
  WorkspaceDatabase,
  writeReplicationProgress
} from "@enrich-sync/engine"
import type { ListenerEvent } from "@enrich-sync/neon-listener"
import { NeonListener } from "@enrich-sync/neon-listener"
import { demoCompanyKey, TwoDatabases } from "@enrich-sync/testing"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Queue from "effect/Queue"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/testing/TestClock"
import pg from "pg"
import { followSource } from "../src/SourceFollower.ts"
import { listenerStatus } from "./support/ListenerStatus.ts"
import { mergeServices, seededDatabases, sleepLive, until } from "./support/MergeLayers.ts"

/** The listener's double: events the test offers, acknowledgements it records. */
const listenerDouble = Effect.gen(function* () {
  const events = yield* Queue.unbounded<ListenerEvent>()
  const acks = yield* Ref.make<ReadonlyArray<Lsn>>([])
  const status = listenerStatus("streaming")
  const service = NeonListener.of({
    events: Stream.fromQueue(events),
    ack: (position) => Ref.update(acks, (a) => [...a, position]),
    status: Effect.succeed(status)
  })
  return { events, acks, service }
})

const city = (index: number) =>
  WorkspaceDatabase.use((db) =>
    db.query(`SELECT city FROM ${qualified(Company.workspaceTable)} WHERE company_unique_id = $1`, [
      demoCompanyKey(index)
    ])
  ).pipe(Effect.map(([row]) => row?.city ?? null))

/** The workspace cities of the rows `indices`, in that order. */
const cities = (...indices: ReadonlyArray<number>) => Effect.forEach(indices, city)

let lsn = 0x5000000n
/** Sets a city on Neon and returns the event the listener would send for that transaction. */
const neonChange = (index: number, value: string) =>
  Effect.gen(function* () {
    // the transaction's own id: the engine waits until what it reads shows that transaction
    const [row] = yield* SourceDatabase.use((db) =>
      db.query(
        `UPDATE ${qualified(Company.sourceTable)} SET city = $2 WHERE company_unique_id = $1 RETURNING xmin::text AS xid`,
        [demoCompanyKey(index), value]
      )
    )
    lsn += 0x100n
    return {
      _tag: "Changes",
      xid: Number(row?.xid),
      commitLsn: lsn,
      endLsn: lsn + 0x10n,
      commitTime: new Date().toISOString().replace("Z", "000Z"),
      changes: [{ table: Company.sourceTable, op: "update", key: demoCompanyKey(index) }],
      truncated: [],
      last: true
    } satisfies ListenerEvent
  })

/** Waits until the follower `f` has acknowledged through the end of `event`; returns its acknowledgements. */
const acknowledgedThrough = (
  f: { readonly acks: Ref.Ref<ReadonlyArray<Lsn>> },
  event: { readonly endLsn: Lsn },
  what: string
) =>
  until(
    what,
    Effect.map(Ref.get(f.acks), (a) => (a.at(-1) === event.endLsn ? a : undefined))
  )

/**
 * Merges `value` into the workspace row of `index` through the follower `f` (so the row is as the follower
 * last wrote it, and its next write is the clean one); returns the event.
 */
const mergeThrough = (
  f: { readonly events: Queue.Queue<ListenerEvent>; readonly acks: Ref.Ref<ReadonlyArray<Lsn>> },
  index: number,
  value: string
) =>
  Effect.gen(function* () {
    const event = yield* neonChange(index, value)
    yield* Queue.offer(f.events, event)
    yield* acknowledgedThrough(f, event, "the row is in the workspace")
    return event
  })

/** Sets a city on Neon with no event for it (a change the follower is not told of). */
const unannouncedNeonChange = (index: number, value: string) =>
  SourceDatabase.use((db) =>
    db.query(`UPDATE ${qualified(Company.sourceTable)} SET city = $2 WHERE company_unique_id = $1`, [
      demoCompanyKey(index),
      value
    ])
  )

describe("followSource", () => {
  layer(seededDatabases("follower"), { excludeTestServices: true, timeout: "120 seconds" })((it) => {
    const run = (
      slot: string,
      options: {
        readonly batchSize: number
        readonly batchWaitMs: number
        readonly beforeAck?: Effect.Effect<void>
        readonly writeAloneAbove?: number
      }
    ) =>
      Effect.gen(function* () {
        const double = yield* listenerDouble
        const stop = yield* Deferred.make<void>()
        const fiber = yield* followSource({
          slot,
          entities: [Company],
          policy: { pushOn: ["complete"] },
          batchSize: options.batchSize,
          batchWait: Duration.millis(options.batchWaitMs),
          beforeAck: options.beforeAck ?? Effect.void,
          ...(options.writeAloneAbove === undefined ? {} : { writeAloneAbove: options.writeAloneAbove }),
          stop
        }).pipe(
          Effect.provideService(NeonListener, double.service),
          Effect.provide(mergeServices),
          Effect.forkChild
        )
        return { ...double, stop, fiber }
      })

    /** A running follower: its listener double, its stop signal and its fiber. */
    type Follower = Effect.Success<ReturnType<typeof run>>

    /** Stops the follower `f` and waits until it has finished what it took; returns what it drained. */
    const stopped = (f: Follower) =>
      Deferred.succeed(f.stop, undefined).pipe(Effect.andThen(Fiber.join(f.fiber)))

    /**
     * A test of the follower on the test clock; what it opens in its own scope (a person's connection) is
     * closed at its end.
     */
    const followerTest = (
      name: string,
      test: Effect.Effect<void, unknown, TwoDatabases | SourceDatabase | WorkspaceDatabase | Scope.Scope>
    ) => it.effect(name, () => test.pipe(Effect.scoped, Effect.provide(TestClock.layer())))

    followerTest(
      "waits batchWait for a batch to fill, then merges it and acknowledges its end",
      Effect.gen(function* () {
        const first = yield* run("t_follow_wait", { batchSize: 100, batchWaitMs: 1000 })
        const events = [yield* neonChange(1, "Wait One"), yield* neonChange(2, "Wait Two")]
        yield* Queue.offerAll(first.events, events)
        yield* sleepLive(300)
        assert.deepStrictEqual(yield* Ref.get(first.acks), [], "nothing before batchWait has passed")
        yield* TestClock.adjust("1 second")
        const acks = yield* until(
          "the batch is acknowledged",
          Effect.map(Ref.get(first.acks), (a) => (a.length > 0 ? a : undefined))
        )
        assert.strictEqual(acks.at(-1), events[1]!.endLsn)
        // acknowledged only once both rows were merged into the workspace
        assert.deepStrictEqual(yield* cities(1, 2), ["Wait One", "Wait Two"])
        yield* stopped(first)
      })
    )

    followerTest(
      "a full batch goes at once; the rest waits for the clock",
      Effect.gen(function* () {
        const f = yield* run("t_follow_full", { batchSize: 2, batchWaitMs: 60_000 })
        const events = [
          yield* neonChange(3, "Full A"),
          yield* neonChange(4, "Full B"),
          yield* neonChange(5, "Full C")
        ]
        yield* Queue.offerAll(f.events, events)
        const acks = yield* until(
          "the full batch is acknowledged",
          Effect.map(Ref.get(f.acks), (a) => (a.length > 0 ? a : undefined))
        )
        assert.strictEqual(acks.at(-1), events[1]!.endLsn)
        assert.strictEqual(yield* city(4), "Full B")
        assert.notStrictEqual(yield* city(5), "Full C", "the third waits for its batch to fill or time out")
        yield* TestClock.adjust("1 minute")
        yield* acknowledgedThrough(f, events[2]!, "the rest is acknowledged")
        assert.strictEqual(yield* city(5), "Full C")
        yield* stopped(f)
      })
    )

    followerTest(
      "the writer goes on while an acknowledgement is in flight; the ones that waited meanwhile are sent as the latest alone",
      Effect.gen(function* () {
        const gate = yield* Deferred.make<void>()
        const checks = yield* Ref.make(0)
        const f = yield* run("t_follow_acker", {
          batchSize: 100,
          batchWaitMs: 0,
          beforeAck: Ref.update(checks, (n) => n + 1).pipe(Effect.andThen(Deferred.await(gate)))
        })
        const merged = (index: number, value: string) =>
          until(
            `${value} is merged`,
            Effect.map(city(index), (c) => (c === value ? c : undefined))
          )
        const a = yield* neonChange(8, "Acked A")
        yield* Queue.offer(f.events, a)
        yield* merged(8, "Acked A")
        yield* until(
          "the first acknowledgement waits for its check",
          Effect.map(Ref.get(checks), (n) => (n === 1 ? n : undefined))
        )
        // the first acknowledgement is held at its check: the next transactions are merged all the same
        const b = yield* neonChange(9, "Acked B")
        yield* Queue.offer(f.events, b)
        yield* merged(9, "Acked B")
        const c = yield* neonChange(10, "Acked C")
        yield* Queue.offer(f.events, c)
        yield* merged(10, "Acked C")
        assert.deepStrictEqual(yield* Ref.get(f.acks), [], "nothing acknowledged before its check passed")
        yield* Deferred.succeed(gate, undefined)
        const acks = yield* acknowledgedThrough(f, c, "the latest is acknowledged")
        assert.deepStrictEqual(acks, [a.endLsn, c.endLsn])
        assert.strictEqual(yield* readReplicationProgress("t_follow_acker"), c.endLsn)
        const drained = yield* stopped(f)
        assert.strictEqual(drained.acknowledged, c.endLsn)
      })
    )

    /**
     * Merges `value` into the workspace row of `index` through the follower `f`, then holds that row in a
     * person's open transaction (until the scope ends or `COMMIT`): the next write of its key waits.
     */
    const holdRow = (f: Follower, index: number, value: string) =>
      Effect.gen(function* () {
        const dbs = yield* TwoDatabases
        const first = yield* mergeThrough(f, index, value)
        const holder = new pg.Client({ connectionString: dbs.workspace.url })
        yield* Effect.promise(() => holder.connect())
        yield* Effect.addFinalizer(() => Effect.promise(() => holder.end()))
        const [locked] = yield* Effect.promise(() =>
          holder
            .query(
              `BEGIN; SELECT city FROM ${qualified(Company.workspaceTable)} WHERE company_unique_id = '${demoCompanyKey(index)}' FOR UPDATE`
            )
            .then((results) => (results as unknown as Array<pg.QueryResult>)[1]!.rows)
        )
        assert.strictEqual(locked?.city, value)
        return { ...first, release: Effect.promise(() => holder.query("COMMIT")) }
      })

    followerTest(
      "writes two batches at once, and acknowledges a position only once every merge before it is done",
      Effect.gen(function* () {
        const f = yield* run("t_follow_shared", { batchSize: 1, batchWaitMs: 0 })
        const first = yield* holdRow(f, 11, "First A")
        const held = yield* neonChange(11, "Held A")
        const beside = yield* neonChange(12, "Beside B")
        yield* Queue.offerAll(f.events, [held, beside])
        // the second batch is written while the first waits
        yield* until(
          "the second batch is merged",
          Effect.map(city(12), (c) => (c === "Beside B" ? c : undefined))
        )
        assert.notStrictEqual(yield* city(11), "Held A")
        // a later change of the held key waits for the batch that holds it
        const after = yield* neonChange(11, "After C")
        yield* Queue.offer(f.events, after)
        yield* sleepLive(300)
        assert.deepStrictEqual(
          yield* Ref.get(f.acks),
          [first.endLsn],
          "nothing acknowledged while a merge before it runs"
        )
        assert.strictEqual(yield* readReplicationProgress("t_follow_shared"), first.endLsn)
        yield* first.release
        const acks = yield* acknowledgedThrough(f, after, "the last is acknowledged")
        // in commit order, the held batch's position first
        assert.deepStrictEqual(
          acks,
          [...acks].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
          "acknowledged in order"
        )
        assert.deepStrictEqual(yield* cities(11, 12), ["After C", "Beside B"])
        yield* stopped(f)
      })
    )

    followerTest(
      "writes a batch of more than writeAloneAbove keys with no other batch beside it",
      Effect.gen(function* () {
        const f = yield* run("t_follow_alone", { batchSize: 1, batchWaitMs: 0, writeAloneAbove: 0 })
        const first = yield* holdRow(f, 13, "Alone First")
        yield* Queue.offerAll(f.events, [
          yield* neonChange(13, "Alone Held"),
          yield* neonChange(14, "Alone Next")
        ])
        yield* sleepLive(500)
        assert.notStrictEqual(yield* city(14), "Alone Next", "the next batch waits for the one in flight")
        yield* first.release
        yield* until(
          "both are merged",
          Effect.map(city(14), (c) => (c === "Alone Next" ? c : undefined))
        )
        assert.strictEqual(yield* city(13), "Alone Held")
        yield* stopped(f)
      })
    )

    followerTest(
      "plans nothing more while over two batches' worth of keys are read and not written: the next is read once one is written",
      Effect.gen(function* () {
        const f = yield* run("t_follow_budget", { batchSize: 1, batchWaitMs: 0 })
        // the row of the last batch, as the follower last wrote it (so its write is the clean one, of what
        // it read)
        yield* mergeThrough(f, 17, "Budget First C")
        const first = yield* holdRow(f, 15, "Budget First A")
        const second = yield* holdRow(f, 16, "Budget First B")
        const third = yield* holdRow(f, 21, "Budget First D")
        const last = yield* neonChange(17, "Budget Announced")
        // three batches of one key wait to be written (two batches' worth was not over the bound when the
        // third was planned); the fourth is not planned
        yield* Queue.offerAll(f.events, [
          yield* neonChange(15, "Budget Held A"),
          yield* neonChange(16, "Budget Held B"),
          yield* neonChange(21, "Budget Held D"),
          last
        ])
        yield* sleepLive(500)
        assert.notStrictEqual(yield* city(17), "Budget Announced", "three batches wait to be written")
        // Neon's row changes again while they wait: the last batch, not read yet, reads it
        yield* unannouncedNeonChange(17, "Budget Read Late")
        yield* first.release
        yield* second.release
        yield* third.release
        yield* acknowledgedThrough(f, last, "the last batch is acknowledged")
        assert.strictEqual(
          yield* city(17),
          "Budget Read Late",
          "read only once a batch before it was written"
        )
        assert.deepStrictEqual(yield* cities(15, 16, 21), ["Budget Held A", "Budget Held B", "Budget Held D"])
        yield* stopped(f)
      })
    )

    followerTest(
      "reads the next batches while the read of the batch before them waits for its transaction",
      Effect.gen(function* () {
        const dbs = yield* TwoDatabases
        const f = yield* run("t_follow_ahead", { batchSize: 1, batchWaitMs: 0 })
        // the row the next batch changes, as the follower last wrote it (so its write is the clean one)
        yield* mergeThrough(f, 19, "Ahead First")
        // a transaction the listener reports before it is visible (as logical decoding can): its read waits
        const open = new pg.Client({ connectionString: dbs.neon.url })
        yield* Effect.promise(() => open.connect())
        yield* Effect.addFinalizer(() => Effect.promise(() => open.end()))
        const xid = yield* Effect.promise(() =>
          open
            .query(
              `BEGIN; UPDATE ${qualified(Company.sourceTable)} SET city = 'Ahead Waiting' WHERE company_unique_id = '${demoCompanyKey(18)}' RETURNING xmin::text AS xid`
            )
            .then((results) => Number((results as unknown as Array<pg.QueryResult>)[1]!.rows[0]?.xid))
        )
        lsn += 0x100n
        const waiting = {
          _tag: "Changes",
          xid,
          commitLsn: lsn,
          endLsn: lsn + 0x10n,
          commitTime: new Date().toISOString().replace("Z", "000Z"),
          changes: [{ table: Company.sourceTable, op: "update", key: demoCompanyKey(18) }],
          truncated: [],
          last: true
        } satisfies ListenerEvent
        const next = yield* neonChange(19, "Ahead Announced")
        yield* Queue.offerAll(f.events, [waiting, next])
        yield* sleepLive(500)
        // the next batch was read meanwhile: a later change of its row (announced by an event of its own,
        // not sent here) is not in what it writes
        yield* unannouncedNeonChange(19, "Ahead Later")
        yield* Effect.promise(() => open.query("COMMIT"))
        const acks = yield* until(
          "both are acknowledged",
          Effect.gen(function* () {
            // the waiting read looks again at every tick of the test clock
            yield* TestClock.adjust("20 millis")
            const list = yield* Ref.get(f.acks)
            return list.at(-1) === next.endLsn ? list : undefined
          })
        )
        assert.deepStrictEqual(
          acks,
          [...acks].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
          "in order"
        )
        assert.strictEqual(yield* city(18), "Ahead Waiting")
        assert.strictEqual(yield* city(19), "Ahead Announced", "read while the batch before it waited")
        yield* stopped(f)
      })
    )

    followerTest(
      "skips what was applied before the start, acknowledging it; a stop finishes what was taken",
      Effect.gen(function* () {
        const old = yield* neonChange(6, "Seen Before")
        const fresh = yield* neonChange(7, "After Start")
        yield* writeReplicationProgress("t_follow_skip", old.commitLsn + 1n)
        const f = yield* run("t_follow_skip", { batchSize: 100, batchWaitMs: 0 })
        yield* Queue.offerAll(f.events, [old, fresh])
        yield* acknowledgedThrough(f, fresh, "both are acknowledged")
        assert.notStrictEqual(
          yield* city(6),
          "Seen Before",
          "a transaction before the recorded position is not merged"
        )
        assert.strictEqual(yield* city(7), "After Start")
        const drained = yield* stopped(f)
        assert.strictEqual(drained.acknowledged, fresh.endLsn)
      })
    )
  })
})
