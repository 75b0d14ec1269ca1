/**
 * Company rows read and written by their keys on either side, for the merge tests' set-up and assertions.
 * A test names only the columns (a SELECT list over the row `t`) or the SET list; the table and the key
 * column are spelled here once. Rows come back in key order; the keys are `$1`, a test's own parameters
 * `$2` on. Workspace updates are a person's edits (the trigger sees them), except through
 * `workspaceCompaniesAsEngine`.
 */

import { Company, qualified, type TableName } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import { onNeon, onWorkspace, onWorkspaceAsEngine } from "./EngineFixture.ts"

const byKeys = `${Company.key} = ANY($1)`

/** One side's company rows, through `run` (a side's SQL runner). */
const companyRows = <E, R>(
  table: TableName,
  run: (
    sql: string,
    params: ReadonlyArray<unknown>
  ) => Effect.Effect<ReadonlyArray<Record<string, unknown>>, E, R>
) => {
  /** The columns `columns` of the rows `keys`, in key order. */
  const select = (keys: ReadonlyArray<string>, columns: string, params: ReadonlyArray<unknown> = []) =>
    run(`SELECT ${columns} FROM ${qualified(table)} t WHERE ${byKeys} ORDER BY ${Company.key}`, [
      keys,
      ...params
    ])
  return {
    select,
    /** The columns `columns` of the row `key` (undefined when there is none). */
    row: (key: string, columns: string) => Effect.map(select([key], columns), ([row]) => row),
    /** Updates the row `key` (or the rows `keys`) with `set`, a SET list. */
    update: (keys: string | ReadonlyArray<string>, set: string, params: ReadonlyArray<unknown> = []) =>
      run(`UPDATE ${qualified(table)} SET ${set} WHERE ${byKeys}`, [
        typeof keys === "string" ? [keys] : keys,
        ...params
      ])
  }
}

/** Neon's company rows (`marketing.company_invalid`). */
export const neonCompanies = companyRows(Company.sourceTable, onNeon)

/** The workspace's company rows (`company_needs_enrichment`), edited as a person would. */
export const workspaceCompanies = companyRows(Company.workspaceTable, onWorkspace)

/** The workspace's company rows written as the engine's own write, behind the trigger's back. */
export const workspaceCompaniesAsEngine = companyRows(Company.workspaceTable, onWorkspaceAsEngine)

/** A person enters `website` for the workspace company `key` and sets its enrichment status. */
export const enterWebsite = (key: string, website: string, status: "in_progress" | "complete") =>
  workspaceCompanies.update(key, `website = $2, enrichment_status = $3`, [website, status])
