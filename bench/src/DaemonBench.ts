/**
 * The daemon benchmarks of issues 4 and 14: the daemon as `pnpm start` runs it, as a child process
 * following the run's Neon database through the run's links (its database URLs and its Supabase URL point
 * at the latency proxies, or at the servers on loopback), and following the workspace through Supabase
 * Realtime (the stand-in of `@enrich-sync/embedded`, on the workspace database). Writers playing the
 * source's applications and an enricher playing a person write directly, as they would.
 *
 * Workspace -> Neon, while the stand-in runs:
 * (a) an enricher's edits, one every 200 ms: latency from the workspace edit to Neon's row holding it;
 * (b) 10k rows completed in one statement: rows/s until Neon holds them all, pushed and re-validated.
 * The stand-in is then closed (hosted Realtime decodes the workspace's WAL on Supabase's machines, not on
 * the one running syncd; here it would take the 2 cores from what follows). Neon -> workspace:
 * (c) one bulk UPDATE of 200k rows: apply rate from its commit until the daemon has merged every key;
 * (d) small transactions (1-10 rows) held at a fixed rate (30k rows/s on loopback, 20k over a link):
 *     the lag (the age of the oldest committed transaction not yet applied) all along, at the end and its
 *     trend; then a bounded search for the highest rate the daemon sustains;
 * (e) one-row commits paced at 1,000/s: latency from the Neon commit to the workspace write, per row;
 * and the daemon's resident memory, sampled from /proc all along (start-up reconcile included).
 * "Applied" is read from the daemon's own counters on `/health` (`neonKeys`, `neonTransactions`, updated
 * once a merge is done on both sides and acknowledged) and checked against the rows in the workspace.
 *
 * Invariant: the daemon and the stand-in are stopped when the scope closes, interrupted or not.
 */

import { type AddressInfo, createServer } from "node:net"
import { join } from "node:path"
import { Company, qualified } from "@enrich-sync/core"
import { startRealtimeStandIn } from "@enrich-sync/embedded"
import * as Effect from "effect/Effect"
import { type BenchOptions, type DaemonPhase, daemonPhases, heldRateFor } from "./BenchOptions.ts"
import { type CpuSubjects, startCpuMeter } from "./CpuMeter.ts"
import { profileFlags, summariseProfile } from "./CpuProfile.ts"
import { type AppliedSample, lagSeries, summariseLag } from "./Lag.ts"
import { installLatencyProbe, measuredArrivals, measuredLatencies } from "./LatencyProbe.ts"
import { type Links, linkDelta } from "./Links.ts"
import {
  bulkUpdate,
  bulkUpdateArrived,
  heldTransactions,
  type IdRange,
  pacedCommits
} from "./LoadGenerator.ts"
import { type RunningChild, scopedNodeChild } from "./NodeChild.ts"
import { programCommand } from "./Program.ts"
import {
  completeInOneStatement,
  enricherEdits,
  installPushProbe,
  keysOf,
  pushArrivals,
  pushedRows,
  pushLatencies,
  removePushProbe,
  settledInWorkspace
} from "./PushProbe.ts"
import { connect, type SqlClient } from "./Sql.ts"
import { awaitArrivals } from "./StampProbe.ts"
import { phaseStatements, resetPhaseStatements } from "./StatementStats.ts"
import { distribution, perSecond, round } from "./Stats.ts"
import { allPass, atLeast, atMost, below, failedPart, type Target } from "./Target.ts"

/** The id ranges of the daemon's phases (no two phases touch the same rows). */
export interface DaemonRanges {
  readonly bulk: IdRange
  readonly latency: IdRange
  readonly pushLatency: IdRange
  readonly pushBulk: IdRange
  /** the fixed-rate writers' rows (taken in turn, again and again) */
  readonly stream: IdRange
}

/** Where and what the daemon benchmarks run on. */
export interface DaemonBenchContext {
  readonly rttMs: number
  /** the databases, directly (writers, the enricher, the bench's checks) */
  readonly neonUrl: string
  readonly workspaceUrl: string
  /** the run's links: the daemon's URLs go through them */
  readonly links: Links
  /** the port the Realtime stand-in listens on (the link named `realtime` leads there) */
  readonly realtimePort: number
  /** the replication slot of this run's daemon */
  readonly slot: string
  readonly workDir: string
  readonly subjects: Omit<CpuSubjects, "child">
  readonly ranges: DaemonRanges
  readonly options: BenchOptions
  /** what one round trip costs on the run's links (ms, the single-row UPDATE's median), for the targets */
  readonly roundTripMs: number | null
  readonly log: (line: string) => void
  /** run the daemon with `--cpu-prof` and report its hottest functions */
  readonly profile: boolean
}

/** The counters of `/health` the bench reads. */
interface Health {
  readonly live: boolean
  readonly neonKeys: number
  readonly neonTransactions: number
  readonly workspaceKeys: number
  /** chunks the listener holds for the daemon, and delivered transactions not yet acknowledged */
  readonly listener?: { readonly buffered?: number; readonly waiting?: number }
  readonly realtime?: { readonly state?: string; readonly events?: number } | null
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const probe = createServer()
    probe.on("error", reject)
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo
      probe.close(() => resolve(port))
    })
  })

/** A free loopback port (for the Realtime stand-in, whose link must know it before it starts). */
export const pickPort = freePort

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

const readHealth = async (port: number): Promise<Health> => {
  const response = await fetch(`http://127.0.0.1:${port}/health`)
  return (await response.json()) as Health
}

/**
 * Polls `/health` every 5 ms until `done` holds; returns when it was first seen to hold (performance.now),
 * or null after `timeoutMs`.
 */
const waitForHealth = async (
  port: number,
  done: (h: Health) => boolean,
  timeoutMs: number
): Promise<number | null> => {
  const deadline = performance.now() + timeoutMs
  while (performance.now() < deadline) {
    if (done(await readHealth(port))) return performance.now()
    await sleep(5)
  }
  return null
}

/**
 * Waits until the daemon's counters have not moved for `quietMs` (nothing left to merge from an earlier
 * phase); returns the seconds it waited, or null when they still moved after `timeoutMs`.
 */
const waitQuiet = async (port: number, quietMs = 1000, timeoutMs = 120_000): Promise<number | null> => {
  const started = performance.now()
  let last = ""
  let since = started
  while (performance.now() - started < timeoutMs) {
    const h = await readHealth(port)
    const now = performance.now()
    const key = `${h.neonTransactions}/${h.neonKeys}/${h.workspaceKeys}/${h.listener?.waiting ?? 0}`
    if (key !== last) {
      last = key
      since = now
    } else if (now - since >= quietMs) return round((now - started) / 1000, 2)
    await sleep(100)
  }
  return null
}

/**
 * Samples `/health` every 100 ms while a phase runs: the listener's queue (how many chunks waited for the
 * daemon: a full buffer means the merge, not the decoding, is the bottleneck; how many delivered
 * transactions waited for their acknowledgement), and each reading's `neonTransactions` with the time it
 * arrived (for the lag).
 */
const sampleHealth = (port: number, onReading?: (h: Health, at: number) => void) => {
  let maxBuffered = 0
  let maxWaiting = 0
  let samples = 0
  let sum = 0
  let inFlight = false
  const timer = setInterval(() => {
    if (inFlight) return
    inFlight = true
    readHealth(port).then(
      (h) => {
        inFlight = false
        onReading?.(h, performance.now())
        const buffered = h.listener?.buffered ?? 0
        samples++
        sum += buffered
        maxBuffered = Math.max(maxBuffered, buffered)
        maxWaiting = Math.max(maxWaiting, h.listener?.waiting ?? 0)
      },
      () => {
        inFlight = false
      }
    )
  }, 100)
  return () => {
    clearInterval(timer)
    return {
      samples,
      maxBufferedChunks: maxBuffered,
      meanBufferedChunks: samples === 0 ? null : round(sum / samples, 1),
      maxWaitingTransactions: maxWaiting
    }
  }
}

/** A service role key for the stand-in, which takes any (built at run time: plainly not a secret). */
const standInKey = `sb_secret_${"BENCH".repeat(4)}`

/** Starts the daemon and waits for "syncd live"; returns it, its port and how long start-up took. */
const startDaemon = (context: DaemonBenchContext) =>
  Effect.gen(function* () {
    const port = yield* Effect.promise(freePort)
    const started = performance.now()
    // with the heap sizing `pnpm start` gives it, from the package's bundle (or the sources)
    const command = programCommand("start", context.options.program)
    const daemon = yield* scopedNodeChild({
      args: [command.script],
      env: {
        NEON_DATABASE_URL: context.links.url("neon", context.neonUrl),
        SUPABASE_DATABASE_URL: context.links.url("workspace", context.workspaceUrl),
        SUPABASE_URL: `http://127.0.0.1:${context.links.port("realtime")}`,
        SUPABASE_SERVICE_ROLE_KEY: standInKey,
        ENRICH_SYNC_SLOT: context.slot,
        ENRICH_SYNC_HEALTH_PORT: String(port),
        ENRICH_SYNC_ANTI_ENTROPY_MINUTES: "0"
      },
      cwd: context.workDir,
      reportFile: join(context.workDir, `syncd-${context.slot}.rss.json`),
      nodeFlags: [
        ...command.nodeFlags,
        ...(context.profile ? profileFlags(join(context.workDir, "profiles", `syncd-${context.slot}`)) : [])
      ]
    })
    const live = yield* Effect.promise(
      () =>
        new Promise<boolean>((resolve) => {
          daemon.onLine((line) => {
            if (line.includes("syncd live")) resolve(true)
          })
          void daemon.done.then(() => resolve(false))
        })
    )
    if (!live) {
      const result = yield* Effect.promise(() => daemon.done)
      return yield* Effect.fail(
        new Error(
          `syncd exited (${result.exitCode ?? result.signal}) before it was live: ${result.stdout.slice(-1500)} ${result.stderrTail}`
        )
      )
    }
    return { daemon, port, startupSeconds: round((performance.now() - started) / 1000, 2) }
  })

const meterFor = (context: DaemonBenchContext, daemon: RunningChild) =>
  startCpuMeter({ ...context.subjects, child: () => daemon.pid })

/**
 * A latency measurement: runs `load` with the daemon's CPU metered, waits (up to 60 s) until the probe saw
 * its measured stamps arrive, and reads their latencies.
 */
const meteredLatencies = async <R>(
  context: DaemonBenchContext,
  daemon: RunningChild,
  load: () => Promise<R>,
  measured: (run: R) => number,
  probe: { readonly arrivals: () => Promise<number>; readonly latencies: () => Promise<Array<number>> }
) => {
  const meter = meterFor(context, daemon)
  const run = await load()
  await awaitArrivals(probe.arrivals, measured(run))
  const cpu = meter.read()
  return { run, cpu, latencies: distribution(await probe.latencies()) }
}

/** `n` round trips of the run plus `plusMs`, as a target (null when the round trip was not measured). */
const roundTripsTarget = (context: DaemonBenchContext, value: number | null, n: number, plusMs: number) => {
  const rt = context.roundTripMs
  if (rt === null)
    return {
      value,
      target: `<= ${n} round trips + ${plusMs} ms`,
      pass: false,
      basis: "the round trip was not measured"
    } satisfies Target
  return atMost(value, round(n * rt + plusMs, 1)!, `${n} round trips of ${rt} ms (measured) + ${plusMs} ms`)
}

/** What a part of the daemon's benchmark works with: the run, the daemon, its health port, a client of each side. */
interface BenchedDaemon {
  readonly context: DaemonBenchContext
  readonly daemon: RunningChild
  readonly port: number
  readonly neon: SqlClient
  readonly workspace: SqlClient
}

/** (a) an enricher's edits, workspace -> Neon through Realtime and the push. */
const benchPushLatency = async ({ context, daemon, neon }: BenchedDaemon) => {
  const range = context.ranges.pushLatency
  const keys = await keysOf(neon, range.from, range.to)
  const { run, cpu, latencies } = await meteredLatencies(
    context,
    daemon,
    () =>
      enricherEdits(context.workspaceUrl, keys, {
        rate: context.options.pushLatencyRate,
        warmupSeconds: context.options.pushLatencyWarmupSeconds,
        seconds: context.options.pushLatencySeconds
      }),
    (run) => run.measuredEdits,
    { arrivals: () => pushArrivals(neon), latencies: () => pushLatencies(neon) }
  )
  const targets: Record<string, Target> = { p50Ms: roundTripsTarget(context, latencies.p50, 3, 20) }
  return {
    method:
      "one edit every 1/rate s in the workspace (a row completed, its address stamped with the workspace's clock_timestamp()), until a trigger on Neon's invalid table stamps the push's write of it",
    editsPerSecond: run.rate,
    warmupEdits: run.warmupEdits,
    measuredEdits: run.measuredEdits,
    samples: latencies.count,
    missing: run.measuredEdits - latencies.count,
    latencyMs: latencies,
    roundTripMs: context.roundTripMs,
    editMs: run.editMs,
    cpu,
    targets,
    pass: allPass(targets) && latencies.count === run.measuredEdits
  }
}

/** (b) rows completed in one statement, pushed and re-validated. */
const benchPushBulk = async ({ context, daemon, port, neon, workspace }: BenchedDaemon) => {
  const range = context.ranges.pushBulk
  const keys = await keysOf(neon, range.from, range.to)
  const tag = "wspush"
  const meter = meterFor(context, daemon)
  const listener = sampleHealth(port)
  const complete = await completeInOneStatement(context.workspaceUrl, keys, tag)
  let pushedAt: number | null = null
  let pushed = 0
  // gives up when nothing more reached Neon for a minute (pushes failing), or after 5 minutes
  const deadline = performance.now() + 300_000
  let progressAt = performance.now()
  while (performance.now() < deadline && performance.now() - progressAt < 60_000) {
    const now = await pushedRows(neon, range.from, range.to, tag)
    if (now > pushed) progressAt = performance.now()
    pushed = now
    if (pushed >= complete.rows) {
      pushedAt = performance.now()
      break
    }
    await sleep(50)
  }
  const cpu = meter.read()
  const queue = listener()
  let settledAt: number | null = null
  const settleDeadline = performance.now() + 60_000
  while (pushedAt !== null && performance.now() < settleDeadline) {
    if ((await settledInWorkspace(workspace, keys)) >= complete.rows) {
      settledAt = performance.now()
      break
    }
    await sleep(50)
  }
  const pushMs = pushedAt === null ? null : pushedAt - complete.committedAt
  const targets = {
    rowsPerSecond: atLeast(round(pushMs === null ? null : perSecond(complete.rows, pushMs), 0), 5000)
  }
  return {
    method:
      "one UPDATE in the workspace completing the rows (status complete, a new address), until Neon holds every one of them (the push writes and re-validates a row in one transaction)",
    rows: complete.rows,
    statementSeconds: round((complete.committedAt - complete.startedAt) / 1000, 3),
    pushedOnNeon: pushed,
    secondsAfterCommit: round(pushMs === null ? null : pushMs / 1000, 3),
    rowsPerSecond: targets.rowsPerSecond.value,
    workspaceSettledSecondsAfterCommit: round(
      settledAt === null ? null : (settledAt - complete.committedAt) / 1000,
      3
    ),
    listenerQueue: queue,
    cpu,
    targets,
    pass: allPass(targets) && pushed === keys.length
  }
}

/** (c) one bulk UPDATE. */
const benchBulk = async ({ context, daemon, port, workspace }: BenchedDaemon) => {
  const range = context.ranges.bulk
  const count = range.to - range.from + 1
  const before = await readHealth(port)
  const meter = meterFor(context, daemon)
  const listener = sampleHealth(port)
  const update = await bulkUpdate(context.neonUrl, range)
  // neonKeys moves when the merge is done on both sides, neonTransactions a moment later (after the
  // acknowledgement): wait for both, so the next run starts from settled counters
  const appliedAt = await waitForHealth(port, (h) => h.neonKeys >= before.neonKeys + update.rows, 300_000)
  await waitForHealth(port, (h) => h.neonTransactions > before.neonTransactions, 10_000)
  const cpu = meter.read()
  const queue = listener()
  const arrived = await bulkUpdateArrived(workspace, range)
  const applyMs = appliedAt === null ? null : appliedAt - update.committedAt
  const rowsPerSecond = applyMs === null ? null : perSecond(update.rows, applyMs)
  const targets = { rowsPerSecond: atLeast(round(rowsPerSecond, 0), 20_000) }
  return {
    rows: update.rows,
    updateSeconds: round((update.committedAt - update.startedAt) / 1000, 3),
    applySecondsAfterCommit: round(applyMs === null ? null : applyMs / 1000, 3),
    rowsPerSecond: targets.rowsPerSecond.value,
    endToEndSeconds: round(appliedAt === null ? null : (appliedAt - update.startedAt) / 1000, 3),
    arrivedInWorkspace: arrived,
    listenerQueue: queue,
    cpu,
    targets,
    pass: allPass(targets) && arrived === count
  }
}

/** The writers must reach this share of the rate asked for, or the run says nothing about that rate. */
const heldShare = 0.95

/**
 * Small transactions held at `rowsPerSecond` for `seconds`, with the lag sampled all along (the writers
 * stop early once it passes `stopAtLagMs`: the run has failed by then, and a longer backlog would only
 * delay what follows); then waits (at most `drainTimeoutMs`) until the daemon has applied every
 * transaction.
 */
const holdRate = async (
  context: DaemonBenchContext,
  daemon: RunningChild,
  port: number,
  run: {
    readonly rowsPerSecond: number
    readonly seconds: number
    readonly tag: string
    readonly stopAtLagMs: number
    readonly drainTimeoutMs: number
  }
) => {
  const quietSeconds = await waitQuiet(port)
  const before = await readHealth(port)
  const samples: Array<AppliedSample> = []
  const meter = meterFor(context, daemon)
  // commit times as they return (in commit order but for the few in flight at once): the live lag
  const live: Array<number> = []
  const control = { stop: false }
  const stopSampling = sampleHealth(port, (h, at) => {
    const applied = h.neonTransactions - before.neonTransactions
    samples.push({ at, applied })
    if (applied < live.length && at - live[applied]! > run.stopAtLagMs) control.stop = true
  })
  const writers = await heldTransactions(context.neonUrl, context.ranges.stream, {
    connections: 8,
    rowsPerSecond: run.rowsPerSecond,
    seconds: run.seconds,
    tag: run.tag,
    onCommit: (at) => live.push(at),
    control
  })
  const end = await readHealth(port)
  const endAt = performance.now()
  const atEnd = { at: endAt, applied: end.neonTransactions - before.neonTransactions }
  samples.push(atEnd)
  const caughtUpAt = await waitForHealth(
    port,
    (h) => h.neonTransactions - before.neonTransactions >= writers.transactions,
    run.drainTimeoutMs
  )
  const cpu = meter.read()
  const queue = stopSampling()
  const series = lagSeries(writers.commitTimes, samples)
  const lagAtEnd = lagSeries(writers.commitTimes, [atEnd])[0]!.lagMs
  const writerMs = writers.lastCommitAt - writers.startedAt
  const writersRowsPerSecond = round(perSecond(writers.rows, writerMs), 0)
  const lag = summariseLag(series, writers.startedAt, writers.lastCommitAt)
  const appliedMs = caughtUpAt === null ? null : caughtUpAt - writers.startedAt
  return {
    targetRowsPerSecond: run.rowsPerSecond,
    seconds: run.seconds,
    writersSeconds: round(writerMs / 1000, 2),
    stoppedEarly: writers.stoppedEarly,
    ...(writers.stoppedEarly ? { stoppedAtLagSeconds: run.stopAtLagMs / 1000 } : {}),
    connections: writers.connections,
    rowsPerTransaction: writers.rowsPerTransaction,
    transactions: writers.transactions,
    rows: writers.rows,
    writersRowsPerSecond,
    writersHeldRate: writersRowsPerSecond !== null && writersRowsPerSecond >= heldShare * run.rowsPerSecond,
    writerStartDelayMs: writers.startDelayMs,
    lagAtEndSeconds: round(lagAtEnd / 1000, 3),
    drainSecondsAfterLastCommit: round(
      caughtUpAt === null ? null : (caughtUpAt - writers.lastCommitAt) / 1000,
      3
    ),
    caughtUp: caughtUpAt !== null,
    // what the daemon applied from the first commit until it had them all: its rate when it falls behind
    appliedRowsPerSecond: round(appliedMs === null ? null : perSecond(writers.rows, appliedMs), 0),
    lag,
    waitedForQuietSeconds: quietSeconds,
    listenerQueue: queue,
    cpu
  }
}

type Held = Awaited<ReturnType<typeof holdRate>>

/** A step of the search held its rate: the writers reached it, and the lag stayed under a second. */
const sustained = (step: Held) =>
  step.writersHeldRate &&
  step.caughtUp &&
  step.lagAtEndSeconds !== null &&
  step.lagAtEndSeconds < 1 &&
  step.lag.maxSecondHalfSeconds !== null &&
  step.lag.maxSecondHalfSeconds < 1

/** Whether every row of the writers' range holds the same `city` on both sides. */
const streamInSync = async (context: DaemonBenchContext, neon: SqlClient, workspace: SqlClient) => {
  const { from, to } = context.ranges.stream
  const [[n], [w]] = await Promise.all([
    neon.query<{ h: string; c: string }>(
      `SELECT md5(string_agg(coalesce(city, ''), ',' ORDER BY id)) AS h, count(*) AS c
         FROM ${qualified(Company.sourceTable)} WHERE id BETWEEN $1 AND $2`,
      [from, to]
    ),
    workspace.query<{ h: string; c: string }>(
      `SELECT md5(string_agg(coalesce(city, ''), ',' ORDER BY neon_id)) AS h, count(*) AS c
         FROM ${qualified(Company.workspaceTable)} WHERE neon_id BETWEEN $1 AND $2`,
      [from, to]
    )
  ])
  return { rows: Number(n?.c ?? 0), inSync: n?.h === w?.h && n?.c === w?.c }
}

/** (d) the fixed rate for the run's round trip, held for `heldSeconds`. */
const benchHeld = async ({ context, daemon, port, neon, workspace }: BenchedDaemon) => {
  const rate = heldRateFor(context.rttMs)
  const held = await holdRate(context, daemon, port, {
    rowsPerSecond: rate,
    seconds: context.options.heldSeconds,
    tag: "held",
    stopAtLagMs: 10_000,
    drainTimeoutMs: 120_000
  })
  const check = held.caughtUp ? await streamInSync(context, neon, workspace) : null
  const targets: Record<string, Target> = {
    writersRowsPerSecond: {
      ...atLeast(held.writersRowsPerSecond, Math.round(heldShare * rate)),
      basis: `the writers must reach ${heldShare * 100}% of ${rate} rows/s for the run to say anything about that rate`
    },
    lagAtEndSeconds: below(held.lagAtEndSeconds, 1),
    lagTrendSecondsPerMinute: {
      ...below(held.lag.trendSecondsPerMinute, 0.5),
      basis:
        "the lag must not grow over the run: its least-squares trend under 0.5 s per minute (a daemon 1% short of the rate gains about 0.6 s per minute)"
    }
  }
  return {
    method:
      "8 connections sharing one schedule at the fixed rate (UPDATE of 1-10 rows, uniform), straight to Neon; lag = age of the oldest committed transaction the daemon has not applied (its /health neonTransactions), read every 100 ms; the writers stop early once the lag passes 10 s",
    ...held,
    streamRangeInSync: check,
    targets,
    pass: allPass(targets) && check?.inSync === true
  }
}

/**
 * (d) the highest rate the daemon sustains, searched from the held run's result: when the held rate was
 * sustained, up by 1.25x while steps hold; when it was not, from 0.9x the rate the daemon applied while it
 * fell behind (its throughput when saturated); then the bracket between the highest step sustained and the
 * lowest not sustained is halved (geometric middle) until it is within 10% or `rampSteps` steps are
 * spent. A step ends early once its lag passes 3 s, and one that does not drain within 30 s ends the search.
 */
const searchSustained = async (
  context: DaemonBenchContext,
  daemon: RunningChild,
  port: number,
  held: { readonly rate: number; readonly sustained: boolean; readonly appliedRowsPerSecond: number | null }
) => {
  let lo: number | null = held.sustained ? held.rate : null
  let hi: number | null = held.sustained ? null : held.rate
  let limitedByWriters = false
  const steps: Array<Record<string, unknown>> = []
  const next = (i: number): number => {
    if (i === 0 && !held.sustained && held.appliedRowsPerSecond !== null)
      return Math.min(0.9 * held.appliedRowsPerSecond, 0.8 * held.rate)
    if (lo === null) return hi! * 0.8
    if (hi === null) return lo * 1.25
    return Math.sqrt(lo * hi)
  }
  for (let i = 0; i < context.options.rampSteps; i++) {
    if (lo !== null && hi !== null && hi / lo < 1.1) break
    const rate = Math.round(next(i) / 100) * 100
    context.log(`daemon: sustained-rate search: ${rate} rows/s for ${context.options.rampStepSeconds} s`)
    const step = await holdRate(context, daemon, port, {
      rowsPerSecond: rate,
      seconds: context.options.rampStepSeconds,
      tag: `ramp${i}`,
      stopAtLagMs: 3000,
      drainTimeoutMs: 30_000
    })
    const ok = sustained(step)
    steps.push({
      targetRowsPerSecond: rate,
      sustained: ok,
      writersRowsPerSecond: step.writersRowsPerSecond,
      writersHeldRate: step.writersHeldRate,
      stoppedEarly: step.stoppedEarly,
      lagAtEndSeconds: step.lagAtEndSeconds,
      maxLagSecondHalfSeconds: step.lag.maxSecondHalfSeconds,
      lagTrendSecondsPerMinute: step.lag.trendSecondsPerMinute,
      appliedRowsPerSecond: step.appliedRowsPerSecond,
      drainSecondsAfterLastCommit: step.drainSecondsAfterLastCommit,
      cpu: step.cpu
    })
    if (ok) lo = Math.max(lo ?? 0, rate)
    else {
      hi = Math.min(hi ?? Number.POSITIVE_INFINITY, rate)
      if (
        !step.writersHeldRate &&
        !step.stoppedEarly &&
        step.lagAtEndSeconds !== null &&
        step.lagAtEndSeconds < 1
      )
        limitedByWriters = true
    }
    if (!step.caughtUp) break
  }
  return {
    method: `steps of ${context.options.rampStepSeconds} s at a fixed rate, from the held run's result; a step is sustained when the writers reach ${heldShare * 100}% of its rate, the lag at its end and over its second half stays under 1 s, and the daemon catches up within 30 s`,
    highestSustainedRowsPerSecond: lo,
    lowestNotSustainedRowsPerSecond: hi,
    limitedByWriters,
    ...(limitedByWriters
      ? {
          note: "a step failed because the writers could not reach its rate while the daemon kept up: the daemon's own limit may be higher"
        }
      : {}),
    steps
  }
}

/** (e) latency at a paced rate. */
const benchLatency = async ({ context, daemon, workspace }: BenchedDaemon) => {
  const { run, cpu, latencies } = await meteredLatencies(
    context,
    daemon,
    () =>
      pacedCommits(context.neonUrl, context.ranges.latency, {
        connections: 8,
        rate: context.options.latencyRate,
        warmupSeconds: context.options.latencyWarmupSeconds,
        seconds: context.options.latencySeconds
      }),
    (run) => run.measuredCommits,
    { arrivals: () => measuredArrivals(workspace), latencies: () => measuredLatencies(workspace) }
  )
  const targets: Record<string, Target> =
    context.rttMs === 0
      ? { p50Ms: below(latencies.p50, 20), p99Ms: below(latencies.p99, 50) }
      : { p50Ms: roundTripsTarget(context, latencies.p50, 2, 10), p99Ms: atMost(latencies.p99, 100) }
  const rateReached = run.achievedRate !== null && run.achievedRate >= 0.95 * context.options.latencyRate
  return {
    targetRate: context.options.latencyRate,
    achievedRate: run.achievedRate,
    rateReached,
    connections: run.connections,
    warmupCommits: run.warmupCommits,
    measuredCommits: run.measuredCommits,
    samples: latencies.count,
    missing: run.measuredCommits - latencies.count,
    latencyMs: latencies,
    roundTripMs: context.roundTripMs,
    generatorStartDelayMs: run.startDelayMs,
    neonCommitMs: run.commitMs,
    cpu,
    targets,
    pass: allPass(targets) && rateReached && latencies.count === run.measuredCommits
  }
}

/** Runs the daemon benchmarks (see the module header). */
export const benchDaemon = (context: DaemonBenchContext) =>
  Effect.scoped(
    Effect.gen(function* () {
      const direct = (url: string, name: string) =>
        Effect.acquireRelease(
          Effect.promise(() => connect(url, name)),
          (sql) => Effect.promise(() => sql.end())
        )
      const workspace = yield* direct(context.workspaceUrl, "enrich-sync bench daemon probe")
      const neon = yield* direct(context.neonUrl, "enrich-sync bench daemon probe")
      yield* Effect.promise(() => installLatencyProbe(workspace))
      yield* Effect.promise(() => installPushProbe(neon))
      context.log("daemon: starting syncd (its start-up reconciles both sides)")
      yield* Effect.promise(() => resetPhaseStatements(context.neonUrl, context.workspaceUrl))
      const startupMeter = startCpuMeter(context.subjects)
      const { daemon, port, startupSeconds } = yield* startDaemon(context)
      const startup = {
        seconds: startupSeconds,
        cpu: startupMeter.read(),
        statements: yield* Effect.promise(() => phaseStatements(context.neonUrl, context.workspaceUrl))
      }
      // each phase: its statements on both sides and what the links carried; a failing phase is reported,
      // the next ones still run
      const attempt = <A extends object>(f: () => Promise<A>) =>
        Effect.promise(async () => {
          await resetPhaseStatements(context.neonUrl, context.workspaceUrl)
          const linksBefore = await context.links.stats()
          const result = await f().then((r) => r as A | ReturnType<typeof failedPart>, failedPart)
          const links = linkDelta(linksBefore, await context.links.stats())
          return {
            ...result,
            statements: await phaseStatements(context.neonUrl, context.workspaceUrl),
            ...(links === null ? {} : { links })
          }
        })

      // Realtime only now: the start-up reconcile's writes are not the stand-in's to decode
      context.log(`daemon: live after ${startupSeconds} s; starting the Realtime stand-in`)
      const standInStartedAt = performance.now()
      const standIn = yield* Effect.acquireRelease(
        Effect.promise(() =>
          startRealtimeStandIn({
            databaseUrl: context.workspaceUrl,
            port: context.realtimePort,
            idlePollIntervalMs: standInIdlePollMs
          })
        ),
        (s) => Effect.promise(() => s.close().catch(() => undefined))
      )
      const realtimeLiveAt = yield* Effect.promise(() =>
        waitForHealth(port, (h) => h.realtime?.state === "live", 60_000)
      )
      const realtime = {
        standIn: `RealtimeStandIn (@enrich-sync/embedded) on the workspace database; polls its slot at once after a poll that found changes, every ${standInIdlePollMs} ms otherwise (hosted Realtime: 100 ms when busy, 500 ms idle)`,
        subscribedSecondsAfterStandInStarted: round(
          realtimeLiveAt === null ? null : (realtimeLiveAt - standInStartedAt) / 1000,
          2
        ),
        live: realtimeLiveAt !== null
      }
      const benched: BenchedDaemon = { context, daemon, port, neon, workspace }
      const runs = (name: DaemonPhase) => context.options.daemonPhases.has(name)
      /** Phase `name`, when `--daemon-phases` has it (its log line first), else reported as skipped. */
      const phase = <A extends object>(
        name: DaemonPhase,
        what: string | null,
        body: Effect.Effect<A>
      ): Effect.Effect<A | { readonly skipped: string }> =>
        Effect.suspend((): Effect.Effect<A | { readonly skipped: string }> => {
          daemon.sampler.phase(name)
          if (!runs(name)) return Effect.succeed({ skipped: "not in --daemon-phases" })
          if (what !== null) context.log(`daemon: ${what}`)
          return body
        })
      /** a push phase: fails at once when the daemon's Realtime subscription never became live */
      const whenLive = <A extends object>(
        body: Effect.Effect<A>
      ): Effect.Effect<A | ReturnType<typeof failedPart>> =>
        realtimeLiveAt === null
          ? Effect.sync(() =>
              failedPart(new Error("the daemon's Realtime subscription did not become live within 60 s"))
            )
          : body
      const pushLatency = yield* phase(
        "pushLatency",
        `(a) workspace -> Neon latency, ${context.options.pushLatencyRate} edits/s`,
        whenLive(attempt(() => benchPushLatency(benched)))
      )
      const pushBulk = yield* phase(
        "pushBulk",
        `(b) ${context.ranges.pushBulk.to - context.ranges.pushBulk.from + 1} rows completed in one statement`,
        whenLive(attempt(() => benchPushBulk(benched)))
      )
      const realtimeStats = standIn.stats()
      yield* Effect.promise(() => standIn.close())
      yield* Effect.promise(() => removePushProbe(neon))
      const settled = yield* Effect.promise(() => waitQuiet(port))

      const bulk = yield* phase(
        "bulkUpdate",
        `(c) one bulk UPDATE of ${context.ranges.bulk.to - context.ranges.bulk.from + 1} rows`,
        attempt(() => benchBulk(benched))
      )
      const rate = heldRateFor(context.rttMs)
      const held = yield* phase(
        "heldRate",
        `(d) small transactions held at ${rate} rows/s for ${context.options.heldSeconds} s`,
        attempt(() => benchHeld(benched))
      )
      const sustainedRate = yield* phase(
        "sustainedRate",
        null,
        attempt(() =>
          searchSustained(context, daemon, port, {
            rate,
            sustained: "lag" in held && sustained(held),
            appliedRowsPerSecond: "lag" in held ? held.appliedRowsPerSecond : null
          })
        )
      )
      const latency = yield* phase(
        "latency",
        `(e) Neon -> workspace latency at ${context.options.latencyRate} commits/s`,
        Effect.promise(() => waitQuiet(port)).pipe(Effect.andThen(attempt(() => benchLatency(benched))))
      )
      daemon.sampler.phase("stop")
      const peaks = daemon.sampler.peaks()
      const result = yield* Effect.promise(() => daemon.kill(20_000))
      const maxRssMb = Math.max(peaks.maxRssMb, result.maxRssMb ?? 0)
      // the peak of a run with phases left out is not the daemon's peak: no target then
      const rssTargets = daemonPhases.every(runs)
        ? { maxRssMb: below(maxRssMb, context.rttMs === 0 ? 150 : 200) }
        : {}
      return {
        startup,
        realtime: { ...realtime, stats: realtimeStats, quietAfterPushSeconds: settled },
        pushLatency,
        pushBulk,
        bulkUpdate: bulk,
        heldRate: held,
        sustainedRate,
        latency,
        rss: {
          maxRssMb,
          byPhaseMb: peaks.byPhase,
          samples: peaks.samples,
          method: "VmRSS/VmHWM from /proc/<pid>/status every 50 ms, and getrusage maxrss at exit",
          targets: rssTargets,
          pass: allPass(rssTargets)
        },
        exit: { code: result.exitCode, signal: result.signal },
        ...(context.profile
          ? { profile: summariseProfile(join(context.workDir, "profiles", `syncd-${context.slot}`), 25) }
          : {})
      }
    })
  )

/** How often the stand-in polls its slot when the last poll found nothing (ms). */
const standInIdlePollMs = 10
