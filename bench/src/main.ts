/**
 * `pnpm bench`: measures the CLI stages (issue 3) and the daemon (issue 4) against two real local
 * PostgreSQL servers started here, once per round trip (issue 14: loopback, and 20 ms through latency
 * proxies, by default), and prints ONE JSON document on stdout: every figure of every run with its
 * baseline (measured in the same run, through the same links), its ratio, its target and pass/fail.
 * Progress goes to stderr.
 *
 * `pnpm bench -- --rows 100000` (or BENCH_ROWS=100000) scales the run down; `--rtt 0,5,20,60` (or
 * BENCH_RTT) chooses the round trips; `--skip cli|daemon` leaves a part out, `--daemon-phases` runs only the daemon phases named. The exit code is 0 whenever
 * the measurements ran, whether or not targets were met (the JSON says which were missed); 1 when the
 * bench itself could not run; 2 for a bad command line.
 *
 * Invariant: servers, child processes and temporary folders are gone when the bench exits, also after
 * Ctrl-C (SIGINT/SIGTERM interrupt the run, and every resource is released by its scope).
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import {
  type BenchOptions,
  HelpRequested,
  heldRateFor,
  parseBenchOptions,
  UsageError
} from "./BenchOptions.ts"
import { benchRun, idRanges } from "./BenchRun.ts"
import { codeVersion } from "./CodeVersion.ts"
import { type CpuReading, postmasterOf } from "./CpuMeter.ts"
import { describeMachine, describeServer, load } from "./Machine.ts"
import { buildPackage, bundleDir } from "./Program.ts"
import { benchServers, seedNeon } from "./Servers.ts"
import { withConnection } from "./Sql.ts"
import { round } from "./Stats.ts"
import type { Target } from "./Target.ts"

const began = performance.now()
const log = (line: string) => {
  process.stderr.write(`[bench ${((performance.now() - began) / 1000).toFixed(1).padStart(6)} s] ${line}\n`)
}

/** Every CPU reading in the results (the measured phases). */
const collectCpu = (value: unknown, into: Array<CpuReading>) => {
  if (value === null || typeof value !== "object") return
  const record = value as Record<string, unknown>
  if (typeof record.machineBusySeconds === "number" && typeof record.wallSeconds === "number") {
    into.push(record as unknown as CpuReading)
    return
  }
  for (const child of Object.values(record)) collectCpu(child, into)
}

/**
 * How much of the machine other work took during the measured phases: the CPU seconds of processes that
 * are neither the bench, its child nor the two servers, as a share of the machine's capacity (wall x
 * cores). Figures measured while this is high are slower than the same code on a quiet machine.
 */
const contention = (results: unknown, cpus: number) => {
  const readings: Array<CpuReading> = []
  collectCpu(results, readings)
  const wall = readings.reduce((s, r) => s + r.wallSeconds, 0)
  const other = readings.reduce((s, r) => s + r.otherProcessesSeconds, 0)
  const busy = readings.reduce((s, r) => s + r.machineBusySeconds, 0)
  return {
    measuredPhases: readings.length,
    measuredSeconds: round(wall, 1),
    machineBusyShare: round(wall > 0 ? busy / (wall * cpus) : null, 2),
    otherProcessesCpuSeconds: round(other, 1),
    otherProcessesShareOfMachine: round(wall > 0 ? other / (wall * cpus) : null, 2),
    note: "CPU taken by processes outside the bench (other work on this machine) while the figures were measured; when high, every figure is slower than on a quiet machine"
  }
}

/** Every `targets` record in the results, flattened to `path.name`. */
const collectTargets = (value: unknown, path: string, into: Array<{ name: string } & Target>) => {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return
  const record = value as Record<string, unknown>
  if (record.targets !== undefined && typeof record.targets === "object" && record.targets !== null) {
    for (const [name, target] of Object.entries(record.targets as Record<string, Target>)) {
      into.push({ name: `${path}.${name}`, ...target })
    }
  }
  for (const [key, child] of Object.entries(record)) {
    if (key !== "targets") collectTargets(child, path === "" ? key : `${path}.${key}`, into)
  }
}

/** The targets and failed parts of one run's results. */
const verdicts = (results: Record<string, unknown>) => {
  const targets: Array<{ name: string } & Target> = []
  collectTargets(results, "", targets)
  const failedSections = Object.entries(results)
    .filter(([, r]) => typeof r === "object" && r !== null && "error" in r)
    .map(([name]) => name)
  return { targets, misses: targets.filter((t) => !t.pass), failedSections }
}

const program = (options: BenchOptions) =>
  Effect.scoped(
    Effect.gen(function* () {
      const startedAt = new Date().toISOString()
      const machine = describeMachine()
      const code = codeVersion()
      const runsPrograms = !options.skip.has("cli") || !options.skip.has("daemon")
      const buildSeconds = options.program === "package" && runsPrograms ? buildPackage() : null
      if (buildSeconds !== null)
        log(`built the enrich-sync package's bundles (${bundleDir}) in ${buildSeconds} s`)
      log(
        `rows: ${options.rows}; round trips: ${options.rttsMs.join(", ")} ms; starting two PostgreSQL servers`
      )
      const servers = yield* benchServers
      const workDir = yield* Effect.acquireRelease(
        Effect.promise(() => mkdtemp(join(tmpdir(), "enrich-sync-bench-"))),
        (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
      )
      const [neonServer, workspaceServer, neonPostmaster, workspacePostmaster] = yield* Effect.promise(() =>
        Promise.all([
          describeServer(servers.neon.url(), servers.neon.kind),
          describeServer(servers.supabase.url(), servers.supabase.kind),
          // the backend's parent is the postmaster (read while the backend still exists)
          withConnection(servers.neon.url(), async (sql) => postmasterOf(sql.processId)),
          withConnection(servers.supabase.url(), async (sql) => postmasterOf(sql.processId))
        ])
      )
      log(`seeding ${options.rows} companies on Neon`)
      const seed = yield* seedNeon(servers, options.rows)
      log(
        `seeded in ${(seed.seedMs / 1000).toFixed(1)} s (+ VACUUM ANALYZE ${(seed.vacuumMs / 1000).toFixed(1)} s)`
      )
      const runs: Array<Record<string, unknown>> = []
      let loopbackVerifySeconds: number | null = null
      for (const rttMs of options.rttsMs) {
        const results = yield* benchRun({
          servers,
          options,
          rttMs,
          workDir,
          postmasters: { neonPostmaster, workspacePostmaster },
          loopbackVerifySeconds,
          log
        })
        if (rttMs === 0) {
          const verify = results.verify as { seconds?: number | null } | undefined
          loopbackVerifySeconds = verify?.seconds ?? null
        }
        const { targets, misses, failedSections } = verdicts(results)
        runs.push({
          rttMs,
          results,
          contention: contention(results, machine.cpus),
          summary: {
            targets: targets.length,
            passed: targets.length - misses.length,
            missed: misses.map((t) => ({ name: t.name, value: t.value, target: t.target })),
            failedSections
          }
        })
      }

      const all = runs.map((run) => ({
        rttMs: run.rttMs as number,
        ...verdicts(run.results as Record<string, unknown>)
      }))
      const targetCount = all.reduce((n, r) => n + r.targets.length, 0)
      const missed = all.flatMap((r) =>
        r.misses.map((t) => ({ rttMs: r.rttMs, name: t.name, value: t.value, target: t.target }))
      )
      const failedSections = all.flatMap((r) => r.failedSections.map((name) => ({ rttMs: r.rttMs, name })))
      log("stopping servers")
      return {
        bench: "@enrich-sync/bench",
        startedAt,
        durationSeconds: round((performance.now() - began) / 1000, 1),
        rows: options.rows,
        rttsMs: options.rttsMs,
        code,
        machine: {
          ...machine,
          loadAverageAtEnd: load(),
          postgres: { neon: neonServer, workspace: workspaceServer }
        },
        setup: {
          seededCompanies: seed.companies,
          seedSeconds: round(seed.seedMs / 1000, 2),
          vacuumAnalyzeSeconds: round(seed.vacuumMs / 1000, 2),
          links:
            "per round trip above 0: a latency proxy (bench/src/LatencyProxy.ts, in a process of its own) in front of Neon, the workspace and the Realtime stand-in, holding each direction for half the round trip; the CLI stages, the daemon and the baselines connect through them, the load writers, the enricher and the bench's checks directly",
          sizes: {
            insertSample: options.insertSample,
            roundTripSamples: options.roundTripSamples,
            promoteRows: options.promoteRows,
            bulkRows: options.bulkRows,
            heldSeconds: options.heldSeconds,
            heldRowsPerSecond: Object.fromEntries(options.rttsMs.map((rtt) => [rtt, heldRateFor(rtt)])),
            rampStepSeconds: options.rampStepSeconds,
            rampSteps: options.rampSteps,
            latencyRate: options.latencyRate,
            latencySeconds: options.latencySeconds,
            pushLatencyRate: options.pushLatencyRate,
            pushLatencySeconds: options.pushLatencySeconds,
            pushRows: options.pushRows,
            idRanges: idRanges(options)
          },
          programs:
            options.program === "package"
              ? `the enrich-sync package's bundles (${bundleDir}/syncd.js, enrich-sync.js: what the installed bins and the container image run), built by apps/cli/scripts/bundle.ts at the start of the run${buildSeconds === null ? "" : ` (${buildSeconds} s)`}, with the node flags of the root package.json's scripts`
              : "the TypeScript sources, as the repository's pnpm start and pnpm enrich-sync run them (--from-source)",
          skipped: [...options.skip],
          daemonPhases: [...options.daemonPhases],
          profiled: options.profile
        },
        runs,
        contention: contention(
          runs.map((r) => r.results),
          machine.cpus
        ),
        summary: {
          targets: targetCount,
          passed: targetCount - missed.length,
          missed,
          failedSections,
          allPass: missed.length === 0 && failedSections.length === 0 && targetCount > 0
        }
      }
    })
  )

const main = () => {
  let options: BenchOptions
  try {
    options = parseBenchOptions(process.argv.slice(2), process.env.BENCH_ROWS, process.env.BENCH_RTT)
  } catch (error) {
    if (error instanceof HelpRequested) {
      process.stdout.write(`${error.message}\n`)
      return
    }
    if (error instanceof UsageError) {
      process.stderr.write(`bench: ${error.message}\n`)
      process.exitCode = 2
      return
    }
    throw error
  }
  const fiber = Effect.runFork(program(options))
  let interrupted = false
  const stop = (signal: NodeJS.Signals) => {
    if (interrupted) return
    interrupted = true
    log(`${signal}: stopping the run and cleaning up (servers, children, temporary files)`)
    Effect.runFork(Fiber.interrupt(fiber))
  }
  process.on("SIGINT", stop)
  process.on("SIGTERM", stop)
  fiber.addObserver((exit) => {
    process.off("SIGINT", stop)
    process.off("SIGTERM", stop)
    if (Exit.isSuccess(exit)) {
      process.stdout.write(`${JSON.stringify(exit.value, null, 2)}\n`)
      log(`done in ${((performance.now() - began) / 1000).toFixed(1)} s`)
      process.exitCode = 0
    } else if (interrupted) {
      log("interrupted; cleaned up")
      process.exitCode = 130
    } else {
      const message = Cause.pretty(exit.cause)
      process.stdout.write(
        `${JSON.stringify({ bench: "@enrich-sync/bench", error: message.split("\n")[0] }, null, 2)}\n`
      )
      log(`the bench could not run: ${message}`)
      process.exitCode = 1
    }
  })
}

main()
