/**
 * What the two latency probes (`LatencyProbe`, Neon -> workspace; `PushProbe`, workspace -> Neon) share: a
 * bench-only AFTER UPDATE trigger on the table the daemon writes that records, for every row whose
 * `address` became a stamp (`<prefix><marker> <the other side's clock_timestamp() in epoch microseconds>`),
 * this side's `clock_timestamp()` when the daemon wrote it, in its own table `bench.<table>`. Both servers
 * run on this machine, so both stamps come from one clock: latency = this side's stamp - the other's.
 *
 * Invariant: a probe only reads the rows the daemon writes and only writes its own table.
 */
import type { SqlClient } from "./Sql.ts"

/** One probe's names. */
export interface StampProbe {
  /** the probe's table, in schema `bench` */
  readonly table: string
  /** the trigger function, in schema `bench` */
  readonly function: string
  readonly trigger: string
  /** the table the daemon writes (qualified) */
  readonly on: string
  /** the key column of `on` */
  readonly key: string
  /** how a stamped `address` starts */
  readonly prefix: string
}

/** Creates the probe's table and its trigger (idempotent). */
export const installStampProbe = async (sql: SqlClient, probe: StampProbe): Promise<void> => {
  await sql.execute("CREATE SCHEMA IF NOT EXISTS bench")
  await sql.execute(
    `CREATE TABLE IF NOT EXISTS bench.${probe.table} (record_key text NOT NULL, address text NOT NULL, seen_at timestamptz NOT NULL)`
  )
  await sql.execute(`CREATE OR REPLACE FUNCTION bench.${probe.function}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO bench.${probe.table} VALUES (NEW.${probe.key}, NEW.address, clock_timestamp());
      RETURN NULL;
    END $$`)
  await dropStampTrigger(sql, probe)
  await sql.execute(`CREATE TRIGGER ${probe.trigger} AFTER UPDATE ON ${probe.on}
    FOR EACH ROW WHEN (NEW.address LIKE '${probe.prefix}%' AND NEW.address IS DISTINCT FROM OLD.address)
    EXECUTE FUNCTION bench.${probe.function}()`)
}

/** Drops the probe's trigger (its table stays, with what it recorded). */
export const dropStampTrigger = (sql: SqlClient, probe: StampProbe): Promise<number> =>
  sql.execute(`DROP TRIGGER IF EXISTS ${probe.trigger} ON ${probe.on}`)

/** A stamp's marker (`w…` warm-up, `m…` measured). */
const marker = "split_part(address, ' ', 2)"

/**
 * How many measured (`m`) stamps the probe recorded: every recorded write (`"writes"`), or each marker
 * once (`"markers"`).
 */
export const measuredStamps = (
  sql: SqlClient,
  probe: StampProbe,
  counted: "writes" | "markers"
): Promise<number> =>
  sql
    .query<{ n: string }>(
      `SELECT count(${counted === "writes" ? "*" : `DISTINCT ${marker}`}) AS n FROM bench.${probe.table} WHERE ${marker} LIKE 'm%'`
    )
    .then(([row]) => Number(row?.n ?? 0))

/** The latency of every measured stamp, in milliseconds (the first arrival of each marker). */
export const measuredStampLatencies = async (sql: SqlClient, probe: StampProbe): Promise<Array<number>> => {
  const rows = await sql.query<{ ms: number }>(
    `SELECT min((extract(epoch FROM seen_at) * 1000000)::bigint - split_part(address, ' ', 3)::bigint) / 1000.0 AS ms
       FROM bench.${probe.table} WHERE ${marker} LIKE 'm%'
      GROUP BY ${marker}`
  )
  return rows.map((r) => Number(r.ms))
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Polls `arrivals` every 100 ms until it reaches `expected` or `timeoutMs` (default 60 s) pass. */
export const awaitArrivals = async (
  arrivals: () => Promise<number>,
  expected: number,
  timeoutMs = 60_000
): Promise<void> => {
  const deadline = performance.now() + timeoutMs
  let arrived = await arrivals()
  while (arrived < expected && performance.now() < deadline) {
    await sleep(100)
    arrived = await arrivals()
  }
}
