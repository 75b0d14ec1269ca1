/**
 * `verify`'s floor on loopback: `count(*)` over both tables, Neon's invalid table and the workspace
 * table, at once (one connection each, through the run's links, as verify reads both sides), the median of
 * three. Reading every row of both sides once, with no work per row, is what any comparison of the two
 * costs at least.
 *
 * Invariant: read-only.
 */
import { Company, qualified } from "@enrich-sync/core"
import { connect } from "./Sql.ts"
import { median, round } from "./Stats.ts"

/** What the count baseline measured. */
export interface CountBaseline {
  readonly method: string
  readonly neonRows: number
  readonly workspaceRows: number
  /** the median of the runs, both counts at once */
  readonly seconds: number | null
  readonly runs: ReadonlyArray<number | null>
}

/** Counts both tables at once through `neonUrl` and `workspaceUrl`, three times. */
export const measureCount = async (neonUrl: string, workspaceUrl: string): Promise<CountBaseline> => {
  const neon = await connect(neonUrl, "enrich-sync bench count baseline")
  const workspace = await connect(workspaceUrl, "enrich-sync bench count baseline")
  try {
    const count = (sql: typeof neon, table: string) =>
      sql.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`).then(([r]) => Number(r?.n ?? 0))
    const times: Array<number> = []
    let counts: ReadonlyArray<number> = [0, 0]
    for (let i = 0; i < 3; i++) {
      const started = performance.now()
      counts = await Promise.all([
        count(neon, qualified(Company.sourceTable)),
        count(workspace, qualified(Company.workspaceTable))
      ])
      times.push(performance.now() - started)
    }
    const mid = median(times)
    return {
      method: `SELECT count(*) FROM ${qualified(Company.sourceTable)} (Neon) and FROM ${qualified(Company.workspaceTable)} (workspace) at once, through the run's links; median of 3`,
      neonRows: counts[0] ?? 0,
      workspaceRows: counts[1] ?? 0,
      seconds: round(mid === null ? null : mid / 1000, 3),
      runs: times.map((ms) => round(ms / 1000, 3))
    }
  } finally {
    await neon.end()
    await workspace.end()
  }
}
