/**
 * The daemon's counters and the Prometheus text of `/metrics`: a merge is counted once under its direction
 * and entity, every direction and entity has a series from the start, the lag is measured from the oldest
 * commit still waiting, families without data are left out, and nothing but numbers and fixed labels is
 * written (no error text, so no connection string).
 */
import { assert, describe, it } from "@effect/vitest"
import { type ApplyStats, emptyStats } from "@enrich-sync/engine"
import type { SupabaseListenerStatus } from "@enrich-sync/supabase-listener"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as TestClock from "effect/testing/TestClock"
import {
  batchBuckets,
  lagSeconds,
  type MetricsSnapshot,
  type ProcessMemory,
  prometheus,
  SyncMetrics
} from "../src/SyncMetrics.ts"
import { listenerStatus } from "./support/ListenerStatus.ts"

/** Runs `f` against a fresh `SyncMetrics` (built at the test clock's time). */
const withMetrics = <A>(f: (metrics: SyncMetrics["Service"]) => Effect.Effect<A>) =>
  Effect.flatMap(SyncMetrics, f).pipe(Effect.provide(SyncMetrics.layer))

/** A fresh snapshot, as the daemon starts. */
const fresh = withMetrics((metrics) => metrics.snapshot)

/** What one merge-apply did: nothing, but what is given. */
const stats = (s: Partial<ApplyStats>): ApplyStats => ({ ...emptyStats(), ...s })

/** Memory figures no other number in the text has. */
const memory: ProcessMemory = {
  rss: 123_456_789,
  heapTotal: 98_765_432,
  heapUsed: 45_678_901,
  external: 3_456_789,
  arrayBuffers: 234_567
}

const entities = ["company", "people"]
const now = Date.parse("2025-03-01T12:00:00.000Z")

const text = (m: MetricsSnapshot, realtime = Option.none<SupabaseListenerStatus>()) =>
  prometheus(m, memory, { now, slot: "enrich_sync", entities, realtime })

/** The samples of a Prometheus text: series (name and labels) to value. */
const samplesOf = (metrics: string): ReadonlyMap<string, number> =>
  new Map(
    metrics
      .split("\n")
      .filter((line) => line !== "" && !line.startsWith("#"))
      .map((line) => {
        const space = line.lastIndexOf(" ")
        return [line.slice(0, space), Number(line.slice(space + 1))] as const
      })
  )

/** The series of a family with labels, in the order written. */
const seriesOf = (metrics: string, name: string) =>
  [...samplesOf(metrics).keys()].filter((series) => series.startsWith(`${name}{`))

/** The lines of a family: HELP, TYPE and samples (a histogram's too). */
const familyLines = (metrics: string, name: string) =>
  metrics
    .split("\n")
    .filter(
      (line) =>
        line.startsWith(`# HELP ${name} `) || line.startsWith(`# TYPE ${name} `) || line.startsWith(name)
    )

const realtimeStatus = (state: SupabaseListenerStatus["state"]): SupabaseListenerStatus => ({
  state,
  subscribed: 1,
  events: 0,
  ownWrites: 0,
  catchUps: 0,
  pending: 0,
  lastError: null
})

describe("SyncMetrics", () => {
  it.effect(
    "starts as a standby, not live, at the clock's time, with every counter at 0 and no position",
    () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(now)
        const m = yield* fresh
        assert.strictEqual(m.startedAt, "2025-03-01T12:00:00.000Z")
        assert.strictEqual(m.role, "standby")
        assert.isFalse(m.live)
        assert.isNull(m.lockProblem)
        const counters = Object.entries(m).filter(([, value]) => typeof value === "number")
        assert.isAbove(counters.length, 15)
        for (const [name, value] of counters) assert.strictEqual(value, 0, name)
        assert.deepStrictEqual(
          [
            m.lastAppliedLsn,
            m.lastCommitTime,
            m.lastAppliedAt,
            m.oldestPendingCommit,
            m.lagBytes,
            m.healthPort
          ],
          [null, null, null, null, null, null]
        )
        assert.deepStrictEqual(m.merged, {})
        assert.deepStrictEqual(m.pushesPending, {})
        assert.deepStrictEqual(m.clockSkewMs, { neon: null, workspace: null })
        assert.deepStrictEqual(m.batchSeconds, { buckets: batchBuckets.map(() => 0), sum: 0, count: 0 })
      })
  )

  it.effect("counts each merge's keys under its direction and entity and adds up every merge total", () =>
    withMetrics((metrics) =>
      Effect.gen(function* () {
        const where = { direction: "neon->workspace", entity: "company" } as const
        yield* metrics.merged(stats({ keys: 5, inserted: 2, updated: 3, conflicts: 1 }), where)
        yield* metrics.merged(
          stats({ keys: 4, updated: 1, pushed: 4, promoted: 2, removed: 1, retries: 3 }),
          where
        )
        yield* metrics.merged(stats({ keys: 2, pushed: 2 }), {
          direction: "workspace->neon",
          entity: "people"
        })
        // without a direction (a one-off merge): the totals, but no series
        yield* metrics.merged(stats({ keys: 9, inserted: 1 }))
        const m = yield* metrics.snapshot
        assert.deepStrictEqual(m.merged, { "neon->workspace/company": 9, "workspace->neon/people": 2 })
        assert.deepStrictEqual(
          [m.inserted, m.updated, m.pushed, m.conflicts, m.promoted, m.removed, m.retries],
          [3, 4, 6, 1, 2, 1, 3]
        )
        // a merge-apply's stats do not count as Neon transactions, workspace edits or auto-promotions
        assert.deepStrictEqual(
          [m.neonTransactions, m.neonKeys, m.workspaceKeys, m.autoPromoted],
          [0, 0, 0, 0]
        )
      })
    )
  )

  it.effect(
    "puts a batch's duration in every bucket at or above it, and counts only merges that were timed",
    () =>
      withMetrics((metrics) =>
        Effect.gen(function* () {
          const where = (seconds: number) => ({ direction: "reconcile", entity: "company", seconds }) as const
          yield* metrics.merged(stats({ keys: 1 }), where(0.05))
          yield* metrics.merged(stats({ keys: 1 }), where(0.3))
          yield* metrics.merged(stats({ keys: 1 }), where(20))
          yield* metrics.merged(stats({ keys: 1 }), { direction: "reconcile", entity: "company" })
          const m = yield* metrics.snapshot
          const at = (le: number) => m.batchSeconds.buckets[batchBuckets.indexOf(le)]
          // a bucket's bound is included: 0.05 s is in le="0.05"
          assert.deepStrictEqual([at(0.025), at(0.05), at(0.25), at(0.5), at(10)], [0, 1, 1, 2, 2])
          assert.strictEqual(m.batchSeconds.count, 3)
          assert.closeTo(m.batchSeconds.sum, 20.35, 1e-9)
          assert.strictEqual(m.merged["reconcile/company"], 4)
        })
      )
  )

  it.effect(
    "reports no listener or Realtime until one is watched, then its status as it is at each read",
    () =>
      withMetrics((metrics) =>
        Effect.gen(function* () {
          assert.isTrue(Option.isNone(yield* metrics.listener))
          assert.isTrue(Option.isNone(yield* metrics.realtime))
          const neon = yield* Ref.make(listenerStatus("connecting"))
          const realtime = yield* Ref.make(realtimeStatus("joined"))
          yield* metrics.watchListener(Ref.get(neon))
          yield* metrics.watchRealtime(Ref.get(realtime))
          assert.strictEqual(Option.getOrThrow(yield* metrics.listener).state, "connecting")
          assert.strictEqual(Option.getOrThrow(yield* metrics.realtime).state, "joined")
          yield* Ref.set(neon, listenerStatus("streaming"))
          yield* Ref.set(realtime, realtimeStatus("live"))
          assert.strictEqual(Option.getOrThrow(yield* metrics.listener).state, "streaming")
          assert.strictEqual(Option.getOrThrow(yield* metrics.realtime).state, "live")
        })
      )
  )
})

describe("prometheus", () => {
  it.effect(
    "writes each family's HELP and TYPE lines once, before its samples, and ends with a newline",
    () =>
      Effect.gen(function* () {
        const m = yield* fresh
        const metrics = text(
          {
            ...m,
            lagBytes: 10,
            pushesPending: { company: 1, people: 2 },
            clockSkewMs: { neon: 5, workspace: 6 },
            lastCommitTime: "2025-03-01T11:59:59.000Z",
            lastAppliedAt: "2025-03-01T12:00:00.000Z"
          },
          Option.some(realtimeStatus("live"))
        )
        assert.isTrue(metrics.endsWith("\n") && !metrics.endsWith("\n\n"))
        const lines = metrics.trimEnd().split("\n")
        const helps = lines.filter((l) => l.startsWith("# HELP ")).map((l) => l.split(" ")[2]!)
        const types = lines.filter((l) => l.startsWith("# TYPE ")).map((l) => l.split(" ")[2]!)
        assert.deepStrictEqual(types, helps, "a TYPE line for each HELP line, in the same order")
        assert.strictEqual(new Set(helps).size, helps.length, `a family named twice: ${helps.join(" ")}`)
        let family: string | undefined
        for (const [i, line] of lines.entries()) {
          if (line.startsWith("# HELP ")) {
            family = line.split(" ")[2]
            assert.strictEqual(lines[i + 1]?.split(" ").slice(0, 3).join(" "), `# TYPE ${family}`)
          } else if (!line.startsWith("#")) {
            assert.isDefined(family, line)
            assert.isTrue(line.startsWith(family!), `${line} is not a sample of ${family}`)
            assert.match(line, /^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?\d+(\.\d+)?(e-?\d+)?$/)
          }
        }
        const typeOf = (name: string) => lines.find((l) => l.startsWith(`# TYPE ${name} `))?.split(" ")[3]
        assert.strictEqual(typeOf("enrich_sync_rows_applied_total"), "counter")
        assert.strictEqual(typeOf("enrich_sync_lag_seconds"), "gauge")
        assert.strictEqual(typeOf("enrich_sync_batch_duration_seconds"), "histogram")
        assert.strictEqual(typeOf("process_resident_memory_bytes"), "gauge")
      })
  )

  it.effect("has a series for every direction and entity from the start, 0 until keys move", () =>
    withMetrics((metrics) =>
      Effect.gen(function* () {
        const start = text(yield* metrics.snapshot)
        const series = seriesOf(start, "enrich_sync_rows_applied_total")
        assert.deepStrictEqual(series, [
          'enrich_sync_rows_applied_total{direction="neon->workspace",entity="company"}',
          'enrich_sync_rows_applied_total{direction="neon->workspace",entity="people"}',
          'enrich_sync_rows_applied_total{direction="workspace->neon",entity="company"}',
          'enrich_sync_rows_applied_total{direction="workspace->neon",entity="people"}',
          'enrich_sync_rows_applied_total{direction="anti-entropy",entity="company"}',
          'enrich_sync_rows_applied_total{direction="anti-entropy",entity="people"}',
          'enrich_sync_rows_applied_total{direction="reconcile",entity="company"}',
          'enrich_sync_rows_applied_total{direction="reconcile",entity="people"}'
        ])
        assert.deepStrictEqual(
          series.map((s) => samplesOf(start).get(s)),
          series.map(() => 0)
        )
        yield* metrics.merged(stats({ keys: 7 }), { direction: "workspace->neon", entity: "people" })
        const after = samplesOf(text(yield* metrics.snapshot))
        assert.deepStrictEqual(
          series.map((s) => after.get(s)),
          [0, 0, 0, 7, 0, 0, 0, 0]
        )
      })
    )
  )

  it.effect("writes each counter and gauge of the snapshot under its own name", () =>
    Effect.gen(function* () {
      const m = yield* fresh
      const samples = samplesOf(
        text({
          ...m,
          neonTransactions: 101,
          neonKeys: 102,
          workspaceKeys: 103,
          inserted: 104,
          updated: 105,
          pushed: 106,
          conflicts: 107,
          autoPromoted: 108,
          promoted: 109,
          webhookQueued: 110,
          webhookDelivered: 111,
          webhookFailed: 112,
          webhookPending: 113,
          removed: 114,
          retries: 115,
          reconciles: 116,
          catchUps: 117,
          antiEntropyRuns: 118,
          antiEntropyDifferences: 119
        })
      )
      const names = [
        "neon_transactions_total",
        "neon_keys_total",
        "workspace_keys_total",
        "inserted_total",
        "updated_total",
        "pushed_total",
        "conflicts_total",
        // the records this daemon promoted to the master tables, not the workspace rows marked promoted
        "promoted_total",
        "marked_promoted_total",
        "webhook_events_queued_total",
        "webhook_events_delivered_total",
        "webhook_events_failed_total",
        "webhook_events_pending",
        "removed_total",
        "retries_total",
        "reconciles_total",
        "catch_ups_total",
        "anti_entropy_runs_total",
        "anti_entropy_differences_total"
      ]
      assert.deepStrictEqual(
        names.map((name) => samples.get(`enrich_sync_${name}`)),
        names.map((_, i) => 101 + i)
      )
    })
  )

  it.effect("measures the lag from the oldest commit received and not yet applied, 0 when none waits", () =>
    Effect.gen(function* () {
      const m = yield* fresh
      const lag = (snapshot: MetricsSnapshot) =>
        samplesOf(text(snapshot)).get('enrich_sync_lag_seconds{slot="enrich_sync"}')
      assert.strictEqual(lag(m), 0)
      assert.strictEqual(lagSeconds(m, now), 0)
      const waiting = {
        ...m,
        // the last transaction applied is recent: the lag is the oldest one's, still waiting
        lastCommitTime: "2025-03-01T11:59:59.000Z",
        lastAppliedAt: "2025-03-01T11:59:59.500Z",
        oldestPendingCommit: "2025-03-01T11:59:47.500Z"
      }
      assert.strictEqual(lag(waiting), 12.5)
      assert.strictEqual(lagSeconds(waiting, now), 12.5)
      // a commit stamped after this host's now (a server clock ahead) is no lag, never a negative one
      assert.strictEqual(lag({ ...m, oldestPendingCommit: "2025-03-01T12:00:03.000Z" }), 0)
      assert.strictEqual(
        prometheus(waiting, memory, { now, slot: "other_slot", entities, realtime: Option.none() }).includes(
          'enrich_sync_lag_seconds{slot="other_slot"} 12.5\n'
        ),
        true
      )
    })
  )

  it.effect(
    "leaves out the slot's WAL lag, the Realtime state and the Neon apply lag until they are known",
    () =>
      Effect.gen(function* () {
        const m = yield* fresh
        const start = text(m)
        for (const name of [
          "enrich_sync_lag_bytes",
          "enrich_sync_realtime_state",
          "enrich_sync_neon_lag_seconds"
        ])
          assert.notInclude(start, name)
        // pushes pending and clock skew: the family, and a sample for what was observed only
        assert.deepStrictEqual(seriesOf(start, "enrich_sync_pushes_pending"), [])
        assert.deepStrictEqual(seriesOf(start, "enrich_sync_clock_skew_seconds"), [])
        assert.notInclude(
          text({ ...m, lastCommitTime: "2025-03-01T11:59:59.000Z" }),
          "enrich_sync_neon_lag_seconds"
        )
        const known = samplesOf(
          text({
            ...m,
            lagBytes: 4096,
            pushesPending: { company: 3, people: 0 },
            clockSkewMs: { neon: -1500, workspace: null },
            lastCommitTime: "2025-03-01T11:59:58.000Z",
            lastAppliedAt: "2025-03-01T11:59:58.250Z"
          })
        )
        assert.strictEqual(known.get('enrich_sync_lag_bytes{slot="enrich_sync"}'), 4096)
        assert.strictEqual(known.get('enrich_sync_pushes_pending{entity="company"}'), 3)
        assert.strictEqual(known.get('enrich_sync_pushes_pending{entity="people"}'), 0)
        assert.strictEqual(known.get('enrich_sync_clock_skew_seconds{server="neon"}'), -1.5)
        assert.isFalse(known.has('enrich_sync_clock_skew_seconds{server="workspace"}'))
        assert.strictEqual(known.get("enrich_sync_neon_lag_seconds"), 0.25)
      })
  )

  it.effect("marks the Realtime subscription's current state with 1 and every other state with 0", () =>
    Effect.gen(function* () {
      const m = yield* fresh
      const states = ["connecting", "joined", "live", "errored", "closed"] as const
      for (const current of states) {
        const samples = samplesOf(text(m, Option.some(realtimeStatus(current))))
        assert.deepStrictEqual(
          states.map((s) => samples.get(`enrich_sync_realtime_state{state="${s}"}`)),
          states.map((s) => (s === current ? 1 : 0)),
          current
        )
      }
    })
  )

  it.effect(
    "writes the batch durations as a cumulative histogram, +Inf and _count the number of batches",
    () =>
      withMetrics((metrics) =>
        Effect.gen(function* () {
          for (const seconds of [0.00390625, 0.1875, 0.25, 7.5, 30])
            yield* metrics.merged(stats({ keys: 1 }), {
              direction: "anti-entropy",
              entity: "company",
              seconds
            })
          const lines = familyLines(text(yield* metrics.snapshot), "enrich_sync_batch_duration_seconds")
          assert.deepStrictEqual(lines, [
            "# HELP enrich_sync_batch_duration_seconds time to merge one batch on both sides",
            "# TYPE enrich_sync_batch_duration_seconds histogram",
            'enrich_sync_batch_duration_seconds_bucket{le="0.005"} 1',
            'enrich_sync_batch_duration_seconds_bucket{le="0.01"} 1',
            'enrich_sync_batch_duration_seconds_bucket{le="0.025"} 1',
            'enrich_sync_batch_duration_seconds_bucket{le="0.05"} 1',
            'enrich_sync_batch_duration_seconds_bucket{le="0.1"} 1',
            'enrich_sync_batch_duration_seconds_bucket{le="0.25"} 3',
            'enrich_sync_batch_duration_seconds_bucket{le="0.5"} 3',
            'enrich_sync_batch_duration_seconds_bucket{le="1"} 3',
            'enrich_sync_batch_duration_seconds_bucket{le="2.5"} 3',
            'enrich_sync_batch_duration_seconds_bucket{le="5"} 3',
            'enrich_sync_batch_duration_seconds_bucket{le="10"} 4',
            'enrich_sync_batch_duration_seconds_bucket{le="+Inf"} 5',
            "enrich_sync_batch_duration_seconds_sum 37.94140625",
            "enrich_sync_batch_duration_seconds_count 5"
          ])
        })
      )
  )

  it.effect("says whether the daemon is live, and marks its role with 1 and the other with 0", () =>
    Effect.gen(function* () {
      const m = yield* fresh
      const gauges = (snapshot: MetricsSnapshot) => {
        const samples = samplesOf(text(snapshot))
        return [
          samples.get("enrich_sync_live"),
          samples.get('enrich_sync_role{role="leader"}'),
          samples.get('enrich_sync_role{role="standby"}')
        ]
      }
      assert.deepStrictEqual(gauges(m), [0, 0, 1])
      assert.deepStrictEqual(gauges({ ...m, role: "leader" }), [0, 1, 0])
      assert.deepStrictEqual(gauges({ ...m, role: "leader", live: true }), [1, 1, 0])
    })
  )

  it.effect(
    "writes the resident memory under Prometheus' standard name, and the heap in use and external memory",
    () =>
      Effect.gen(function* () {
        const samples = samplesOf(text(yield* fresh))
        assert.strictEqual(samples.get("process_resident_memory_bytes"), memory.rss)
        assert.strictEqual(samples.get("enrich_sync_heap_used_bytes"), memory.heapUsed)
        assert.strictEqual(samples.get("enrich_sync_external_memory_bytes"), memory.external)
      })
  )

  it.effect("writes no text of the snapshot: not the lock problem, which can quote a connection string", () =>
    Effect.gen(function* () {
      // a plainly fake password, built at run time
      const password = ["FAKE", "metrics", "pw"].join("-")
      const url = `postgresql://owner:${password}@ep-cool-1.us-east-2.aws.neon.tech/neondb`
      const m = yield* fresh
      const metrics = text(
        {
          ...m,
          role: "standby",
          lockProblem: `connect ECONNREFUSED ${url}`,
          lastAppliedLsn: "0/16B3748",
          lagBytes: 1,
          pushesPending: { company: 1 }
        },
        Option.some({ ...realtimeStatus("errored"), lastError: `socket closed: ${url}` })
      )
      assert.notInclude(metrics, password)
      assert.notInclude(metrics, "postgresql://")
      assert.notInclude(metrics, "ECONNREFUSED")
      assert.notInclude(metrics, "0/16B3748")
      // every label value is one of the daemon's own names
      const values = [...metrics.matchAll(/="([^"]*)"/g)].map((match) => match[1]!)
      const known = new Set([
        "enrich_sync",
        ...entities,
        "neon->workspace",
        "workspace->neon",
        "anti-entropy",
        "reconcile",
        "neon",
        "workspace",
        "connecting",
        "joined",
        "live",
        "errored",
        "closed",
        "leader",
        "standby",
        "+Inf",
        ...batchBuckets.map(String)
      ])
      assert.deepStrictEqual(
        values.filter((v) => !known.has(v)),
        []
      )
    })
  )
})
