/**
 * `pnpm bench`: measures the CLI stages (issue 3) and the daemon (issue 4) against two real local
 * PostgreSQL servers started here, and prints ONE JSON document on stdout: every figure with its baseline
 * (measured in the same run), its ratio, its target and pass/fail. Progress goes to stderr.
 *
 * `pnpm bench -- --rows 100000` (or BENCH_ROWS=100000) scales the run down; `--skip cli|daemon` leaves a
 * part out. The exit code is 0 whenever the measurements ran, whether or not targets were met (the JSON
 * says which were missed); 1 when the bench itself could not run; 2 for a bad command line.
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
import { type BenchOptions, HelpRequested, parseBenchOptions, UsageError } from "./BenchOptions.ts"
import { benchBackfill, benchPromote, benchSecondBackfill, benchVerify } from "./CliBench.ts"
import { measureCopyBaseline } from "./CopyBaseline.ts"
import { type CpuReading, postmasterOf } from "./CpuMeter.ts"
import { benchDaemon } from "./DaemonBench.ts"
import { measureInsertBaseline } from "./InsertBaseline.ts"
import { describeMachine, describeServer, load } from "./Machine.ts"
import { benchServers, seedNeon } from "./Servers.ts"
import { withConnection } from "./Sql.ts"
import type { StageContext } from "./StageRunner.ts"
import { round } from "./Stats.ts"
import { failedPart, type Target } from "./Target.ts"

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

/** Runs `section`; a failure becomes `{ error, pass: false }` in the results instead of ending the run. */
const section = <A, E>(name: string, effect: Effect.Effect<A, E>) =>
  Effect.catchCause(effect, (cause) => {
    if (Cause.hasInterruptsOnly(cause)) return Effect.failCause(cause as Cause.Cause<never>)
    log(`${name} failed: ${Cause.pretty(cause).split("\n")[0]}`)
    return Effect.succeed(failedPart(Cause.squash(cause)))
  })

const idRanges = (options: BenchOptions) => {
  const promoted = options.promoteRows
  const bulk = { from: promoted + 1, to: promoted + options.bulkRows }
  const remaining = options.rows - bulk.to
  const latencyRows = Math.min(
    options.latencyRate * (options.latencyWarmupSeconds + options.latencySeconds),
    Math.floor(remaining / 2)
  )
  const latency = { from: bulk.to + 1, to: bulk.to + latencyRows }
  return { bulk, latency, stream: { from: latency.to + 1, to: options.rows } }
}

const program = (options: BenchOptions) =>
  Effect.scoped(
    Effect.gen(function* () {
      const startedAt = new Date().toISOString()
      const machine = describeMachine()
      log(`rows: ${options.rows}; starting two PostgreSQL servers`)
      const servers = yield* benchServers
      const workDir = yield* Effect.acquireRelease(
        Effect.promise(() => mkdtemp(join(tmpdir(), "enrich-sync-bench-"))),
        (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
      )
      const [neonServer, workspaceServer, neonPostmaster, workspacePostmaster] = yield* Effect.promise(() =>
        Promise.all([
          describeServer(servers.neonUrl, servers.neon.kind),
          describeServer(servers.workspaceUrl, servers.supabase.kind),
          // the backend's parent is the postmaster (read while the backend still exists)
          withConnection(servers.neonUrl, async (sql) => postmasterOf(sql.processId)),
          withConnection(servers.workspaceUrl, async (sql) => postmasterOf(sql.processId))
        ])
      )
      const subjects = { neonPostmaster, workspacePostmaster }
      log(`seeding ${options.rows} companies on Neon`)
      const seed = yield* Effect.promise(() => seedNeon(servers.neonUrl, options.rows))
      log(
        `seeded in ${(seed.seedMs / 1000).toFixed(1)} s (+ VACUUM ANALYZE ${(seed.vacuumMs / 1000).toFixed(1)} s)`
      )
      const context: StageContext = {
        profile: options.profile,
        neonUrl: servers.neonUrl,
        workspaceUrl: servers.workspaceUrl,
        workDir,
        subjects
      }
      const results: Record<string, unknown> = {}

      if (!options.skip.has("cli")) {
        log("baseline: raw COPY pipe Neon -> workspace")
        const copy = yield* Effect.promise(() =>
          measureCopyBaseline(servers.neonUrl, servers.workspaceUrl, options.rows, subjects)
        )
        results.copyBaseline = copy
        log(`baseline COPY: ${copy.rowsPerSecond} rows/s`)
        log(`baseline: batched INSERT of 50 rows on ${options.insertSample} rows`)
        const insert = yield* measureInsertBaseline(servers.neonUrl, servers.supabase, options.insertSample)
        results.insertBaseline = insert
        log(`baseline INSERT: ${insert.rowsPerSecond} rows/s`)
        log("cli: backfill into the empty workspace")
        const backfill = yield* section("backfill", benchBackfill(context, options.rows, copy, insert))
        results.backfill = backfill
        log(
          `cli: backfill ${JSON.stringify({ seconds: (backfill as { seconds?: unknown }).seconds })}; second backfill`
        )
        const firstSeconds = "seconds" in backfill ? backfill.seconds : null
        results.secondBackfill = yield* section("second backfill", benchSecondBackfill(context, firstSeconds))
        log("cli: verify")
        results.verify = yield* section("verify", benchVerify(context, options.rows))
        log(`cli: promote ${options.promoteRows} PASSED rows`)
        results.promote = yield* section("promote", benchPromote(context, options.promoteRows))
      }

      if (!options.skip.has("daemon")) {
        results.daemon = yield* section(
          "daemon",
          benchDaemon({
            neonUrl: servers.neonUrl,
            workspaceUrl: servers.workspaceUrl,
            workDir,
            subjects,
            ranges: idRanges(options),
            streamSeconds: options.streamSeconds,
            latencyRate: options.latencyRate,
            latencyWarmupSeconds: options.latencyWarmupSeconds,
            latencySeconds: options.latencySeconds,
            log,
            profile: options.profile
          })
        )
      }

      const targets: Array<{ name: string } & Target> = []
      collectTargets(results, "", targets)
      const misses = targets.filter((t) => !t.pass)
      const failedSections = Object.entries(results)
        .filter(([, r]) => typeof r === "object" && r !== null && "error" in r)
        .map(([name]) => name)
      log("stopping servers")
      return {
        bench: "@enrich-sync/bench",
        startedAt,
        durationSeconds: round((performance.now() - began) / 1000, 1),
        rows: options.rows,
        machine: {
          ...machine,
          loadAverageAtEnd: load(),
          postgres: { neon: neonServer, workspace: workspaceServer }
        },
        setup: {
          seededCompanies: seed.companies,
          seedSeconds: round(seed.seedMs / 1000, 2),
          vacuumAnalyzeSeconds: round(seed.vacuumMs / 1000, 2),
          sizes: {
            insertSample: options.insertSample,
            promoteRows: options.promoteRows,
            bulkRows: options.bulkRows,
            streamSeconds: options.streamSeconds,
            latencyRate: options.latencyRate,
            latencySeconds: options.latencySeconds,
            idRanges: idRanges(options)
          },
          skipped: [...options.skip],
          profiled: options.profile
        },
        results,
        contention: contention(results, machine.cpus),
        summary: {
          targets: targets.length,
          passed: targets.length - misses.length,
          missed: misses.map((t) => ({ name: t.name, value: t.value, target: t.target })),
          failedSections,
          allPass: misses.length === 0 && failedSections.length === 0 && targets.length > 0
        }
      }
    })
  )

const main = () => {
  let options: BenchOptions
  try {
    options = parseBenchOptions(process.argv.slice(2), process.env.BENCH_ROWS)
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
