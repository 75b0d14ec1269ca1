/**
 * Writes to the Neon-side server the way the daemon's benchmarks need: one bulk UPDATE, a stream of small
 * transactions as fast as a few connections go, and a paced stream of one-row commits each stamped with
 * its own `clock_timestamp()` (for latency). Rows are chosen by `id` (1..rows, from the seeding), from
 * ranges the caller gives, so no two changes of one run touch the same row and every change is a real
 * change of a synced column (the daemon merges it into the workspace).
 *
 * Invariant: the generators stop on their own (time or rows used up) and close their connections.
 */
import { Company, qualified } from "@enrich-sync/core"
import { connect, type SqlClient } from "./Sql.ts"
import { distribution, perSecond, round } from "./Stats.ts"

const table = qualified(Company.sourceTable)

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

/** What a stream of small transactions did. */
export interface StreamRun {
  readonly connections: number
  readonly transactions: number
  readonly rows: number
  readonly startedAt: number
  readonly lastCommitAt: number
  /** transactions of 1 to 10 rows (uniform) */
  readonly rowsPerTransaction: string
  readonly ranOutOfRows: boolean
}

/**
 * Small transactions (1 to 10 rows each, one UPDATE of a new `city`) from `connections` connections, each
 * on its own slice of `range`, as fast as they go, for `seconds` or until the rows run out.
 */
export const smallTransactions = async (
  neonUrl: string,
  range: IdRange,
  options: { readonly connections: number; readonly seconds: number; readonly tag: string }
): Promise<StreamRun> => {
  const clients = await Promise.all(
    Array.from({ length: options.connections }, () =>
      connect(neonUrl, "enrich-sync bench small transactions")
    )
  )
  const span = Math.floor((range.to - range.from + 1) / options.connections)
  let transactions = 0
  let rows = 0
  let ranOut = false
  let lastCommitAt = 0
  const startedAt = performance.now()
  const deadline = startedAt + options.seconds * 1000
  let random = 0x2545f491
  const nextSize = () => {
    random ^= random << 13
    random ^= random >>> 17
    random ^= random << 5
    return 1 + ((random >>> 0) % 10)
  }
  try {
    await Promise.all(
      clients.map(async (sql, c) => {
        let next = range.from + c * span
        const end = next + span - 1
        while (performance.now() < deadline) {
          const size = nextSize()
          if (next + size - 1 > end) {
            ranOut = true
            return
          }
          const ids = Array.from({ length: size }, (_, i) => next + i)
          next += size
          await sql.execute(`UPDATE ${table} SET city = $2 WHERE id = ANY($1::bigint[])`, [
            ids,
            `${options.tag} ${next}`
          ])
          transactions++
          rows += size
          lastCommitAt = performance.now()
        }
      })
    )
  } finally {
    await Promise.all(clients.map((c) => c.end()))
  }
  return {
    connections: options.connections,
    transactions,
    rows,
    startedAt,
    lastCommitAt,
    rowsPerTransaction: "1-10",
    ranOutOfRows: ranOut
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

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

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
