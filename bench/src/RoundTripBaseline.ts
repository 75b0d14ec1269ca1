/**
 * What one round trip costs a program on a link: a single-row `UPDATE` of a one-row bench table
 * (autocommit: the statement and its commit in one round trip), timed from the client, many times. Its
 * median is the "round trip" the latency targets are counted in (`2 round trips + 10 ms`): the link's
 * delay plus what the server takes for the smallest write.
 *
 * Invariant: it writes only `bench.round_trip` (created over the direct URL), never the synced tables, so
 * nothing it does reaches the daemon.
 */
import { connect, withConnection } from "./Sql.ts"
import { distribution, median, round } from "./Stats.ts"

/** A link's round trip. */
export interface RoundTrip {
  readonly method: string
  readonly samples: number
  /** the median (ms) */
  readonly ms: number | null
  readonly distributionMs: ReturnType<typeof distribution>
}

const table = "bench.round_trip"

/**
 * Times `samples` single-row UPDATEs through `url` (the program's URL, through the link), after a few
 * untimed ones; `directUrl` reaches the same database directly, for the set-up.
 */
export const measureRoundTrip = async (
  url: string,
  directUrl: string,
  samples: number
): Promise<RoundTrip> => {
  await withConnection(directUrl, async (sql) => {
    await sql.execute("CREATE SCHEMA IF NOT EXISTS bench")
    await sql.execute(`CREATE TABLE IF NOT EXISTS ${table} (id int PRIMARY KEY, n bigint NOT NULL)`)
    await sql.execute(`INSERT INTO ${table} VALUES (1, 0) ON CONFLICT (id) DO NOTHING`)
  })
  const sql = await connect(url, "enrich-sync bench round trip")
  try {
    const update = `UPDATE ${table} SET n = n + 1 WHERE id = 1`
    for (let i = 0; i < 5; i++) await sql.execute(update)
    const times: Array<number> = []
    for (let i = 0; i < samples; i++) {
      const started = performance.now()
      await sql.execute(update)
      times.push(performance.now() - started)
    }
    return {
      method: `${samples} single-row UPDATEs (autocommit) of ${table}, one after the other on one connection through the link, timed from the client; median`,
      samples,
      ms: round(median(times), 2),
      distributionMs: distribution(times)
    }
  } finally {
    await sql.end()
  }
}
