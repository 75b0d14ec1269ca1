/**
 * What the leader watches and reports every few seconds: the slot's lag in bytes, the workspace edits
 * waiting to be merged, each server's clock against this host's (last-writer-wins compares their clocks: a
 * skew over 1 s is logged as a warning), and, while work flows, one summary line of what was applied in
 * each direction since the last one.
 *
 * Invariant: it only reads; a failed observation is skipped (the next one comes in a few seconds), never
 * a reason to stop the daemon.
 */
import { qualified } from "@enrich-sync/core"
import { type Database, SourceDatabase, WorkspaceDatabase } from "@enrich-sync/engine"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import { Loops } from "./Loops.ts"
import { Startup } from "./Startup.ts"
import { SyncdConfig } from "./SyncdConfig.ts"
import { type MetricsSnapshot, SyncMetrics } from "./SyncMetrics.ts"

/** How often the leader looks. */
const every = "5 seconds"

/** The server's clock minus this host's, in ms, taking the middle of the round trip as the moment. */
const skewOf = (db: Database) =>
  Effect.gen(function* () {
    const before = yield* Clock.currentTimeMillis
    const [row] = yield* db.query("SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS ms")
    const after = yield* Clock.currentTimeMillis
    return Math.round(Number(row?.ms) - (before + after) / 2)
  })

/** What moved between two snapshots, as one line (null: nothing did). */
export const summaryOf = (before: MetricsSnapshot, now: MetricsSnapshot) => {
  const fromNeon = now.neonKeys - before.neonKeys
  const fromWorkspace = now.workspaceKeys - before.workspaceKeys
  const pushed = now.pushed - before.pushed
  const conflicts = now.conflicts - before.conflicts
  const transactions = now.neonTransactions - before.neonTransactions
  if (fromNeon + fromWorkspace + pushed + conflicts + transactions === 0) return null
  return {
    msg: `applied ${fromNeon} Neon change(s) in ${transactions} transaction(s) to the workspace; merged ${fromWorkspace} workspace edit(s), ${pushed} pushed to Neon and re-validated; ${conflicts} conflict(s) logged`,
    fields: {
      neonKeys: fromNeon,
      workspaceKeys: fromWorkspace,
      pushed,
      conflicts,
      ...(now.lastAppliedLsn === null ? {} : { lsn: now.lastAppliedLsn })
    }
  }
}

/** The leader's observations, every few seconds, for the daemon's lifetime (a loop of `Loops`). */
export const observerLayer = Layer.effectDiscard(
  Effect.gen(function* () {
    yield* Startup
    const config = yield* SyncdConfig
    const metrics = yield* SyncMetrics
    const neon = yield* SourceDatabase
    const workspace = yield* WorkspaceDatabase
    const loops = yield* Loops
    let last = yield* metrics.snapshot
    let skewed = false
    const observe = Effect.gen(function* () {
      const [slot] = yield* neon.query(
        "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::float8 AS lag FROM pg_replication_slots WHERE slot_name = $1",
        [config.slot]
      )
      const pending: Record<string, number> = {}
      for (const entity of config.entities) {
        const [row] = yield* workspace.query(
          `SELECT count(*)::int AS n FROM ${qualified(entity.workspaceTable)} WHERE sync_dirty AND sync_state = 'active'`
        )
        pending[entity.name] = Number(row?.n ?? 0)
      }
      const skew = { neon: yield* skewOf(neon), workspace: yield* skewOf(workspace) }
      yield* metrics.update((m) => ({
        ...m,
        lagBytes: slot === undefined ? null : Math.max(0, Number(slot.lag)),
        pushesPending: pending,
        clockSkewMs: skew
      }))
      const worst = Math.max(Math.abs(skew.neon), Math.abs(skew.workspace))
      if (worst > 1000 && !skewed)
        yield* Effect.logWarning(
          `a server's clock is ${Math.round(worst / 100) / 10} s off this host's (Neon ${skew.neon} ms, workspace ${skew.workspace} ms): last-writer-wins compares edit times, so fix the clocks (NTP)`
        ).pipe(Effect.annotateLogs({ neonSkewMs: skew.neon, workspaceSkewMs: skew.workspace }))
      skewed = worst > 1000
    }).pipe(
      Effect.catch((e) => Effect.logDebug(`an observation failed: ${e.message}`)),
      Effect.andThen(
        Effect.gen(function* () {
          const now = yield* metrics.snapshot
          const summary = summaryOf(last, now)
          last = now
          if (summary !== null) yield* Effect.logInfo(summary.msg).pipe(Effect.annotateLogs(summary.fields))
        })
      )
    )
    yield* loops.run(Effect.repeat(observe, Schedule.spaced(every)))
  })
)
