/**
 * The daemon benchmarks of issue 4: the daemon as `pnpm start` runs it, as a child process following the
 * bench's Neon database, with a load generator writing to Neon:
 * (a) one bulk UPDATE of 200k rows: apply rate from its commit until the daemon has merged every key;
 * (b) small transactions (1-10 rows) from a few connections for ~10 s: apply rate from the first commit
 *     until the daemon has applied the last transaction, beside the rate the generator reached;
 * (c) one-row commits paced at 1,000/s: latency from the Neon commit to the workspace write, per row;
 * and the daemon's resident memory, sampled from /proc all along (start-up reconcile included).
 * "Applied" is read from the daemon's own counters on `/health` (`neonKeys`, `neonTransactions`, updated
 * once a merge is done on both sides) and checked against the rows in the workspace.
 *
 * Invariant: the daemon is stopped (SIGTERM, then SIGKILL) when the scope closes, interrupted or not.
 */

import { readFileSync } from "node:fs"
import { type AddressInfo, createServer } from "node:net"
import { join } from "node:path"
import { Company, qualified } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import { type CpuSubjects, startCpuMeter } from "./CpuMeter.ts"
import { profileFlags, summariseProfile } from "./CpuProfile.ts"
import { installLatencyProbe, measuredArrivals, measuredLatencies } from "./LatencyProbe.ts"
import {
  bulkUpdate,
  bulkUpdateArrived,
  type IdRange,
  pacedCommits,
  smallTransactions
} from "./LoadGenerator.ts"
import { type RunningChild, repoRoot, scopedNodeChild } from "./NodeChild.ts"
import { connect, type SqlClient } from "./Sql.ts"
import { phaseStatements, resetPhaseStatements } from "./StatementStats.ts"
import { distribution, perSecond, round } from "./Stats.ts"
import { allPass, atLeast, below, failedPart, type Target } from "./Target.ts"

/** Where and what the daemon benchmarks run on. */
export interface DaemonBenchContext {
  readonly neonUrl: string
  readonly workspaceUrl: string
  readonly workDir: string
  readonly subjects: Omit<CpuSubjects, "child">
  /** ids of the bulk UPDATE, of the paced commits, and of the small transactions */
  readonly ranges: { readonly bulk: IdRange; readonly latency: IdRange; readonly stream: IdRange }
  readonly streamSeconds: number
  readonly latencyRate: number
  readonly latencyWarmupSeconds: number
  readonly latencySeconds: number
  readonly log: (line: string) => void
  /** run the daemon with `--cpu-prof` and report its hottest functions */
  readonly profile: boolean
}

/** The counters of `/health` the bench reads. */
interface Health {
  readonly live: boolean
  readonly neonKeys: number
  readonly neonTransactions: number
  /** chunks the listener holds for the daemon, and delivered transactions not yet acknowledged */
  readonly listener?: { readonly buffered?: number; readonly waiting?: number }
}

/**
 * Samples the listener's queue on `/health` every 100 ms while a phase runs: how many chunks waited for
 * the daemon (a full buffer means the merge, not the decoding, is the bottleneck) and how many delivered
 * transactions waited for their acknowledgement.
 */
const sampleListener = (port: number) => {
  let maxBuffered = 0
  let maxWaiting = 0
  let samples = 0
  let sum = 0
  const timer = setInterval(() => {
    readHealth(port).then(
      (h) => {
        const buffered = h.listener?.buffered ?? 0
        samples++
        sum += buffered
        maxBuffered = Math.max(maxBuffered, buffered)
        maxWaiting = Math.max(maxWaiting, h.listener?.waiting ?? 0)
      },
      () => undefined
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

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const probe = createServer()
    probe.on("error", reject)
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo
      probe.close(() => resolve(port))
    })
  })

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
 * The daemon's command as `pnpm start` runs it (the root package.json's `start` script): its node flags
 * (the heap sizing the daemon is meant to run with) and its script.
 */
const daemonCommand = (): { readonly nodeFlags: ReadonlyArray<string>; readonly script: string } => {
  const start: string = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")).scripts.start
  const [node, ...rest] = start.split(/\s+/)
  const script = rest.at(-1)
  if (node !== "node" || script === undefined || !/\.(ts|js)$/.test(script))
    throw new Error(`the start script is not \`node [flags] <script>\`: ${start}`)
  return { nodeFlags: rest.slice(0, -1), script }
}

/** Starts the daemon and waits for "syncd live"; returns it, its port and how long start-up took. */
const startDaemon = (context: DaemonBenchContext) =>
  Effect.gen(function* () {
    const port = yield* Effect.promise(freePort)
    const started = performance.now()
    const command = daemonCommand()
    const daemon = yield* scopedNodeChild({
      args: [command.script],
      env: {
        NEON_DATABASE_URL: context.neonUrl,
        SUPABASE_DATABASE_URL: context.workspaceUrl,
        ENRICH_SYNC_HEALTH_PORT: String(port),
        ENRICH_SYNC_ANTI_ENTROPY_MINUTES: "0"
      },
      cwd: context.workDir,
      reportFile: join(context.workDir, "syncd.rss.json"),
      nodeFlags: [
        ...command.nodeFlags,
        ...(context.profile ? profileFlags(join(context.workDir, "profiles", "syncd")) : [])
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

/** (a) one bulk UPDATE. */
const benchBulk = async (
  context: DaemonBenchContext,
  daemon: RunningChild,
  port: number,
  workspace: SqlClient
) => {
  const range = context.ranges.bulk
  const count = range.to - range.from + 1
  const before = await readHealth(port)
  const meter = meterFor(context, daemon)
  const listener = sampleListener(port)
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

/** (b) small transactions as fast as they go. */
const benchStream = async (
  context: DaemonBenchContext,
  daemon: RunningChild,
  port: number,
  workspace: SqlClient
) => {
  const tag = "stream"
  const before = await readHealth(port)
  const meter = meterFor(context, daemon)
  const listener = sampleListener(port)
  const run = await smallTransactions(context.neonUrl, context.ranges.stream, {
    connections: 4,
    seconds: context.streamSeconds,
    tag
  })
  const appliedAt = await waitForHealth(
    port,
    (h) => h.neonTransactions >= before.neonTransactions + run.transactions,
    300_000
  )
  const cpu = meter.read()
  const queue = listener()
  const [arrived] = await workspace.query<{ n: string }>(
    `SELECT count(*) AS n FROM ${qualified(Company.workspaceTable)} WHERE city LIKE $1`,
    [`${tag} %`]
  )
  const applyMs = appliedAt === null ? null : appliedAt - run.startedAt
  const rowsPerSecond = applyMs === null ? null : perSecond(run.rows, applyMs)
  const generatorRowsPerSecond = perSecond(run.rows, run.lastCommitAt - run.startedAt)
  const targets = { rowsPerSecond: atLeast(round(rowsPerSecond, 0), 20_000) }
  return {
    connections: run.connections,
    rowsPerTransaction: run.rowsPerTransaction,
    transactions: run.transactions,
    rows: run.rows,
    generatorSeconds: round((run.lastCommitAt - run.startedAt) / 1000, 3),
    generatorRowsPerSecond: round(generatorRowsPerSecond, 0),
    generatorTransactionsPerSecond: round(perSecond(run.transactions, run.lastCommitAt - run.startedAt), 0),
    ranOutOfRows: run.ranOutOfRows,
    applySecondsFromFirstCommit: round(applyMs === null ? null : applyMs / 1000, 3),
    rowsPerSecond: targets.rowsPerSecond.value,
    lagAfterLastCommitSeconds: round(appliedAt === null ? null : (appliedAt - run.lastCommitAt) / 1000, 3),
    arrivedInWorkspace: Number(arrived?.n ?? 0),
    listenerQueue: queue,
    cpu,
    targets,
    pass: allPass(targets) && Number(arrived?.n ?? 0) === run.rows
  }
}

/** (c) latency at a paced rate. */
const benchLatency = async (context: DaemonBenchContext, daemon: RunningChild, workspace: SqlClient) => {
  const meter = meterFor(context, daemon)
  const run = await pacedCommits(context.neonUrl, context.ranges.latency, {
    connections: 8,
    rate: context.latencyRate,
    warmupSeconds: context.latencyWarmupSeconds,
    seconds: context.latencySeconds
  })
  const deadline = performance.now() + 60_000
  let arrived = await measuredArrivals(workspace)
  while (arrived < run.measuredCommits && performance.now() < deadline) {
    await sleep(100)
    arrived = await measuredArrivals(workspace)
  }
  const cpu = meter.read()
  const latencies = distribution(await measuredLatencies(workspace))
  const targets: Record<string, Target> = {
    p50Ms: below(latencies.p50, 20),
    p99Ms: below(latencies.p99, 100)
  }
  const rateReached = run.achievedRate !== null && run.achievedRate >= 0.95 * context.latencyRate
  return {
    targetRate: context.latencyRate,
    achievedRate: run.achievedRate,
    rateReached,
    connections: run.connections,
    warmupCommits: run.warmupCommits,
    measuredCommits: run.measuredCommits,
    samples: latencies.count,
    missing: run.measuredCommits - latencies.count,
    latencyMs: latencies,
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
      const workspace = yield* Effect.acquireRelease(
        Effect.promise(() => connect(context.workspaceUrl, "enrich-sync bench daemon probe")),
        (sql) => Effect.promise(() => sql.end())
      )
      yield* Effect.promise(() => installLatencyProbe(workspace))
      context.log("daemon: starting syncd (its start-up reconciles both sides)")
      yield* Effect.promise(() => resetPhaseStatements(context.neonUrl, context.workspaceUrl))
      const startupMeter = startCpuMeter(context.subjects)
      const { daemon, port, startupSeconds } = yield* startDaemon(context)
      const startup = {
        seconds: startupSeconds,
        cpu: startupMeter.read(),
        statements: yield* Effect.promise(() => phaseStatements(context.neonUrl, context.workspaceUrl))
      }
      context.log(
        `daemon: live after ${startupSeconds} s; (a) one bulk UPDATE of ${context.ranges.bulk.to - context.ranges.bulk.from + 1} rows`
      )
      // each phase: its statements on both sides; a failing phase is reported, the next ones still run
      const attempt = <A extends object>(f: () => Promise<A>) =>
        Effect.promise(async () => {
          await resetPhaseStatements(context.neonUrl, context.workspaceUrl)
          const result = await f().then((r) => r as A | ReturnType<typeof failedPart>, failedPart)
          return { ...result, statements: await phaseStatements(context.neonUrl, context.workspaceUrl) }
        })
      daemon.sampler.phase("bulkUpdate")
      const bulk = yield* attempt(() => benchBulk(context, daemon, port, workspace))
      context.log(`daemon: (b) small transactions for ${context.streamSeconds} s`)
      daemon.sampler.phase("smallTransactions")
      const stream = yield* attempt(() => benchStream(context, daemon, port, workspace))
      context.log(`daemon: (c) latency at ${context.latencyRate} commits/s`)
      daemon.sampler.phase("latency")
      const latency = yield* attempt(() => benchLatency(context, daemon, workspace))
      daemon.sampler.phase("stop")
      const peaks = daemon.sampler.peaks()
      const result = yield* Effect.promise(() => daemon.kill(20_000))
      const maxRssMb = Math.max(peaks.maxRssMb, result.maxRssMb ?? 0)
      const rssTargets = { maxRssMb: below(maxRssMb, 200) }
      return {
        startup,
        bulkUpdate: bulk,
        smallTransactions: stream,
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
          ? { profile: summariseProfile(join(context.workDir, "profiles", "syncd"), 25) }
          : {})
      }
    })
  )
