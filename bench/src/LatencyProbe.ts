/**
 * The workspace half of the latency measurement: a bench-only AFTER UPDATE trigger on the workspace's
 * company table that records, for every row whose `address` became a latency stamp (`bench <marker>
 * <Neon clock_timestamp in epoch microseconds>`, see `LoadGenerator.pacedCommits`), the workspace's own
 * `clock_timestamp()` when the daemon wrote it. Both servers run on this machine, so both stamps come from
 * one clock: latency = workspace stamp - Neon stamp.
 *
 * The workspace stamp is taken inside the daemon's write, a moment before its commit makes the row
 * visible; the Neon stamp is taken inside the UPDATE, a moment before its commit. Both ends are early by
 * about the same small amount (the rest of one transaction).
 *
 * Invariant: the probe only reads the rows the daemon writes and only writes its own table (`bench.latency`).
 */
import { Company, qualified } from "@enrich-sync/core"
import { latencyPrefix } from "./LoadGenerator.ts"
import type { SqlClient } from "./Sql.ts"

/** Creates `bench.latency` and the trigger on the workspace (idempotent). */
export const installLatencyProbe = async (workspace: SqlClient): Promise<void> => {
  await workspace.execute("CREATE SCHEMA IF NOT EXISTS bench")
  await workspace.execute(
    "CREATE TABLE IF NOT EXISTS bench.latency (record_key text NOT NULL, address text NOT NULL, seen_at timestamptz NOT NULL)"
  )
  await workspace.execute(`CREATE OR REPLACE FUNCTION bench.stamp_latency() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO bench.latency VALUES (NEW.${Company.key}, NEW.address, clock_timestamp());
      RETURN NULL;
    END $$`)
  await workspace.execute(`DROP TRIGGER IF EXISTS bench_latency ON ${qualified(Company.workspaceTable)}`)
  await workspace.execute(`CREATE TRIGGER bench_latency AFTER UPDATE ON ${qualified(Company.workspaceTable)}
    FOR EACH ROW WHEN (NEW.address LIKE '${latencyPrefix}%' AND NEW.address IS DISTINCT FROM OLD.address)
    EXECUTE FUNCTION bench.stamp_latency()`)
}

/** How many measured (`m`) stamps have arrived. */
export const measuredArrivals = (workspace: SqlClient): Promise<number> =>
  workspace
    .query<{ n: string }>(
      "SELECT count(*) AS n FROM bench.latency WHERE split_part(address, ' ', 2) LIKE 'm%'"
    )
    .then(([row]) => Number(row?.n ?? 0))

/** The latency of every measured stamp, in milliseconds (the first arrival of each marker). */
export const measuredLatencies = async (workspace: SqlClient): Promise<Array<number>> => {
  const rows = await workspace.query<{ ms: number }>(
    `SELECT min((extract(epoch FROM seen_at) * 1000000)::bigint - split_part(address, ' ', 3)::bigint) / 1000.0 AS ms
       FROM bench.latency WHERE split_part(address, ' ', 2) LIKE 'm%'
      GROUP BY split_part(address, ' ', 2)`
  )
  return rows.map((r) => Number(r.ms))
}
