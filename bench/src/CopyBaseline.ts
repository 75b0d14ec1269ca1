/**
 * The backfill's baseline: a raw COPY pipe of the Neon table into a workspace table with the same columns
 * and keys (`COPY marketing.company_invalid TO STDOUT` piped, bytes untouched, into `COPY
 * bench.company_invalid_copy FROM STDIN`), between the same two servers. Nothing can move the rows faster
 * through these two servers from Node, so it is the ceiling a backfill is measured against.
 *
 * Invariant: each run copies into an empty table (truncated before), and the table is dropped afterwards.
 */
import { Company, qualified } from "@enrich-sync/core"
import { type CpuReading, type CpuSubjects, startCpuMeter } from "./CpuMeter.ts"
import { connect, copyBetween } from "./Sql.ts"
import { median, perSecond, round } from "./Stats.ts"

/** The baseline table on the workspace: Neon's invalid table's columns and keys, in its column order. */
export const baselineTable = "bench.company_invalid_copy"

const createBaselineTable = `CREATE TABLE ${baselineTable} (\n  ${Company.sourceColumns
  .map((c) => `${c.name} ${c.definition}`)
  .join(",\n  ")}\n)`

/** What the baseline measured. */
export interface CopyBaseline {
  readonly method: string
  readonly rows: number
  readonly runs: ReadonlyArray<{
    readonly seconds: number | null
    readonly rowsPerSecond: number | null
    /** where the CPU went (both servers, and the bench process that pipes the bytes) */
    readonly cpu: CpuReading
  }>
  /** the median of the runs */
  readonly seconds: number | null
  readonly rowsPerSecond: number | null
}

/**
 * Pipes the Neon table (of about `rows` rows) into the baseline table a few times and reports each run and
 * the median: 3 runs, 2 from 500k rows (to keep the whole bench within minutes).
 */
export const measureCopyBaseline = async (
  neonUrl: string,
  workspaceUrl: string,
  rows: number,
  subjects: Omit<CpuSubjects, "child">
): Promise<CopyBaseline> => {
  const runs = rows >= 500_000 ? 2 : 3
  const neon = await connect(neonUrl, "enrich-sync bench copy baseline")
  const workspace = await connect(workspaceUrl, "enrich-sync bench copy baseline")
  try {
    await workspace.execute("CREATE SCHEMA IF NOT EXISTS bench")
    await workspace.execute(`DROP TABLE IF EXISTS ${baselineTable}`)
    await workspace.execute(createBaselineTable)
    const times: Array<number> = []
    const readings: Array<CpuReading> = []
    let copied = 0
    for (let i = 0; i < runs; i++) {
      await workspace.execute(`TRUNCATE ${baselineTable}`)
      await workspace.execute("CHECKPOINT")
      const meter = startCpuMeter(subjects)
      const started = performance.now()
      copied = await copyBetween(
        neon,
        `COPY ${qualified(Company.sourceTable)} TO STDOUT`,
        workspace,
        `COPY ${baselineTable} FROM STDIN`
      )
      times.push(performance.now() - started)
      readings.push(meter.read())
    }
    const mid = median(times)
    return {
      method: `COPY ${qualified(Company.sourceTable)} TO STDOUT (Neon) piped into COPY ${baselineTable} FROM STDIN (workspace; same columns, primary key and unique key), median of ${runs}`,
      rows: copied,
      runs: times.map((ms, i) => ({
        seconds: round(ms / 1000, 3),
        rowsPerSecond: round(perSecond(copied, ms), 0),
        cpu: readings[i]!
      })),
      seconds: round(mid === null ? null : mid / 1000, 3),
      rowsPerSecond: round(mid === null ? null : perSecond(copied, mid), 0)
    }
  } finally {
    await workspace.execute(`DROP TABLE IF EXISTS ${baselineTable}`).catch(() => undefined)
    await neon.end()
    await workspace.end()
  }
}
