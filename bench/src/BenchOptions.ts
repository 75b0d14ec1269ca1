/**
 * What a bench run measures: the command line (`--rows N`, `--skip cli|daemon`, `--profile`) and
 * `BENCH_ROWS`.
 *
 * Invariant: every size the bench uses derives from `rows` here, so `--rows 100000` scales the whole run
 * down consistently (the promoted, bulk-updated and streamed rows are fractions of it, capped at the
 * issues' sizes).
 */

/** The parts of the bench that can be skipped (while developing it). */
export type Section = "cli" | "daemon"

/** The sizes and switches of one run. */
export interface BenchOptions {
  /** company rows seeded on Neon (default 1,000,000) */
  readonly rows: number
  /** rows of the batched-INSERT baseline: 20,000, or all rows when fewer */
  readonly insertSample: number
  /** rows marked PASSED and promoted: 100,000 at 1M rows (a tenth of the rows) */
  readonly promoteRows: number
  /** rows of the daemon's one bulk UPDATE: 200,000 at 1M rows (a fifth of the rows) */
  readonly bulkRows: number
  /** how long the small-transaction stream runs, in seconds */
  readonly streamSeconds: number
  /** commits per second of the latency run */
  readonly latencyRate: number
  /** warm-up and measured seconds of the latency run */
  readonly latencyWarmupSeconds: number
  readonly latencySeconds: number
  readonly skip: ReadonlySet<Section>
  /** run the measured Node processes with `--cpu-prof` and report their hottest functions */
  readonly profile: boolean
}

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
  "usage: pnpm bench [-- --rows N] [--skip cli|daemon] [--profile]  (BENCH_ROWS=N also sets the rows; default 1000000)"

const defaultRows = 1_000_000

const parseRows = (text: string, from: string): number => {
  const n = Number(text.replaceAll("_", "").replaceAll(",", ""))
  if (!Number.isInteger(n) || n < 1000 || n > 50_000_000) {
    throw new UsageError(`${from} must be a whole number from 1000 to 50000000 (got "${text}")`)
  }
  return n
}

/** The options for `rows` rows (the derived sizes). */
export const optionsFor = (
  rows: number,
  skip: ReadonlySet<Section> = new Set(),
  profile = false
): BenchOptions => ({
  rows,
  insertSample: Math.min(20_000, rows),
  promoteRows: Math.min(100_000, Math.floor(rows / 10)),
  bulkRows: Math.min(200_000, Math.floor(rows / 5)),
  streamSeconds: 10,
  latencyRate: 1000,
  latencyWarmupSeconds: 2,
  latencySeconds: 10,
  skip,
  profile
})

/** Parses `argv` (after the script) and the value of `BENCH_ROWS`; throws a `UsageError` on bad input. */
export const parseBenchOptions = (argv: ReadonlyArray<string>, envRows: string | undefined): BenchOptions => {
  let rows =
    envRows === undefined || envRows.trim() === "" ? defaultRows : parseRows(envRows.trim(), "BENCH_ROWS")
  const skip = new Set<Section>()
  let profile = false
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
      case "--skip":
        for (const part of value().split(",")) {
          const section = part.trim()
          if (section !== "cli" && section !== "daemon")
            throw new UsageError(`--skip takes cli and/or daemon (got "${section}")`)
          skip.add(section)
        }
        break
      case "--profile":
        if (inline !== undefined) throw new UsageError("--profile takes no value")
        profile = true
        break
      case "--help":
      case "-h":
        throw new HelpRequested(usage)
      default:
        throw new UsageError(`unknown argument "${arg}"; ${usage}`)
    }
  }
  return optionsFor(rows, skip, profile)
}
