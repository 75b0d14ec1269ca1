/**
 * Writes to the Neon-side server the way the daemon's benchmarks need, as the source's applications do
 * (directly, never through the links): one bulk UPDATE, small transactions held at a fixed rate, and a
 * paced stream of one-row commits each stamped with its own `clock_timestamp()` (for latency). Rows are chosen by `id` (1..rows, from the seeding), from
 * ranges the caller gives, so no two kinds of change touch the same row and every change is a real
 * change of a synced column (the daemon merges it into the workspace); only the fixed-rate writers come
 * back to rows they changed before (with a new value), since a minute of them needs more rows than there are.
 *
 * Invariant: the generators stop on their own (time or rows used up) and close their connections.
 */
import { Company, qualified } from "@enrich-sync/core"
import { connect, type SqlClient } from "./Sql.ts"
import { distribution, perSecond, round } from "./Stats.ts"

const table = qualified(Company.sourceTable)

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** A range of row ids, `from` to `to` inclusive. */
export interface IdRange {
  readonly from: number
  readonly to: number
}

/** One bulk UPDATE of `range` (a new `phone` on every row); times taken with `performance.now()`. */
export const bulkUpdate = async (neonUrl: string, range: IdRange) => {
  const sql = await connect(neonUrl, "enrich-sync bench bulk update")
  try {
    const startedAt = performance.now()
    const rows = await sql.execute(
      `UPDATE ${table} SET phone = '681-555-' || lpad((id % 10000)::text, 4, '0') WHERE id BETWEEN $1 AND $2`,
      [range.from, range.to]
    )
    return { rows, startedAt, committedAt: performance.now() }
  } finally {
    await sql.end()
  }
}

/** The workspace rows of `range` that hold the bulk update's value (to check that it all arrived). */
export const bulkUpdateArrived = (workspace: SqlClient, range: IdRange) =>
  workspace
    .query<{ n: string }>(
      `SELECT count(*) AS n FROM ${qualified(Company.workspaceTable)}
        WHERE neon_id BETWEEN $1 AND $2 AND phone = '681-555-' || lpad((neon_id % 10000)::text, 4, '0')`,
      [range.from, range.to]
    )
    .then(([row]) => Number(row?.n ?? 0))

/** What a run of small transactions at a fixed rate did. */
export interface HeldRun {
  readonly connections: number
  /** the rate asked for (rows/s) */
  readonly targetRowsPerSecond: number
  readonly transactions: number
  readonly rows: number
  readonly startedAt: number
  readonly lastCommitAt: number
  /** when each transaction's commit returned (performance.now), ascending */
  readonly commitTimes: Float64Array
  /** transactions of 1 to 10 rows (uniform) */
  readonly rowsPerTransaction: string
  /** how late transactions started against their schedule (ms) */
  readonly startDelayMs: ReturnType<typeof distribution>
  /** the writers were told to stop before their time (`control.stop`) */
  readonly stoppedEarly: boolean
}

/**
 * Small transactions (1 to 10 rows each, one UPDATE of a new `city` written `<tag> <n>`) at a fixed rate of
 * `rowsPerSecond` for `seconds`, from `connections` connections sharing one schedule (a transaction is
 * due when the rows before it, at the rate, have had their time; one that is late goes at once). Rows
 * are taken in turn from `range`, starting again at its beginning when it runs out (a row is updated
 * again, with a new value). Each connection runs one prepared statement. `onCommit` hears of each commit as
 * it returns; setting `control.stop` ends the run early (no new transaction starts).
 */
export const heldTransactions = async (
  neonUrl: string,
  range: IdRange,
  options: {
    readonly connections: number
    readonly rowsPerSecond: number
    readonly seconds: number
    readonly tag: string
    readonly onCommit?: (at: number) => void
    readonly control?: { stop: boolean }
  }
): Promise<HeldRun> => {
  const clients = await Promise.all(
    Array.from({ length: options.connections }, () => connect(neonUrl, "enrich-sync bench held rate"))
  )
  const span = range.to - range.from + 1
  let offset = 0
  let scheduledRows = 0
  let issued = 0
  let transactions = 0
  let rows = 0
  let lastCommitAt = 0
  let commitTimes = new Float64Array(1 << 16)
  const delays: Array<number> = []
  let random = 0x2545f491
  const nextSize = () => {
    random ^= random << 13
    random ^= random >>> 17
    random ^= random << 5
    return 1 + ((random >>> 0) % 10)
  }
  const startedAt = performance.now() + 20
  const deadline = startedAt + options.seconds * 1000
  const text = `UPDATE ${table} SET city = $2 WHERE id = ANY($1::bigint[])`
  try {
    await Promise.all(
      clients.map(async (sql) => {
        for (;;) {
          const size = nextSize()
          const due = startedAt + (scheduledRows / options.rowsPerSecond) * 1000
          if (due >= deadline || options.control?.stop === true) return
          scheduledRows += size
          const ids = Array.from({ length: size }, (_, i) => range.from + ((offset + i) % span))
          offset = (offset + size) % span
          const sequence = issued++
          const wait = due - performance.now()
          if (wait > 1) await sleep(wait)
          delays.push(performance.now() - due)
          await sql.prepared("bench_held", text, [ids, `${options.tag} ${sequence}`])
          const at = performance.now()
          if (transactions === commitTimes.length) {
            const grown = new Float64Array(commitTimes.length * 2)
            grown.set(commitTimes)
            commitTimes = grown
          }
          commitTimes[transactions++] = at
          options.onCommit?.(at)
          rows += size
          lastCommitAt = Math.max(lastCommitAt, at)
        }
      })
    )
  } finally {
    await Promise.all(clients.map((c) => c.end()))
  }
  const times = commitTimes.slice(0, transactions).sort()
  return {
    connections: options.connections,
    targetRowsPerSecond: options.rowsPerSecond,
    transactions,
    rows,
    startedAt,
    lastCommitAt,
    commitTimes: times,
    rowsPerTransaction: "1-10",
    startDelayMs: distribution(delays),
    stoppedEarly: options.control?.stop === true
  }
}

/** The prefix of the `address` a latency commit writes: `bench <marker> <epoch microseconds>`. */
export const latencyPrefix = "bench "

/** What a paced run did. */
export interface PacedRun {
  readonly connections: number
  readonly targetRate: number
  /** commits of the measured window (after the warm-up) */
  readonly measuredCommits: number
  readonly warmupCommits: number
  /** measured commits / measured window */
  readonly achievedRate: number | null
  /** how late commits started against their schedule (ms) */
  readonly startDelayMs: ReturnType<typeof distribution>
  /** how long one commit took from the client (ms) */
  readonly commitMs: ReturnType<typeof distribution>
  readonly measuredStartedAt: number
  readonly lastCommitAt: number
}

/**
 * One-row commits at `rate` per second, scheduled evenly (commit i is due at start + i/rate) and spread
 * over `connections` connections; each sets `address` to `bench <m|w><i> <clock_timestamp in epoch
 * microseconds>` in the UPDATE itself. `w` marks the warm-up commits, `m` the measured ones.
 */
export const pacedCommits = async (
  neonUrl: string,
  range: IdRange,
  options: {
    readonly connections: number
    readonly rate: number
    readonly warmupSeconds: number
    readonly seconds: number
  }
): Promise<PacedRun> => {
  const clients = await Promise.all(
    Array.from({ length: options.connections }, () => connect(neonUrl, "enrich-sync bench paced commits"))
  )
  const warmup = Math.round(options.warmupSeconds * options.rate)
  const total = warmup + Math.round(options.seconds * options.rate)
  const available = range.to - range.from + 1
  const count = Math.min(total, available)
  const interval = 1000 / options.rate
  const delays: Array<number> = []
  const durations: Array<number> = []
  let next = 0
  let lastCommitAt = 0
  let measured = 0
  const startedAt = performance.now() + 50
  const measuredStartedAt = startedAt + warmup * interval
  try {
    await Promise.all(
      clients.map(async (sql) => {
        for (;;) {
          const i = next++
          if (i >= count) return
          const due = startedAt + i * interval
          const wait = due - performance.now()
          if (wait > 1) await sleep(wait)
          const began = performance.now()
          const marker = `${i < warmup ? "w" : "m"}${i}`
          await sql.execute(
            `UPDATE ${table} SET address = '${latencyPrefix}' || $2 || ' ' || (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
              WHERE id = $1`,
            [range.from + i, marker]
          )
          const ended = performance.now()
          lastCommitAt = Math.max(lastCommitAt, ended)
          if (i >= warmup) {
            measured++
            delays.push(began - due)
            durations.push(ended - began)
          }
        }
      })
    )
  } finally {
    await Promise.all(clients.map((c) => c.end()))
  }
  return {
    connections: options.connections,
    targetRate: options.rate,
    measuredCommits: measured,
    warmupCommits: Math.min(warmup, count),
    achievedRate: round(perSecond(measured, lastCommitAt - measuredStartedAt), 1),
    startDelayMs: distribution(delays),
    commitMs: distribution(durations),
    measuredStartedAt,
    lastCommitAt
  }
}
