/**
 * The two local PostgreSQL servers the bench runs against ("neon", the source, and "supabase", the
 * workspace), started by the bench itself with `@enrich-sync/embedded`, each with one database migrated
 * by the engine; Neon's is seeded with demo companies. Both load `pg_stat_statements`, so each phase can
 * show where the database time went.
 *
 * Invariant: both servers (and their temporary folders) are gone when the scope closes, interrupted or
 * not; if the bench process dies first, their orphan guards stop them.
 */
import { Company, qualified } from "@enrich-sync/core"
import { PostgresServer, seedDemoData } from "@enrich-sync/embedded"
import { applyMigrations, type Database, SourceDatabase, WorkspaceDatabase } from "@enrich-sync/engine"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { withConnection } from "./Sql.ts"
import { enableStatementStats, statementStatsFlags } from "./StatementStats.ts"

/**
 * Settings on top of the embedded package's (fsync off, logical decoding), as a hosted server has them:
 * `max_wal_size` (the test clusters' 64 MB makes a bulk load checkpoint every few seconds, which no hosted
 * Neon or Supabase does) and `shared_buffers` large enough for the working set (1M rows with their indexes
 * are about 1 GB a side; with the default 128 MB every page read goes through PostgreSQL 18's I/O worker
 * processes, which on this machine cost as much CPU as the queries themselves); and the statement
 * statistics.
 */
export const serverFlags: ReadonlyArray<string> = [
  "-c",
  "max_wal_size=2GB",
  "-c",
  "shared_buffers=1GB",
  ...statementStatsFlags
]

/** The running servers and the databases the bench uses on them. */
export interface BenchServers {
  readonly neon: PostgresServer
  readonly supabase: PostgresServer
  /** the source database (`bench_neon` on the neon server) */
  readonly neonUrl: string
  /** the workspace database (`bench_workspace` on the supabase server) */
  readonly workspaceUrl: string
}

/** Creates database `name` on `server` and returns its URL. */
export const createDatabase = (server: PostgresServer, name: string): Promise<string> =>
  withConnection(server.url(), async (sql) => {
    await sql.execute(`CREATE DATABASE ${name}`)
    return server.url(name)
  })

/** Applies the engine's migrations to the source database at `url`. */
export const migrateSource = (url: string) =>
  SourceDatabase.use((db: Database) => applyMigrations(db)).pipe(
    Effect.provide(
      SourceDatabase.layer(Redacted.make(url), { max: 1, applicationName: "enrich-sync bench migrate" })
    )
  )

/** Applies the engine's migrations to the workspace database at `url`. */
export const migrateWorkspace = (url: string) =>
  WorkspaceDatabase.use((db: Database) => applyMigrations(db)).pipe(
    Effect.provide(
      WorkspaceDatabase.layer(Redacted.make(url), { max: 1, applicationName: "enrich-sync bench migrate" })
    )
  )

/** Both servers for the scope, each with a migrated database (durable: false, as in the tests). */
export const benchServers: Effect.Effect<BenchServers, unknown, Scope.Scope> = Effect.gen(function* () {
  const [neon, supabase] = yield* Effect.all(
    [
      PostgresServer.scoped({ name: "bench-neon", flags: serverFlags }),
      PostgresServer.scoped({ name: "bench-supabase", flags: serverFlags })
    ],
    { concurrency: 2 }
  )
  const [neonUrl, workspaceUrl] = yield* Effect.promise(() =>
    Promise.all([createDatabase(neon, "bench_neon"), createDatabase(supabase, "bench_workspace")])
  )
  yield* Effect.all([migrateSource(neonUrl), migrateWorkspace(workspaceUrl)], { concurrency: 2 })
  yield* Effect.promise(() =>
    Promise.all([enableStatementStats(neonUrl), enableStatementStats(workspaceUrl)])
  )
  return { neon, supabase, neonUrl, workspaceUrl }
})

/**
 * Seeds `rows` demo companies (no people) on Neon with the embedded package's COPY seeding, then VACUUM
 * ANALYZE so every measured reader sees a table with hint bits set and statistics (as a long-lived Neon
 * table has), not one whose first reader pays for them. Returns the seconds each took.
 */
export const seedNeon = async (neonUrl: string, rows: number) => {
  const started = performance.now()
  const seeded = await seedDemoData(neonUrl, { companies: rows, people: 0 })
  const seededMs = performance.now() - started
  await withConnection(neonUrl, (sql) => sql.execute(`VACUUM (ANALYZE) ${qualified(Company.sourceTable)}`))
  return { companies: seeded.companies, seedMs: seededMs, vacuumMs: performance.now() - started - seededMs }
}
