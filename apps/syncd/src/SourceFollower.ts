/**
 * Neon to workspace: follows the replication slot, merges the keys each committed transaction touched,
 * and acknowledges.
 *
 * Invariant: a position is acknowledged (and recorded as applied) only after every change up to it is
 * merged on both sides; changes are batched (by count and time) but applied in commit order; transactions
 * at or before the recorded position are skipped after a restart (PostgreSQL 15 may re-send them).
 */
import type { Entity, Lsn, MergePolicy } from "@enrich-sync/core"
import { formatLsn, parseLsn } from "@enrich-sync/core"
import type { KeyChange } from "@enrich-sync/engine"
import { entities, WorkspaceDatabase } from "@enrich-sync/engine"
import type { ListenerEvent } from "@enrich-sync/neon-listener"
import { NeonListener } from "@enrich-sync/neon-listener"
import { type Duration, Effect, Stream } from "effect"
import { mergeKeys, reconcile, transientRetry } from "./Reconcile.ts"
import { SyncMetrics } from "./SyncMetrics.ts"

/** How the source follower batches. */
export interface SourceFollowerOptions {
  readonly slot: string
  readonly policy: MergePolicy
  /** most keys per merge batch */
  readonly batchSize: number
  /** how long a batch may wait to fill */
  readonly batchWait: Duration.Duration
}

const entityByTable = new Map<string, Entity>(
  entities.map((e) => [`${e.sourceTable.schema}.${e.sourceTable.name}`, e])
)

/** The position recorded as applied for a slot, if any. */
export const readProgress = (slot: string) =>
  WorkspaceDatabase.use((db) =>
    db.query(`SELECT applied_lsn::text AS lsn FROM enrich_sync.replication_progress WHERE slot = $1`, [slot])
  ).pipe(Effect.map(([row]) => (row === undefined ? null : parseLsn(String(row.lsn)))))

const writeProgress = (slot: string, position: Lsn) =>
  WorkspaceDatabase.use((db) =>
    db.query(
      `INSERT INTO enrich_sync.replication_progress (slot, applied_lsn) VALUES ($1, $2::pg_lsn)
       ON CONFLICT (slot) DO UPDATE SET applied_lsn = greatest(enrich_sync.replication_progress.applied_lsn, excluded.applied_lsn),
                                        updated_at = now()`,
      [slot, formatLsn(position)]
    )
  ).pipe(Effect.retry(transientRetry), Effect.asVoid)

/** Follows Neon until interrupted (or a failure retrying cannot fix). */
export const followSource = (options: SourceFollowerOptions) =>
  Effect.gen(function* () {
    const listener = yield* NeonListener
    const metrics = yield* SyncMetrics
    let applied = yield* readProgress(options.slot)

    const applyGroup = (group: ReadonlyArray<ListenerEvent>) =>
      Effect.gen(function* () {
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
            yield* mergeKeys(entity, list, options)
            yield* metrics.update((m) => ({ ...m, neonKeys: m.neonKeys + list.length }))
          }
          for (const entity of truncated)
            yield* reconcile(`${entity.sourceTable.name} was truncated on Neon`, options, [entity])
          keys = new Map()
          truncated = new Set()
        })
        for (const event of group) {
          if (event._tag === "SlotCreated") {
            yield* flush
            if (event.reason === "missing") {
              yield* Effect.logWarning(
                `the replication slot ${options.slot} was gone and has been created again at ${formatLsn(event.position)}: changes made meanwhile were not streamed, so both sides are reconciled in full`
              )
              yield* reconcile("the replication slot was recreated", options)
            }
            continue
          }
          // after a restart the server may send again what was applied before: skip it (it would merge to nothing)
          if (applied === null || event.commitLsn >= applied) {
            const entity = entityByTable
            for (const change of event.changes) {
              const e = entity.get(`${change.table.schema}.${change.table.name}`)
              if (e === undefined) continue
              const forEntity = keys.get(e) ?? new Map<string, { committedAt: string; xid: number }>()
              keys.set(e, forEntity)
              forEntity.set(change.key, { committedAt: event.commitTime, xid: event.xid })
            }
            for (const t of event.truncated) {
              const e = entity.get(`${t.schema}.${t.name}`)
              if (e !== undefined) truncated.add(e)
            }
            lastCommitTime = event.commitTime
          }
          if (event.last) transactions++
          ackAt = ackAt === null || event.endLsn > ackAt ? event.endLsn : ackAt
        }
        yield* flush
        if (ackAt !== null) {
          yield* writeProgress(options.slot, ackAt)
          applied = applied === null || ackAt > applied ? ackAt : applied
          yield* listener.ack(ackAt)
          const position = ackAt
          yield* metrics.update((m) => ({
            ...m,
            neonTransactions: m.neonTransactions + transactions,
            lastAppliedLsn: formatLsn(position),
            lastCommitTime: lastCommitTime ?? m.lastCommitTime,
            lastAppliedAt: new Date().toISOString()
          }))
        }
      })

    yield* listener.events.pipe(
      Stream.groupedWithin(256, options.batchWait),
      Stream.runForEach((group) => applyGroup(group))
    )
  })
