/**
 * Neon to workspace: follows the replication slot, merges the keys each committed transaction touched,
 * and acknowledges.
 *
 * Two stages run at once, so the databases and the daemon work in parallel: a planner reads and plans the
 * next batch of keys (`prepareKeys`, outside the merge lane: reads only) while a writer writes the batch
 * before it (`applyPrepared`, through the merge lane), in order. The planner never reads a key that a
 * batch still waiting to be written holds: it waits for that batch first, so a key's merges stay one at a
 * time in arrival order (and the writes are compare-and-swap in any case).
 *
 * A third, the acker, records and acknowledges positions while the writer goes on with the next batch; when
 * several are waiting it takes only the latest.
 *
 * Invariant: a position is acknowledged (and recorded as applied) only after every change up to it is
 * merged on both sides: the writer takes steps in commit order and hands a position to the acker only after
 * the merges of its transactions; transactions at or before the recorded position are skipped after a
 * restart (PostgreSQL 15 may re-send them).
 *
 * ```
 * listener ─▶ planner: group events (a batch of keys) ─▶ keys per entity ─▶ batches ─▶ prepareKeys ─┐
 *                                                                                                     ▼ (queue of 1)
 *                                                     writer: Merge (applyPrepared) │ Reconcile │ Ack │ Restart
 *                                                                                                     ▼ (in order)
 *                                                     acker: the latest Ack (progress, then slot) │ Restart
 * ```
 */
import type { Entity, Lsn, MergePolicy } from "@enrich-sync/core"
import { formatLsn } from "@enrich-sync/core"
import type { KeyChange, PreparedKeys } from "@enrich-sync/engine"
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
      readonly done: Deferred.Deferred<void>
    }
  | {
      readonly _tag: "Reconcile"
      readonly why: string
      readonly only: ReadonlyArray<Entity>
      readonly done: Deferred.Deferred<void>
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
    const toAcker = yield* Queue.unbounded<Extract<Step, { _tag: "Ack" | "Restart" | "End" }>>()
    // keys of batches planned and not yet written, with the signal that they are
    const unwritten = new Map<string, Deferred.Deferred<void>>()
    let lastBarrier: Deferred.Deferred<void> | null = null

    const write = (step: Exclude<Step, { _tag: "End" }>) =>
      Effect.gen(function* () {
        switch (step._tag) {
          case "Merge": {
            yield* mergeBatch(step.entity, step.changes, direction, step.prepared)
            if (Deferred.isDoneUnsafe(options.stop)) drainedBatches++
            yield* metrics.update((m) => ({ ...m, neonKeys: m.neonKeys + step.changes.length }))
            for (const c of step.changes) if (unwritten.get(c.key) === step.done) unwritten.delete(c.key)
            yield* Deferred.succeed(step.done, undefined)
            return
          }
          case "Restart":
          case "Ack": {
            // recorded and acknowledged by the acker, in this order, while the writer goes on
            yield* Queue.offer(toAcker, step)
            return
          }
          case "Reconcile": {
            yield* reconcile(step.why, { ...options, direction: "reconcile" }, step.only)
            yield* Deferred.succeed(step.done, undefined)
            return
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

    /** Reads and plans one batch, after the batches that hold any of its keys are written, and queues it. */
    const planBatch = (entity: Entity, changes: ReadonlyArray<KeyChange>) =>
      Effect.gen(function* () {
        const waits = new Set<Deferred.Deferred<void>>()
        for (const c of changes) {
          const pending = unwritten.get(c.key)
          if (pending !== undefined) waits.add(pending)
        }
        if (lastBarrier !== null) waits.add(lastBarrier)
        for (const w of waits) yield* Deferred.await(w)
        const prepared = yield* prepareKeys(entity, changes, { policy: options.policy }).pipe(
          Effect.retry(transientRetry)
        )
        const done = yield* Deferred.make<void>()
        for (const c of changes) unwritten.set(c.key, done)
        yield* Queue.offer(steps, { _tag: "Merge", entity, changes, prepared, done })
      })

    const barrier = (why: string, only: ReadonlyArray<Entity>) =>
      Effect.gen(function* () {
        const done = yield* Deferred.make<void>()
        lastBarrier = done
        yield* Queue.offer(steps, { _tag: "Reconcile", why, only, done })
      })

    const planGroup = (group: ReadonlyArray<ListenerEvent>) =>
      Effect.gen(function* () {
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
              yield* planBatch(entity, list.slice(i, i + options.batchSize))
          }
          for (const entity of truncated)
            yield* barrier(`${entity.sourceTable.name} was truncated on Neon`, [entity])
          keys = new Map()
          truncated = new Set()
        })
        for (const event of group) {
          if (event._tag === "SlotCreated") {
            yield* flush
            // a new slot: positions recorded for the old one mean nothing (a branch restore can put them lower)
            applied = null
            yield* Queue.offer(steps, { _tag: "Restart", position: event.position })
            if (event.reason === "missing") {
              yield* Effect.logWarning(
                `the replication slot ${options.slot} was gone and has been created again at ${formatLsn(event.position)}: changes made meanwhile were not streamed, so both sides are reconciled in full`
              )
              yield* barrier("the replication slot was recreated", options.entities)
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
          yield* Queue.offer(steps, { _tag: "Ack", position: ackAt, transactions, lastCommitTime })
      })

    const writer = Effect.gen(function* () {
      while (true) {
        const step = yield* Queue.take(steps)
        if (step._tag === "End") return yield* Queue.offer(toAcker, step)
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
      Stream.runForEach((group) => planGroup(group.events)),
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
