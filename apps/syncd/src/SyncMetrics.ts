/**
 * What the daemon has done, for the health endpoint, the metrics endpoint and the logs.
 *
 * Invariant: counters only grow; every merge the daemon applies is counted exactly once.
 */
import type { ApplyStats } from "@enrich-sync/engine"
import type { ListenerStatus } from "@enrich-sync/neon-listener"
import type { SupabaseListenerStatus } from "@enrich-sync/supabase-listener"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"

/** A snapshot of the daemon's counters. */
export interface MetricsSnapshot {
  readonly live: boolean
  readonly startedAt: string
  readonly neonTransactions: number
  readonly neonKeys: number
  readonly workspaceKeys: number
  readonly inserted: number
  readonly updated: number
  readonly pushed: number
  readonly conflicts: number
  readonly promoted: number
  readonly removed: number
  readonly retries: number
  readonly reconciles: number
  /** catch-ups of the workspace after Realtime gaps */
  readonly catchUps: number
  readonly lastAppliedLsn: string | null
  /** commit time of the last Neon transaction applied */
  readonly lastCommitTime: string | null
  /** when it was applied */
  readonly lastAppliedAt: string | null
  /** the port of `/health` and `/metrics`, when served */
  readonly healthPort: number | null
}

const initial = (now: number): MetricsSnapshot => ({
  live: false,
  startedAt: new Date(now).toISOString(),
  neonTransactions: 0,
  neonKeys: 0,
  workspaceKeys: 0,
  inserted: 0,
  updated: 0,
  pushed: 0,
  conflicts: 0,
  promoted: 0,
  removed: 0,
  retries: 0,
  reconciles: 0,
  catchUps: 0,
  lastAppliedLsn: null,
  lastCommitTime: null,
  lastAppliedAt: null,
  healthPort: null
})

/** The daemon's counters. */
export class SyncMetrics extends Context.Service<
  SyncMetrics,
  {
    readonly snapshot: Effect.Effect<MetricsSnapshot>
    readonly update: (f: (m: MetricsSnapshot) => MetricsSnapshot) => Effect.Effect<void>
    /** counts what a merge-apply did */
    readonly merged: (stats: ApplyStats) => Effect.Effect<void>
    /** the Neon listener's status, once it runs */
    readonly watchListener: (status: Effect.Effect<ListenerStatus>) => Effect.Effect<void>
    readonly listener: Effect.Effect<Option.Option<ListenerStatus>>
    /** the Realtime subscription's status, once it runs */
    readonly watchRealtime: (status: Effect.Effect<SupabaseListenerStatus>) => Effect.Effect<void>
    readonly realtime: Effect.Effect<Option.Option<SupabaseListenerStatus>>
  }
>()("@enrich-sync/syncd/SyncMetrics") {
  static readonly layer = Layer.effect(
    SyncMetrics,
    Effect.gen(function* () {
      const ref = yield* Ref.make(initial(yield* Clock.currentTimeMillis))
      const listener = yield* Ref.make(Option.none<Effect.Effect<ListenerStatus>>())
      const realtime = yield* Ref.make(Option.none<Effect.Effect<SupabaseListenerStatus>>())
      const read = <A>(source: Ref.Ref<Option.Option<Effect.Effect<A>>>) =>
        Effect.flatMap(Ref.get(source), (status) =>
          Option.match(status, {
            onNone: () => Effect.succeed(Option.none<A>()),
            onSome: (s) => Effect.map(s, Option.some)
          })
        )
      return SyncMetrics.of({
        snapshot: Ref.get(ref),
        update: (f) => Ref.update(ref, f),
        watchListener: (status) => Ref.set(listener, Option.some(status)),
        listener: read(listener),
        watchRealtime: (status) => Ref.set(realtime, Option.some(status)),
        realtime: read(realtime),
        merged: (s) =>
          Ref.update(ref, (m) => ({
            ...m,
            inserted: m.inserted + s.inserted,
            updated: m.updated + s.updated,
            pushed: m.pushed + s.pushed,
            conflicts: m.conflicts + s.conflicts,
            promoted: m.promoted + s.promoted,
            removed: m.removed + s.removed,
            retries: m.retries + s.retries
          }))
      })
    })
  )
}

/** The process' memory, in bytes (`process.memoryUsage()`). */
export interface ProcessMemory {
  /** resident set size */
  readonly rss: number
  readonly heapTotal: number
  readonly heapUsed: number
  /** memory of C++ objects bound to JavaScript ones, Buffers among them */
  readonly external: number
  readonly arrayBuffers: number
}

/** The snapshot, and the process' memory, in Prometheus text format. */
export const prometheus = (m: MetricsSnapshot, memory: ProcessMemory): string => {
  const lines: Array<string> = []
  const counter = (name: string, help: string, value: number) =>
    lines.push(
      `# HELP enrich_sync_${name} ${help}`,
      `# TYPE enrich_sync_${name} counter`,
      `enrich_sync_${name} ${value}`
    )
  counter("neon_transactions_total", "Neon transactions applied", m.neonTransactions)
  counter("neon_keys_total", "keys changed on Neon and merged", m.neonKeys)
  counter("workspace_keys_total", "workspace rows edited and merged", m.workspaceKeys)
  counter("inserted_total", "workspace rows created", m.inserted)
  counter("updated_total", "workspace rows updated", m.updated)
  counter("pushed_total", "workspace edits pushed to Neon", m.pushed)
  counter("conflicts_total", "conflicting edits resolved (losing values are in sync_conflicts)", m.conflicts)
  counter("promoted_total", "workspace rows marked promoted", m.promoted)
  counter("removed_total", "workspace rows marked removed", m.removed)
  counter("retries_total", "keys merged again after losing a race", m.retries)
  counter("reconciles_total", "full comparisons of both sides", m.reconciles)
  counter("catch_ups_total", "catch-ups of the workspace after Realtime may have missed changes", m.catchUps)
  lines.push(
    "# HELP enrich_sync_live 1 once the daemon is following both sides",
    "# TYPE enrich_sync_live gauge",
    `enrich_sync_live ${m.live ? 1 : 0}`
  )
  if (m.lastCommitTime !== null && m.lastAppliedAt !== null) {
    const lag = (Date.parse(m.lastAppliedAt) - Date.parse(m.lastCommitTime)) / 1000
    lines.push(
      "# HELP enrich_sync_neon_lag_seconds time from the last applied Neon commit to its apply",
      "# TYPE enrich_sync_neon_lag_seconds gauge",
      `enrich_sync_neon_lag_seconds ${Math.max(0, lag)}`
    )
  }
  lines.push(
    "# HELP process_resident_memory_bytes resident memory of the daemon",
    "# TYPE process_resident_memory_bytes gauge",
    `process_resident_memory_bytes ${memory.rss}`,
    "# HELP enrich_sync_heap_used_bytes JavaScript heap in use",
    "# TYPE enrich_sync_heap_used_bytes gauge",
    `enrich_sync_heap_used_bytes ${memory.heapUsed}`,
    "# HELP enrich_sync_external_memory_bytes memory held outside the JavaScript heap (Buffers among it)",
    "# TYPE enrich_sync_external_memory_bytes gauge",
    `enrich_sync_external_memory_bytes ${memory.external}`
  )
  return `${lines.join("\n")}\n`
}
