/**
 * What a bench run measures: the command line (`--rows N`, `--rtt MS[,MS...]`, `--skip cli|daemon`,
 * `--daemon-phases NAME[,NAME...]`, `--from-source`, `--profile`), `BENCH_ROWS` and `BENCH_RTT`.
 *
 * Invariant: every size the bench uses derives from `rows` here, so `--rows 100000` scales the whole run
 * down consistently (the promoted, bulk-updated and pushed rows are fractions of it, capped at the issues'
 * sizes, and the held-rate run is shortened in proportion); the round trips are the same for every size.
 */

import type { Program } from "./Program.ts"

/** The parts of the bench that can be skipped (while developing it). */
export type Section = "cli" | "daemon"

/** The daemon's phases, in the order they run. */
export const daemonPhases = [
  "pushLatency",
  "pushBulk",
  "bulkUpdate",
  "heldRate",
  "sustainedRate",
  "latency"
] as const
export type DaemonPhase = (typeof daemonPhases)[number]

/** The sizes and switches of one run. */
export interface BenchOptions {
  /** company rows seeded on Neon (default 1,000,000) */
  readonly rows: number
  /** the round trips to measure at, in ms, ascending (default 0 and 20; 0 = loopback, no proxy) */
  readonly rttsMs: ReadonlyArray<number>
  /** rows of the batched-INSERT baseline: 20,000, or all rows when fewer */
  readonly insertSample: number
  /** single-row UPDATE round trips timed on each link (their median is "a round trip") */
  readonly roundTripSamples: number
  /** rows marked PASSED and promoted: 100,000 at 1M rows (a tenth of the rows) */
  readonly promoteRows: number
  /** rows of the daemon's one bulk UPDATE: 200,000 at 1M rows (a fifth of the rows) */
  readonly bulkRows: number
  /** how long the writers hold a fixed rate of small transactions: 60 s at 1M rows, at least 10 s */
  readonly heldSeconds: number
  /** seconds of each step of the search for the highest sustained rate (a sixth of the held run, at least 5) */
  readonly rampStepSeconds: number
  /** most steps of that search (bounds its time) */
  readonly rampSteps: number
  /** commits per second of the latency run (Neon -> workspace) */
  readonly latencyRate: number
  /** warm-up and measured seconds of the latency run */
  readonly latencyWarmupSeconds: number
  readonly latencySeconds: number
  /** edits per second, warm-up and measured seconds of the workspace -> Neon latency run */
  readonly pushLatencyRate: number
  readonly pushLatencyWarmupSeconds: number
  readonly pushLatencySeconds: number
  /** workspace rows completed in one statement and pushed: 10,000 (a twentieth of the rows when fewer) */
  readonly pushRows: number
  readonly skip: ReadonlySet<Section>
  /** the daemon phases to run (default all; the others report `skipped`), for A/B runs of one phase */
  readonly daemonPhases: ReadonlySet<DaemonPhase>
  /** run the measured Node processes with `--cpu-prof` and report their hottest functions */
  readonly profile: boolean
  /** the programs measured: the package's bundles (default) or the repository's sources (`--from-source`) */
  readonly program: Program
}

/** The fixed rate (rows/s) the writers hold at a round trip: 30,000 on loopback, 20,000 over a link. */
export const heldRateFor = (rttMs: number): number => (rttMs === 0 ? 30_000 : 20_000)

/** A command line that cannot be run. */
export class UsageError extends Error {
  override readonly name = "UsageError"
}

/** `--help`: print the usage and stop (not an error). */
export class HelpRequested extends Error {
  override readonly name = "HelpRequested"
}

/** The usage line. */
export const usage =
  "usage: pnpm bench [-- --rows N] [--rtt MS[,MS...]] [--skip cli|daemon] [--daemon-phases NAME[,NAME...]] [--from-source] [--profile]  (BENCH_ROWS=N and BENCH_RTT=MS,... also set them; default 1000000 rows at 0,20 ms, every phase, the package's build of syncd and enrich-sync)"

const defaultRows = 1_000_000
const defaultRtts: ReadonlyArray<number> = [0, 20]

const parseRows = (text: string, from: string): number => {
  const n = Number(text.replaceAll("_", "").replaceAll(",", ""))
  if (!Number.isInteger(n) || n < 1000 || n > 50_000_000) {
    throw new UsageError(`${from} must be a whole number from 1000 to 50000000 (got "${text}")`)
  }
  return n
}

/** `0,20` -> [0, 20]: whole milliseconds from 0 to 1000, ascending, each once. */
const parseRtts = (text: string, from: string): ReadonlyArray<number> => {
  const parts = text.split(",").map((p) => p.trim())
  const values = parts.map((p) => (p === "" ? Number.NaN : Number(p)))
  if (values.some((v) => !Number.isInteger(v) || v < 0 || v > 1000)) {
    throw new UsageError(
      `${from} takes round trips in whole milliseconds from 0 to 1000, separated by commas, e.g. 0,20 or 0,5,20,60 (got "${text}")`
    )
  }
  return [...new Set(values)].sort((a, b) => a - b)
}

/** The options for `rows` rows (the derived sizes). */
export const optionsFor = (
  rows: number,
  skip: ReadonlySet<Section> = new Set(),
  profile = false,
  rttsMs: ReadonlyArray<number> = defaultRtts,
  phases: ReadonlySet<DaemonPhase> = new Set(daemonPhases),
  program: Program = "package"
): BenchOptions => {
  const heldSeconds = Math.max(10, Math.round(60 * Math.min(1, rows / 1_000_000)))
  return {
    rows,
    rttsMs,
    insertSample: Math.min(20_000, rows),
    roundTripSamples: 50,
    promoteRows: Math.min(100_000, Math.floor(rows / 10)),
    bulkRows: Math.min(200_000, Math.floor(rows / 5)),
    heldSeconds,
    rampStepSeconds: Math.max(5, Math.round(heldSeconds / 6)),
    rampSteps: 6,
    latencyRate: 1000,
    latencyWarmupSeconds: 2,
    latencySeconds: 10,
    pushLatencyRate: 5,
    pushLatencyWarmupSeconds: 2,
    pushLatencySeconds: 12,
    pushRows: Math.min(10_000, Math.floor(rows / 20)),
    skip,
    daemonPhases: phases,
    profile,
    program
  }
}

/**
 * Parses `argv` (after the script) and the values of `BENCH_ROWS` and `BENCH_RTT`; throws a `UsageError`
 * on bad input. A flag wins over its variable.
 */
export const parseBenchOptions = (
  argv: ReadonlyArray<string>,
  envRows: string | undefined,
  envRtt?: string
): BenchOptions => {
  let rows =
    envRows === undefined || envRows.trim() === "" ? defaultRows : parseRows(envRows.trim(), "BENCH_ROWS")
  let rtts = envRtt === undefined || envRtt.trim() === "" ? defaultRtts : parseRtts(envRtt, "BENCH_RTT")
  const skip = new Set<Section>()
  let phases: ReadonlySet<DaemonPhase> = new Set(daemonPhases)
  let profile = false
  let program: Program = "package"
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === "--") continue
    const [flag, inline] = arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg, undefined]
    const value = () => {
      const v = inline ?? argv[++i]
      if (v === undefined) throw new UsageError(`${flag} needs a value`)
      return v
    }
    switch (flag) {
      case "--rows":
        rows = parseRows(value(), "--rows")
        break
      case "--rtt":
        rtts = parseRtts(value(), "--rtt")
        break
      case "--skip":
        for (const part of value().split(",")) {
          const section = part.trim()
          if (section !== "cli" && section !== "daemon")
            throw new UsageError(`--skip takes cli and/or daemon (got "${section}")`)
          skip.add(section)
        }
        break
      case "--daemon-phases": {
        const names = value()
          .split(",")
          .map((p) => p.trim())
        const unknown = names.filter((n) => !(daemonPhases as ReadonlyArray<string>).includes(n))
        if (unknown.length > 0 || names.length === 0)
          throw new UsageError(
            `--daemon-phases takes one or more of ${daemonPhases.join(", ")}, separated by commas (got "${unknown.join(",") || names.join(",")}")`
          )
        phases = new Set(names as Array<DaemonPhase>)
        break
      }
      case "--profile":
        if (inline !== undefined) throw new UsageError("--profile takes no value")
        profile = true
        break
      case "--from-source":
        if (inline !== undefined) throw new UsageError("--from-source takes no value")
        program = "source"
        break
      case "--help":
      case "-h":
        throw new HelpRequested(usage)
      default:
        throw new UsageError(`unknown argument "${arg}"; ${usage}`)
    }
  }
  return optionsFor(rows, skip, profile, rtts, phases, program)
}
