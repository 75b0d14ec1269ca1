/**
 * A demo company's rows on both sides, as the tests of the daemon's merges read and change them: each side's
 * row, and the change both sides make to one row at once (a person completes it in the workspace with a city
 * of their own while Neon changes its industry), which a merge resolves by keeping both changes on both
 * sides, the workspace row then clean.
 */
import { assert } from "@effect/vitest"
import { Company, qualified } from "@enrich-sync/core"
import { SourceDatabase, WorkspaceDatabase } from "@enrich-sync/engine"
import { demoCompanyKey } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"

const neonTable = qualified(Company.sourceTable)
const workspaceTable = qualified(Company.workspaceTable)

/** The Neon row of demo company `index` (undefined when there is none). */
export const neonCompany = (index: number) =>
  SourceDatabase.use((db) =>
    db.query(`SELECT city, industry, enrichment_status FROM ${neonTable} WHERE company_unique_id = $1`, [
      demoCompanyKey(index)
    ])
  ).pipe(Effect.map(([row]) => row))

/** The workspace row of demo company `index`, with its sync columns (undefined when there is none). */
export const workspaceCompany = (index: number) =>
  WorkspaceDatabase.use((db) =>
    db.query(
      `SELECT city, industry, enrichment_status, sync_state, sync_dirty FROM ${workspaceTable} WHERE company_unique_id = $1`,
      [demoCompanyKey(index)]
    )
  ).pipe(Effect.map(([row]) => row))

/** What both sides hold of a row edited on both sides (`editOnBothSides`) once it is merged. */
const bothEdits = { city: "Edited In Workspace", industry: "Neon Industry", enrichment_status: "complete" }

/** A person completes demo company `index` in the workspace, with a city of their own, while Neon changes its industry. */
export const editOnBothSides = (index: number) =>
  Effect.gen(function* () {
    yield* WorkspaceDatabase.use((db) =>
      db.query(
        `UPDATE ${workspaceTable} SET city = $2, enrichment_status = $3 WHERE company_unique_id = $1`,
        [demoCompanyKey(index), bothEdits.city, bothEdits.enrichment_status]
      )
    )
    yield* SourceDatabase.use((db) =>
      db.query(`UPDATE ${neonTable} SET industry = $2 WHERE company_unique_id = $1`, [
        demoCompanyKey(index),
        bothEdits.industry
      ])
    )
  })

/**
 * Asserts that both sides of demo company `index`, edited by `editOnBothSides`, hold both edits: the person's
 * pushed (the row is complete, as the policy asks) and Neon's pulled, the workspace row clean.
 */
export const assertBothEditsMerged = (index: number) =>
  Effect.gen(function* () {
    assert.deepStrictEqual(yield* neonCompany(index), bothEdits)
    assert.deepInclude(yield* workspaceCompany(index), { ...bothEdits, sync_dirty: false })
  })
