/**
 * Evidence of where a phase's database time went: `pg_stat_statements` on both servers (loaded at start
 * with `shared_preload_libraries`), reset before a phase and read after it: the statements with the most
 * execution time, with their calls, mean time and rows.
 *
 * Invariant: reading or resetting the statistics never fails a measurement: a server without the
 * extension reports `null` instead.
 */
import { withConnection } from "./Sql.ts"

/** The server flags that load the statistics. */
export const statementStatsFlags: ReadonlyArray<string> = [
  "-c",
  "shared_preload_libraries=pg_stat_statements",
  "-c",
  "pg_stat_statements.track=top",
  "-c",
  "pg_stat_statements.max=1000"
]

/** One statement's share of a phase. */
export interface StatementFigure {
  readonly query: string
  readonly calls: number
  readonly totalMs: number
  readonly meanMs: number
  readonly rows: number
}

/** Creates the extension in the database at `url` (idempotent); false when the server lacks it. */
export const enableStatementStats = (url: string): Promise<boolean> =>
  withConnection(url, (sql) => sql.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")).then(
    () => true,
    () => false
  )

/** Forgets the statistics of the server at `url`. */
export const resetStatementStats = (url: string): Promise<void> =>
  withConnection(url, (sql) => sql.query("SELECT pg_stat_statements_reset()")).then(
    () => undefined,
    () => undefined
  )

/** The `limit` statements with the most execution time since the last reset, on the database at `url`. */
export const topStatements = (url: string, limit = 5): Promise<ReadonlyArray<StatementFigure> | null> =>
  withConnection(url, (sql) =>
    sql.query<{ query: string; calls: string; total_ms: string; mean_ms: string; rows: string }>(
      `SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 200) AS query, calls, round(total_exec_time::numeric, 1) AS total_ms,
              round(mean_exec_time::numeric, 2) AS mean_ms, rows
         FROM pg_stat_statements
        WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND query NOT LIKE '%pg_stat_statements%'
        ORDER BY total_exec_time DESC LIMIT $1`,
      [limit]
    )
  ).then(
    (rows) =>
      rows.map((r) => ({
        query: r.query,
        calls: Number(r.calls),
        totalMs: Number(r.total_ms),
        meanMs: Number(r.mean_ms),
        rows: Number(r.rows)
      })),
    () => null
  )

/** The top statements of both sides since the last reset. */
export const phaseStatements = async (neonUrl: string, workspaceUrl: string, limit = 5) => {
  const [neon, workspace] = await Promise.all([
    topStatements(neonUrl, limit),
    topStatements(workspaceUrl, limit)
  ])
  return { neon, workspace }
}

/** Resets both sides. */
export const resetPhaseStatements = (neonUrl: string, workspaceUrl: string) =>
  Promise.all([resetStatementStats(neonUrl), resetStatementStats(workspaceUrl)]).then(() => undefined)
