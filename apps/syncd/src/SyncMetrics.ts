/**
 * What the daemon has done and where it stands, for `/readyz`, `/health`, `/metrics` and the logs.
 *
 * Invariant: counters only grow; every merge the daemon applies is counted exactly once, under its
 * direction and entity; gauges (lag, pending pushes, clock skew, role) hold the latest observation.
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

/** Which way a merge was asked for. */
export type Direction = "neon->workspace" | "workspace->neon" | "anti-entropy" | "reconcile"
const directions: ReadonlyArray<Direction> = [
  "neon->workspace",
  "workspace->neon",
  "anti-entropy",
  "reconcile"
]

/** The upper bounds (seconds) of the batch duration histogram's buckets. */
export const batchBuckets: ReadonlyArray<number> = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** What the daemon totals of every merge-apply's stats. */
const mergeTotals = ["inserted", "updated", "pushed", "conflicts", "promoted", "removed", "retries"] as const
type MergeTotals = Pick<ApplyStats, (typeof mergeTotals)[number]>

/** A snapshot of the daemon's counters and gauges (`MergeTotals`: summed over the merge-applies). */
export interface MetricsSnapshot extends MergeTotals {
  /** leading and following both sides */
  readonly live: boolean
  readonly role: "standby" | "leader"
  /** why this daemon could not try for the leader lock (Neon unreachable), when it could not */
  readonly lockProblem: string | null
  readonly startedAt: string
  readonly neonTransactions: number
  readonly neonKeys: number
  readonly workspaceKeys: number
  /** keys merged, per direction and entity (`neon->workspace/company`) */
  readonly merged: Readonly<Record<string, number>>
  readonly reconciles: number
  /** catch-ups of the workspace after Realtime gaps */
  readonly catchUps: number
  readonly antiEntropyRuns: number
  /** keys the anti-entropy passes found out of sync */
  readonly antiEntropyDifferences: number
  readonly lastAppliedLsn: string | null
  /** commit time of the last Neon transaction applied */
  readonly lastCommitTime: string | null
  /** when it was applied */
  readonly lastAppliedAt: string | null
  /** commit time of the oldest Neon transaction received and not yet applied (null: none waits) */
  readonly oldestPendingCommit: string | null
  /** bytes of WAL the slot has not confirmed (from Neon, observed every few seconds) */
  readonly lagBytes: number | null
  /** workspace rows edited and not yet merged, per entity */
  readonly pushesPending: Readonly<Record<string, number>>
  /** each server's clock minus this host's, in ms (last-writer-wins compares their clocks) */
  readonly clockSkewMs: { readonly neon: number | null; readonly workspace: number | null }
  /** batch durations: count per bucket of `batchBuckets` (cumulative), their sum and count */
  readonly batchSeconds: {
    readonly buckets: ReadonlyArray<number>
    readonly sum: number
    readonly count: number
  }
  /** records this daemon promoted to the master tables (ENRICH_SYNC_AUTO_PROMOTE) */
  readonly autoPromoted: number
  /** webhook events stored, delivered, failed attempts, and waiting in the outbox */
  readonly webhookQueued: number
  readonly webhookDelivered: number
  readonly webhookFailed: number
  readonly webhookPending: number
  /** the port of `/health` and `/metrics`, when served */
  readonly healthPort: number | null
}

/** Each merge total, as `value` gives it. */
const totalsOf = (value: (total: (typeof mergeTotals)[number]) => number): MergeTotals =>
  Object.fromEntries(mergeTotals.map((t) => [t, value(t)])) as Record<(typeof mergeTotals)[number], number>

const initial = (now: number): MetricsSnapshot => ({
  live: false,
  role: "standby",
  lockProblem: null,
  startedAt: new Date(now).toISOString(),
  neonTransactions: 0,
  neonKeys: 0,
  workspaceKeys: 0,
  merged: {},
  ...totalsOf(() => 0),
  reconciles: 0,
  catchUps: 0,
  antiEntropyRuns: 0,
  antiEntropyDifferences: 0,
  lastAppliedLsn: null,
  lastCommitTime: null,
  lastAppliedAt: null,
  oldestPendingCommit: null,
  lagBytes: null,
  pushesPending: {},
  clockSkewMs: { neon: null, workspace: null },
  batchSeconds: { buckets: batchBuckets.map(() => 0), sum: 0, count: 0 },
  autoPromoted: 0,
  webhookQueued: 0,
  webhookDelivered: 0,
  webhookFailed: 0,
  webhookPending: 0,
  healthPort: null
})

/** The daemon's counters and gauges. */
export class SyncMetrics extends Context.Service<
  SyncMetrics,
  {
    readonly snapshot: Effect.Effect<MetricsSnapshot>
    readonly update: (f: (m: MetricsSnapshot) => MetricsSnapshot) => Effect.Effect<void>
    /** counts what a merge-apply did, for a direction and entity, and how long its batch took */
    readonly merged: (
      stats: ApplyStats,
      where?: { readonly direction: Direction; readonly entity: string; readonly seconds?: number }
    ) => Effect.Effect<void>
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
        merged: (s, where) =>
          Ref.update(ref, (m) => {
            const key = where === undefined ? null : `${where.direction}/${where.entity}`
            const seconds = where?.seconds
            return {
              ...m,
              merged: key === null ? m.merged : { ...m.merged, [key]: (m.merged[key] ?? 0) + s.keys },
              ...totalsOf((t) => m[t] + s[t]),
              batchSeconds:
                seconds === undefined
                  ? m.batchSeconds
                  : {
                      buckets: batchBuckets.map(
                        (le, i) => m.batchSeconds.buckets[i]! + (seconds <= le ? 1 : 0)
                      ),
                      sum: m.batchSeconds.sum + seconds,
                      count: m.batchSeconds.count + 1
                    }
            }
          })
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

/** Seconds behind Neon: from the oldest transaction received and not yet applied to `now` (0 when none waits). */
export const lagSeconds = (m: MetricsSnapshot, now: number): number =>
  m.oldestPendingCommit === null ? 0 : Math.max(0, (now - Date.parse(m.oldestPendingCommit)) / 1000)

/** The snapshot's fields that are numbers. */
type NumberField = {
  [K in keyof MetricsSnapshot]: MetricsSnapshot[K] extends number ? K : never
}[keyof MetricsSnapshot]

/** The counters without labels: the snapshot field each reads, its name (after `enrich_sync_`) and help. */
const plainCounters = {
  neonTransactions: ["neon_transactions_total", "Neon transactions applied"],
  neonKeys: ["neon_keys_total", "keys changed on Neon and merged"],
  workspaceKeys: ["workspace_keys_total", "workspace rows edited and merged"],
  inserted: ["inserted_total", "workspace rows created"],
  updated: ["updated_total", "workspace rows updated"],
  pushed: ["pushed_total", "workspace edits pushed to Neon (and re-validated)"],
  conflicts: ["conflicts_total", "overwritten values (each is in sync_conflicts)"],
  autoPromoted: ["promoted_total", "records this daemon promoted to the master tables (auto-promote)"],
  promoted: ["marked_promoted_total", "workspace rows marked promoted"],
  webhookQueued: ["webhook_events_queued_total", "webhook events stored in the outbox"],
  webhookDelivered: ["webhook_events_delivered_total", "webhook events the receiver took (2xx)"],
  webhookFailed: ["webhook_events_failed_total", "webhook event deliveries that failed (tried again)"],
  removed: ["removed_total", "workspace rows marked removed"],
  retries: ["retries_total", "keys merged again after losing a race"],
  reconciles: ["reconciles_total", "full comparisons of both sides"],
  catchUps: ["catch_ups_total", "catch-ups of the workspace after Realtime may have missed changes"],
  antiEntropyRuns: ["anti_entropy_runs_total", "anti-entropy passes run"],
  antiEntropyDifferences: ["anti_entropy_differences_total", "keys anti-entropy passes found out of sync"]
} as const satisfies Partial<Record<NumberField, readonly [name: string, help: string]>>

/** Everything the daemon knows, in Prometheus text format. */
export const prometheus = (
  m: MetricsSnapshot,
  memory: ProcessMemory,
  extra: {
    readonly now: number
    readonly slot: string
    /** the entities this daemon syncs: every direction and entity has a series, 0 until something moves */
    readonly entities: ReadonlyArray<string>
    readonly realtime: Option.Option<SupabaseListenerStatus>
  }
): string => {
  const lines: Array<string> = []
  /** a metric family: its HELP and TYPE lines, then one line per sample (`suffix`: what follows the name) */
  const family = (
    name: string,
    type: "counter" | "gauge" | "histogram",
    help: string,
    samples: ReadonlyArray<readonly [suffix: string, value: number]>
  ) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
    for (const [suffix, value] of samples) lines.push(`${name}${suffix} ${value}`)
  }
  /** one of the daemon's own families (`enrich_sync_`), its samples told apart by their labels */
  const metric = (
    name: string,
    type: "counter" | "gauge",
    help: string,
    values: ReadonlyArray<readonly [labels: string, value: number]>
  ) => family(`enrich_sync_${name}`, type, help, values)
  /** a counter or gauge without labels */
  const counter = (name: string, help: string, value: number) => metric(name, "counter", help, [["", value]])
  const gauge = (name: string, help: string, value: number) => metric(name, "gauge", help, [["", value]])
  for (const [field, [name, help]] of Object.entries(plainCounters))
    counter(name, help, m[field as keyof typeof plainCounters])
  gauge("webhook_events_pending", "webhook events waiting in the outbox", m.webhookPending)
  metric(
    "rows_applied_total",
    "counter",
    "keys merged, by direction and entity",
    directions.flatMap((direction) =>
      extra.entities.map(
        (entity) =>
          [`{direction="${direction}",entity="${entity}"}`, m.merged[`${direction}/${entity}`] ?? 0] as const
      )
    )
  )
  const slot = `{slot="${extra.slot}"}`
  metric("lag_seconds", "gauge", "seconds since the oldest Neon commit received and not yet applied", [
    [slot, lagSeconds(m, extra.now)]
  ])
  if (m.lagBytes !== null)
    metric("lag_bytes", "gauge", "bytes of Neon WAL the slot has not confirmed", [[slot, m.lagBytes]])
  metric(
    "pushes_pending",
    "gauge",
    "workspace rows edited and not yet merged, by entity",
    Object.entries(m.pushesPending).map(([entity, n]) => [`{entity="${entity}"}`, n] as const)
  )
  metric(
    "clock_skew_seconds",
    "gauge",
    "a server's clock minus this host's (last-writer-wins compares their clocks)",
    (["neon", "workspace"] as const).flatMap((side) => {
      const ms = m.clockSkewMs[side]
      return ms === null ? [] : [[`{server="${side}"}`, ms / 1000] as const]
    })
  )
  const states = ["connecting", "joined", "live", "errored", "closed"] as const
  if (Option.isSome(extra.realtime)) {
    metric(
      "realtime_state",
      "gauge",
      "1 for the Realtime subscription's current state",
      states.map(
        (s) => [`{state="${s}"}`, extra.realtime.pipe(Option.getOrThrow).state === s ? 1 : 0] as const
      )
    )
  }
  family("enrich_sync_batch_duration_seconds", "histogram", "time to merge one batch on both sides", [
    ...batchBuckets.map((le, i) => [`_bucket{le="${le}"}`, m.batchSeconds.buckets[i]!] as const),
    ['_bucket{le="+Inf"}', m.batchSeconds.count],
    ["_sum", m.batchSeconds.sum],
    ["_count", m.batchSeconds.count]
  ])
  gauge("live", "1 while the daemon leads and follows both sides", m.live ? 1 : 0)
  metric("role", "gauge", "1 for this daemon's role", [
    ['{role="leader"}', m.role === "leader" ? 1 : 0],
    ['{role="standby"}', m.role === "standby" ? 1 : 0]
  ])
  if (m.lastCommitTime !== null && m.lastAppliedAt !== null) {
    const lag = (Date.parse(m.lastAppliedAt) - Date.parse(m.lastCommitTime)) / 1000
    gauge("neon_lag_seconds", "time from the last applied Neon commit to its apply", Math.max(0, lag))
  }
  family("process_resident_memory_bytes", "gauge", "resident memory of the daemon", [["", memory.rss]])
  gauge("heap_used_bytes", "JavaScript heap in use", memory.heapUsed)
  gauge(
    "external_memory_bytes",
    "memory held outside the JavaScript heap (Buffers among it)",
    memory.external
  )
  return `${lines.join("\n")}\n`
}
