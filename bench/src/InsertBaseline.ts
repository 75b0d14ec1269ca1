/**
 * The guide's approach to the pull, as a second baseline: read the rows with the guide's pull query, then
 * insert them into the workspace table in batches of 50 rows (one multi-row INSERT per batch, each its own
 * transaction, one after the other, as `pull-invalid-to-supabase.py --batch-size 50` would), computing
 * `last_sync_hash` in the client. Measured on a sample (20,000 rows by default: 400 batches, enough for a
 * stable rate) in a database of its own on the workspace server, with the real workspace schema, through
 * the run's links (the pull through Neon's, the INSERTs through the workspace's).
 *
 * Invariant: it never touches the databases the other benchmarks use.
 */
import { createHash } from "node:crypto"
import { Company, companyDataFields, qualified } from "@enrich-sync/core"
import type { PostgresServer } from "@enrich-sync/embedded"
import * as Effect from "effect/Effect"
import { createDatabase, migrateWorkspace } from "./Servers.ts"
import { connect, withConnection } from "./Sql.ts"
import { perSecond, round } from "./Stats.ts"

/** The guide's pull query (NEON_SUPABASE_SYNC_GUIDE.md, "Initial Pull Query (Companies)"), limited to a sample. */
const pullQuery = `SELECT id AS neon_id, company_unique_id, company_name, domain, industry, employee_count, website, phone,
       address, city, state, zip, validation_errors AS original_validation_errors,
       validation_warnings AS original_validation_warnings, reason_code, batch_id AS source_batch_id,
       created_at::text AS created_at, updated_at::text AS updated_at
  FROM ${qualified(Company.sourceTable)}
 ORDER BY created_at DESC
 LIMIT $1`

/** The columns of the pull query, in its order (core's company data fields between the keys and the rest). */
const columns = [
  "neon_id",
  "company_unique_id",
  ...companyDataFields,
  "original_validation_errors",
  "original_validation_warnings",
  "reason_code",
  "source_batch_id",
  "created_at",
  "updated_at"
] as const

/** What the INSERT baseline measured. */
export interface InsertBaseline {
  readonly method: string
  readonly sampleRows: number
  readonly batchSize: number
  readonly batches: number
  readonly seconds: number | null
  readonly rowsPerSecond: number | null
  /** the mean time of one batch (ms) */
  readonly msPerBatch: number | null
}

const batchSize = 50

/**
 * Measures the guide's batched INSERT on `sample` rows, in a fresh database `bench_insert` on `supabase`;
 * `neonUrl` is the program's (through the link), `throughLink` turns a workspace URL into the program's.
 */
export const measureInsertBaseline = (
  neonUrl: string,
  supabase: PostgresServer,
  sample: number,
  throughLink: (workspaceUrl: string) => string
) =>
  Effect.gen(function* () {
    const url = yield* Effect.promise(() => createDatabase(supabase, "bench_insert"))
    yield* migrateWorkspace(url)
    return yield* Effect.promise(async (): Promise<InsertBaseline> => {
      const neon = await connect(neonUrl, "enrich-sync bench insert baseline")
      const workspace = await connect(throughLink(url), "enrich-sync bench insert baseline")
      try {
        const targets = [...columns, "pulled_from_neon_at", "last_sync_hash"]
        const placeholders = (row: number) =>
          `(${targets.map((_, i) => `$${row * targets.length + i + 1}`).join(", ")})`
        const started = performance.now()
        const rows = await neon.query<Record<(typeof columns)[number], unknown>>(pullQuery, [sample])
        let batches = 0
        for (let i = 0; i < rows.length; i += batchSize) {
          const batch = rows.slice(i, i + batchSize)
          const pulledAt = new Date().toISOString()
          const params: Array<unknown> = []
          for (const row of batch) {
            const values = columns.map((c) => {
              const v = row[c]
              return v !== null && typeof v === "object" ? JSON.stringify(v) : v
            })
            const hash = createHash("md5").update(JSON.stringify(values)).digest("hex")
            params.push(...values, pulledAt, hash)
          }
          await workspace.execute(
            `INSERT INTO ${qualified(Company.workspaceTable)} (${targets.join(", ")}) VALUES ${batch.map((_, r) => placeholders(r)).join(", ")}`,
            params
          )
          batches++
        }
        const ms = performance.now() - started
        return {
          method: `the guide's pull query, then INSERT ... VALUES of ${batchSize} rows per statement (autocommit, sequential) into ${qualified(Company.workspaceTable)} of a migrated workspace database; timed from the SELECT to the last INSERT`,
          sampleRows: rows.length,
          batchSize,
          batches,
          seconds: round(ms / 1000, 3),
          rowsPerSecond: round(perSecond(rows.length, ms), 0),
          msPerBatch: round(batches === 0 ? null : ms / batches, 2)
        }
      } finally {
        await neon.end()
        await workspace.end()
        await withConnection(supabase.url(), (sql) =>
          sql.execute("DROP DATABASE IF EXISTS bench_insert WITH (FORCE)")
        ).catch(() => undefined)
      }
    })
  })
