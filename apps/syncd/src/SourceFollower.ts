/**
 * Neon to workspace: follows the replication slot, merges the keys each committed transaction touched,
 * and acknowledges.
 *
 * The databases and the daemon work in parallel: a planner reads and plans the next batches of keys
 * (`prepareKeys`, outside the merge lane: reads only), several at once, and hands them on in order, while a
 * writer writes them (`applyPrepared`, through the merge lane), up to `sharedMerges` at once (a batch of
 * more than `writeAloneAbove` keys alone). A batch is read only once the batches before it that hold any of
 * its keys are written, so the batches in flight never share a key, a key's merges stay one at a time in
 * arrival order (and the writes are compare-and-swap in any case). Across a WAN this keeps a batch from
 * waiting for the round trips of the reads and the writes before it.
 *
 * The next group of changes is planned only while fewer than `batchesInFlight` batches, and no more than two
 * batches' worth of keys, are read or being written and not yet written: meanwhile the group goes on filling
 * (rather than waiting in front of the writer as many small batches), and memory stays bounded by keys.
 *
 * A third, the acker, records and acknowledges positions while the writer goes on with the next batch; when
 * several are waiting it takes only the latest.
 *
 * Invariant: a position is acknowledged (and recorded as applied) only after every change up to it is
 * merged on both sides: the writer takes steps in commit order and hands a position to the acker with the
 * merges started before it, which the acker waits for; transactions at or before the recorded position are
 * skipped after a restart (PostgreSQL 15 may re-send them).
 *
 * ```
 * listener ─▶ planner: group events (a batch of keys), once there is room ─▶ keys per entity ─▶ batches ─▶ prepareKeys (several) ─┐
 *                                                                                                                              ▼ (in order, queue of 1)
 *                             writer: Merge (applyPrepared, sharedMerges at once) │ Reconcile │ Ack │ Restart
 *                                                                                                                              ▼ (in order)
 *                          acker: the latest Ack, once the merges before it are done (progress, then slot) │ Restart
 * ```
 */
import type { Entity, Lsn, MergePolicy } from "@enrich-sync/core"
import { formatLsn } from "@enrich-sync/core"
import type { DatabaseError, KeyChange, PreparedKeys } from "@enrich-sync/engine"
import {
  prepareKeys,
  readReplicationProgress,
  restartReplicationProgress,
  writeReplicationProgress
} from "@enrich-sync/engine"
import type { ListenerEvent } from "@enrich-sync/neon-listener"
import { NeonListener } from "@enrich-sync/neon-listener"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import * as Sink from "effect/Sink"
import * as Stream from "effect/Stream"
import { Endpoints } from "./Databases.ts"
import { Leadership } from "./Leadership.ts"
import { Loops } from "./Loops.ts"
import { sharedMerges } from "./MergeLane.ts"
import { mergeBatch, reconcile, transientRetry } from "./Reconcile.ts"
import { listenerConfig, Startup } from "./Startup.ts"
import { SyncdConfig } from "./SyncdConfig.ts"
import { SyncMetrics } from "./SyncMetrics.ts"

/** How the source follower batches, and when it stops. */
export interface SourceFollowerOptions {
  readonly slot: string
  readonly entities: ReadonlyArray<Entity>
  readonly policy: MergePolicy
  /** most keys per merge batch */
  readonly batchSize: number
  /** how long a batch may wait to fill */
  readonly batchWait: Duration.Duration
  /**
   * a batch of more keys is written with no other batch beside it (default 1,000): a large batch is bound by
   * the servers' work, not by round trips, and two at once would only hold twice the rows in memory
   */
  readonly writeAloneAbove?: number
  /** checked before each acknowledgement: fails when this daemon may no longer acknowledge (leadership) */
  readonly beforeAck: Effect.Effect<void, unknown>
  /** completed when the follower must stop taking new changes: it then finishes what it took, and returns */
  readonly stop: Deferred.Deferred<void>
}

/** What a follower that was asked to stop finished before returning. */
export interface Drained {
  /** batches written after the stop was asked */
  readonly batches: number
  /** the last position acknowledged, if any */
  readonly acknowledged: Lsn | null
}

/** What the writer does, in commit order. Each step completes `done` when it is finished. */
type Step =
  | {
      readonly _tag: "Merge"
      readonly entity: Entity
      readonly changes: ReadonlyArray<KeyChange>
      readonly prepared: PreparedKeys
      readonly done: Deferred.Deferred<void, DatabaseError>
    }
  | {
      readonly _tag: "Reconcile"
      readonly why: string
      readonly only: ReadonlyArray<Entity>
      readonly done: Deferred.Deferred<void, DatabaseError>
    }
  | {
      readonly _tag: "Ack"
      readonly position: Lsn
      readonly transactions: number
      readonly lastCommitTime: string | null
    }
  /** the slot was created anew at `position`: the recorded progress starts over there */
  | { readonly _tag: "Restart"; readonly position: Lsn }
  /** the listener's stream ended: nothing follows */
  | { readonly _tag: "End" }

/**
 * Batches read or being written, and not yet written, at most when the next group is planned: the writes
 * beside each other (`sharedMerges`) and the reads of the next two. At 20 ms round trips a batch's read and
 * its write each take about a round trip; more in flight would only wait in front of the writer, fewer
 * would read one batch at a time (figures in `bench/README.md`).
 */
const batchesInFlight = sharedMerges + 2

/** Follows Neon until interrupted (or a failure retrying cannot fix). */
export const followSource = (options: SourceFollowerOptions) =>
  Effect.gen(function* () {
    const listener = yield* NeonListener
    const metrics = yield* SyncMetrics
    const entityByTable = new Map<string, Entity>(
      options.entities.map((e) => [`${e.sourceTable.schema}.${e.sourceTable.name}`, e])
    )
    const direction = { policy: options.policy, direction: "neon->workspace" } as const
    let acknowledged: Lsn | null = null
    let drainedBatches = 0
    /** the first commit time of each group planned and not yet acknowledged, oldest first */
    const pendingCommits: Array<string> = []
    // recorded before this start: what the server may send again after a restart is skipped (PostgreSQL 15
    // may not have kept an advanced confirmed position); the stream itself only moves forward from here
    let applied = yield* readReplicationProgress(options.slot)
    const steps = yield* Queue.bounded<Step>(1)
    /** an acknowledgement with the merges started before it (it waits for them), a restart, the end */
    type AckerStep =
      | (Extract<Step, { _tag: "Ack" }> & { readonly after: ReadonlyArray<Written> })
      | Extract<Step, { _tag: "Restart" | "End" }>
    type Written = Deferred.Deferred<void, DatabaseError>
    const toAcker = yield* Queue.unbounded<AckerStep>()
    /** batches planned and not yet written, and their keys */
    const inFlight = { batches: 0, keys: 0 }
    /** completed when a batch is written, while the planner waits for room */
    let freed: Deferred.Deferred<void> | null = null
    /** waits until the next group may be planned (see the module header) */
    const room = Effect.gen(function* () {
      while (inFlight.batches >= batchesInFlight || inFlight.keys > 2 * options.batchSize) {
        freed ??= yield* Deferred.make<void>()
        yield* Deferred.await(freed)
      }
    })
    const written = (keys: number) =>
      Effect.suspend(() => {
        inFlight.batches--
        inFlight.keys -= keys
        const waiting = freed
        freed = null
        return waiting === null ? Effect.void : Deferred.succeed(waiting, undefined)
      })
    // keys of batches planned and not yet written, with the signal that they are
    const unwritten = new Map<string, Written>()
    let lastBarrier: Written | null = null
    /** merges the writer started and has not waited for yet, oldest first */
    let running: Array<Written> = []
    /** merges the writer started since it last handed an acknowledgement on */
    let sinceAck: Array<Written> = []
    /** waits for every merge started so far (failing as the first of them that failed) */
    const settle = Effect.suspend(() => {
      const all = running
      running = []
      return Effect.forEach(all, Deferred.await, { discard: true })
    })

    const merge = (step: Extract<Step, { _tag: "Merge" }>) =>
      Deferred.into(
        Effect.gen(function* () {
          yield* mergeBatch(step.entity, step.changes, direction, step.prepared)
          if (Deferred.isDoneUnsafe(options.stop)) drainedBatches++
          yield* metrics.update((m) => ({ ...m, neonKeys: m.neonKeys + step.changes.length }))
          for (const c of step.changes) if (unwritten.get(c.key) === step.done) unwritten.delete(c.key)
        }).pipe(Effect.ensuring(written(step.changes.length))),
        step.done
      )

    const write = (step: Exclude<Step, { _tag: "End" }>) =>
      Effect.gen(function* () {
        switch (step._tag) {
          case "Merge": {
            // beside the merges in flight (their keys are not this one's), at most `sharedMerges` of them, a
            // large one alone (waiting for one already done takes no time, and fails as it failed)
            const beside = step.changes.length > (options.writeAloneAbove ?? 1000) ? 1 : sharedMerges
            while (running.length >= beside) yield* Deferred.await(running.shift()!)
            yield* Effect.forkChild(merge(step))
            running.push(step.done)
            sinceAck.push(step.done)
            return
          }
          case "Ack": {
            // recorded and acknowledged by the acker once the merges before it are done, while the writer
            // goes on
            yield* Queue.offer(toAcker, { ...step, after: sinceAck })
            sinceAck = []
            return
          }
          case "Restart": {
            yield* settle
            yield* Queue.offer(toAcker, step)
            return
          }
          case "Reconcile": {
            yield* settle
            yield* Deferred.into(
              reconcile(step.why, { ...options, direction: "reconcile" }, step.only),
              step.done
            )
            return yield* Deferred.await(step.done)
          }
        }
      })

    /** Records and acknowledges `step` (the latest of a run of acknowledgements, covering `groups` groups). */
    const acknowledge = (step: Extract<Step, { _tag: "Ack" }>, groups: number) =>
      Effect.gen(function* () {
        const position = step.position
        yield* options.beforeAck
        yield* writeReplicationProgress(options.slot, position).pipe(Effect.retry(transientRetry))
        yield* listener.ack(position)
        acknowledged = position
        pendingCommits.splice(0, groups)
        const now = yield* Clock.currentTimeMillis
        yield* metrics.update((m) => ({
          ...m,
          neonTransactions: m.neonTransactions + step.transactions,
          lastAppliedLsn: formatLsn(position),
          lastCommitTime: step.lastCommitTime ?? m.lastCommitTime,
          lastAppliedAt: new Date(now).toISOString(),
          oldestPendingCommit: pendingCommits[0] ?? null
        }))
      })

    /** Takes what the writer handed over, in order; of consecutive acknowledgements only the latest is sent. */
    const acker = Effect.gen(function* () {
      while (true) {
        let run: { step: Extract<Step, { _tag: "Ack" }>; groups: number } | null = null
        const flush = Effect.suspend(() => {
          if (run === null) return Effect.void
          const { step, groups } = run
          run = null
          return acknowledge(step, groups)
        })
        for (const step of yield* Queue.takeAll(toAcker)) {
          switch (step._tag) {
            case "Ack":
              for (const merged of step.after) yield* Deferred.await(merged)
              run =
                run === null
                  ? { step, groups: 1 }
                  : {
                      step: {
                        ...step,
                        transactions: run.step.transactions + step.transactions,
                        lastCommitTime: step.lastCommitTime ?? run.step.lastCommitTime
                      },
                      groups: run.groups + 1
                    }
              break
            case "Restart":
              yield* flush
              yield* restartReplicationProgress(options.slot, step.position).pipe(
                Effect.retry(transientRetry)
              )
              break
            case "End":
              yield* flush
              return
          }
        }
        yield* flush
      }
    })

    /**
     * Plans one batch: its keys are the batch's from now on; returns the read of it, which waits for the
     * batches planned before it that hold any of its keys to be written.
     */
    const planBatch = (entity: Entity, changes: ReadonlyArray<KeyChange>) =>
      Effect.gen(function* () {
        const waits = new Set<Written>()
        for (const c of changes) {
          const pending = unwritten.get(c.key)
          if (pending !== undefined) waits.add(pending)
        }
        if (lastBarrier !== null) waits.add(lastBarrier)
        const done = yield* Deferred.make<void, DatabaseError>()
        for (const c of changes) unwritten.set(c.key, done)
        inFlight.batches++
        inFlight.keys += changes.length
        return Effect.gen(function* () {
          for (const w of waits) yield* Deferred.await(w)
          const prepared = yield* prepareKeys(entity, changes, { policy: options.policy }).pipe(
            Effect.retry(transientRetry)
          )
          return { _tag: "Merge", entity, changes, prepared, done } satisfies Step as Step
        })
      })

    const barrier = (why: string, only: ReadonlyArray<Entity>) =>
      Effect.gen(function* () {
        const done = yield* Deferred.make<void, DatabaseError>()
        lastBarrier = done
        return Effect.succeed<Step>({ _tag: "Reconcile", why, only, done })
      })

    /** Plans a group of events: what the writer is to do for it, in order, each step once it is read. */
    const planGroup = (group: ReadonlyArray<ListenerEvent>) =>
      Effect.gen(function* () {
        const planned: Array<Effect.Success<ReturnType<typeof planBatch>>> = []
        const first = group.find((e) => e._tag === "Changes")
        if (first !== undefined) {
          pendingCommits.push(first.commitTime)
          if (pendingCommits.length === 1)
            yield* metrics.update((m) => ({ ...m, oldestPendingCommit: first.commitTime }))
        }
        let keys = new Map<Entity, Map<string, { committedAt: string; xid: number }>>()
        let truncated = new Set<Entity>()
        let transactions = 0
        let lastCommitTime: string | null = null
        let ackAt: Lsn | null = null
        const flush = Effect.gen(function* () {
          for (const [entity, changes] of keys) {
            const list: Array<KeyChange> = [...changes].map(([key, c]) => ({
              key,
              committedAt: c.committedAt,
              xid: c.xid
            }))
            for (let i = 0; i < list.length; i += options.batchSize)
              planned.push(yield* planBatch(entity, list.slice(i, i + options.batchSize)))
          }
          for (const entity of truncated)
            planned.push(yield* barrier(`${entity.sourceTable.name} was truncated on Neon`, [entity]))
          keys = new Map()
          truncated = new Set()
        })
        for (const event of group) {
          if (event._tag === "SlotCreated") {
            yield* flush
            // a new slot: positions recorded for the old one mean nothing (a branch restore can put them lower)
            applied = null
            planned.push(Effect.succeed<Step>({ _tag: "Restart", position: event.position }))
            if (event.reason === "missing") {
              yield* Effect.logWarning(
                `the replication slot ${options.slot} was gone and has been created again at ${formatLsn(event.position)}: changes made meanwhile were not streamed, so both sides are reconciled in full`
              )
              planned.push(yield* barrier("the replication slot was recreated", options.entities))
            }
            continue
          }
          // after a restart the server may send again what was applied before: skip it (it would merge to nothing)
          if (applied === null || event.commitLsn >= applied) {
            for (const change of event.changes) {
              const e = entityByTable.get(`${change.table.schema}.${change.table.name}`)
              if (e === undefined) continue
              const forEntity = keys.get(e) ?? new Map<string, { committedAt: string; xid: number }>()
              keys.set(e, forEntity)
              forEntity.set(change.key, { committedAt: event.commitTime, xid: event.xid })
            }
            for (const t of event.truncated) {
              const e = entityByTable.get(`${t.schema}.${t.name}`)
              if (e !== undefined) truncated.add(e)
            }
            lastCommitTime = event.commitTime
          }
          if (event.last) transactions++
          ackAt = ackAt === null || event.endLsn > ackAt ? event.endLsn : ackAt
        }
        yield* flush
        if (ackAt !== null)
          planned.push(Effect.succeed<Step>({ _tag: "Ack", position: ackAt, transactions, lastCommitTime }))
        return planned
      })

    const writer = Effect.gen(function* () {
      while (true) {
        const step = yield* Queue.take(steps)
        if (step._tag === "End") {
          // the merges are the writer's children: they finish before it returns
          yield* settle
          return yield* Queue.offer(toAcker, step)
        }
        yield* write(step)
      }
    })
    const planner = listener.events.pipe(
      // asked to stop: take nothing more from the slot; what was taken is planned, written and acknowledged
      Stream.interruptWhen(Deferred.await(options.stop)),
      // a group ends when it holds a batch's worth of keys or has waited `batchWait`: small transactions
      // fill whole batches, and a large one is planned a chunk at a time (memory stays bounded by keys)
      Stream.aggregateWithin(
        Sink.fold(
          () => ({ events: [] as Array<ListenerEvent>, keys: 0 }),
          (group) => group.keys < options.batchSize,
          (group, event: ListenerEvent) =>
            Effect.sync(() => {
              group.events.push(event)
              group.keys += event._tag === "Changes" ? event.changes.length : 0
              return group
            })
        ),
        Schedule.spaced(options.batchWait)
      ),
      // while there is no room, the next group goes on filling
      Stream.mapEffect((group) => Effect.andThen(room, planGroup(group.events))),
      Stream.flattenIterable,
      // handed on in order: the steps planned are read (or, acknowledgements, made) at once, and handed on
      // one after the other
      Stream.mapEffect((read) => read, { concurrency: "unbounded" }),
      Stream.runForEach((step) => Queue.offer(steps, step)),
      Effect.andThen(Queue.offer(steps, { _tag: "End" }))
    )
    // any stage failing stops the others
    yield* Effect.all([planner, writer, acker], { concurrency: 3, discard: true })
    return { batches: drainedBatches, acknowledged } satisfies Drained
  })

/** The Neon listener on the slot, once the daemon has started (the slot exists, both sides reconciled). */
export const neonListenerLayer = Layer.unwrap(
  Effect.gen(function* () {
    yield* Startup
    const leadership = yield* Leadership
    return NeonListener.layer(
      listenerConfig(yield* SyncdConfig, yield* Endpoints, Effect.isSuccess(leadership.check))
    )
  })
)

/**
 * Follows Neon for the daemon's lifetime (a loop of `Loops`). On a stop (SIGTERM, SIGINT, lost leadership)
 * it first takes nothing more and finishes the batches it took, acknowledging them, within
 * ENRICH_SYNC_SHUTDOWN_SECONDS; past that the loop is interrupted (what is in flight rolls back).
 */
export const sourceFollowerLayer = Layer.effectDiscard(
  Effect.gen(function* () {
    const config = yield* SyncdConfig
    const loops = yield* Loops
    const leadership = yield* Leadership
    const listener = yield* NeonListener
    yield* (yield* SyncMetrics).watchListener(listener.status)
    const stop = yield* Deferred.make<void>()
    const drained = yield* Deferred.make<Drained>()
    yield* loops.run(
      followSource({
        slot: config.slot,
        entities: config.entities,
        policy: config.policy,
        batchSize: config.batchSize,
        batchWait: config.batchWait,
        beforeAck: leadership.check,
        stop
      }).pipe(
        Effect.tap((result) => Deferred.succeed(drained, result)),
        Effect.annotateLogs({ direction: "neon->workspace" })
      )
    )
    // runs before the loop is interrupted: finish what was taken, within the shutdown time
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        // a leader that lost its lock acknowledges nothing more: it stops at once
        if (!(yield* Effect.isSuccess(leadership.check))) return
        yield* Deferred.succeed(stop, undefined)
        const result = yield* Deferred.await(drained).pipe(Effect.timeoutOption(config.shutdownTimeout))
        const status = yield* listener.status
        yield* Option.match(result, {
          onNone: () =>
            Effect.logWarning(
              `stopping: the batch in flight did not finish within ${Duration.format(config.shutdownTimeout)}; it rolls back, and Neon keeps it for the next start (acknowledged through ${formatLsn(status.confirmed)})`
            ),
          onSome: (d) =>
            Effect.logInfo(
              `stopping: finished ${d.batches} batch(es) in flight; acknowledged through ${formatLsn(d.acknowledged ?? status.confirmed)}`
            ).pipe(Effect.annotateLogs(d.acknowledged === null ? {} : { lsn: formatLsn(d.acknowledged) }))
        })
      })
    )
  })
)
