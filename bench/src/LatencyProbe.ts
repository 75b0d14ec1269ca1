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
import { installStampProbe, measuredStampLatencies, measuredStamps, type StampProbe } from "./StampProbe.ts"

const probe: StampProbe = {
  table: "latency",
  function: "stamp_latency",
  trigger: "bench_latency",
  on: qualified(Company.workspaceTable),
  key: Company.key,
  prefix: latencyPrefix
}

/** Creates `bench.latency` and the trigger on the workspace (idempotent). */
export const installLatencyProbe = (workspace: SqlClient): Promise<void> =>
  installStampProbe(workspace, probe)

/** How many measured (`m`) stamps have arrived. */
export const measuredArrivals = (workspace: SqlClient): Promise<number> =>
  measuredStamps(workspace, probe, "writes")

/** The latency of every measured stamp, in milliseconds (the first arrival of each marker). */
export const measuredLatencies = (workspace: SqlClient): Promise<Array<number>> =>
  measuredStampLatencies(workspace, probe)
