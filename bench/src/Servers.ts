/**
 * The two local PostgreSQL servers the bench runs against ("neon", the source, and "supabase", the
 * workspace), started by the bench itself with `@enrich-sync/embedded`, and their databases: one seeded
 * source database (migrated by the engine, demo companies), cloned for each run (each round trip) with an
 * empty migrated workspace beside it, so every run starts from the same state. Both servers load
 * `pg_stat_statements`, so each phase can show where the database time went.
 *
 * Invariant: both servers (and their temporary folders) are gone when the scope closes, interrupted or
 * not; if the bench process dies first, their orphan guards stop them. A run's databases are dropped when
 * the run's scope closes.
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

/** The running servers. */
export interface BenchServers {
  readonly neon: PostgresServer
  readonly supabase: PostgresServer
}

/** Creates database `name` on `server` and returns its URL. */
export const createDatabase = (server: PostgresServer, name: string, template?: string): Promise<string> =>
  withConnection(server.url(), async (sql) => {
    await sql.execute(
      template === undefined
        ? `CREATE DATABASE ${name}`
        : // a file copy: no WAL for the whole table, and the clone keeps the template's hint bits
          `CREATE DATABASE ${name} TEMPLATE ${template} STRATEGY FILE_COPY`
    )
    return server.url(name)
  })

/** Drops database `name` on `server`, with the replication slots on it (they would keep it). */
export const dropDatabase = (server: PostgresServer, name: string): Promise<void> =>
  withConnection(server.url(), async (sql) => {
    await sql.query(
      "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1 AND NOT active",
      [name]
    )
    await sql.execute(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
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

/** Both servers for the scope (durable: false, as in the tests). */
export const benchServers: Effect.Effect<BenchServers, unknown, Scope.Scope> = Effect.gen(function* () {
  const [neon, supabase] = yield* Effect.all(
    [
      PostgresServer.scoped({ name: "bench-neon", flags: serverFlags }),
      PostgresServer.scoped({ name: "bench-supabase", flags: serverFlags })
    ],
    { concurrency: 2 }
  )
  return { neon, supabase }
})

/** The seeded source database every run clones (`bench_neon_seed`). */
export const seedDatabase = "bench_neon_seed"

/**
 * Creates the seed database on the Neon server, migrated, with `rows` demo companies (no people) from the
 * embedded package's COPY seeding, then VACUUM ANALYZE so every measured reader sees a table with hint
 * bits set and statistics (as a long-lived Neon table has), not one whose first reader pays for them.
 * Returns the seconds each took.
 */
export const seedNeon = (servers: BenchServers, rows: number) =>
  Effect.gen(function* () {
    const url = yield* Effect.promise(() => createDatabase(servers.neon, seedDatabase))
    yield* migrateSource(url)
    yield* Effect.promise(() => enableStatementStats(url))
    return yield* Effect.promise(async () => {
      const started = performance.now()
      const seeded = await seedDemoData(url, { companies: rows, people: 0 })
      const seededMs = performance.now() - started
      await withConnection(url, (sql) => sql.execute(`VACUUM (ANALYZE) ${qualified(Company.sourceTable)}`))
      return {
        companies: seeded.companies,
        seedMs: seededMs,
        vacuumMs: performance.now() - started - seededMs
      }
    })
  })

/** The databases of one run. */
export interface RunDatabases {
  /** the source database (a clone of the seed) */
  readonly neonUrl: string
  /** the workspace database (empty, migrated) */
  readonly workspaceUrl: string
  /** the replication slot the run's daemon uses */
  readonly slot: string
}

/**
 * Fresh databases for the run named `name` for the scope: a clone of the seeded Neon database and an
 * empty migrated workspace; both dropped (with the run's replication slot) when the scope closes.
 */
export const runDatabases = (
  servers: BenchServers,
  name: string
): Effect.Effect<RunDatabases, unknown, Scope.Scope> =>
  Effect.gen(function* () {
    const neonName = `bench_neon_${name}`
    const workspaceName = `bench_workspace_${name}`
    const neonUrl = yield* Effect.acquireRelease(
      Effect.promise(() => createDatabase(servers.neon, neonName, seedDatabase)),
      () => Effect.promise(() => dropDatabase(servers.neon, neonName).catch(() => undefined))
    )
    const workspaceUrl = yield* Effect.acquireRelease(
      Effect.promise(() => createDatabase(servers.supabase, workspaceName)),
      () => Effect.promise(() => dropDatabase(servers.supabase, workspaceName).catch(() => undefined))
    )
    yield* migrateWorkspace(workspaceUrl)
    yield* Effect.promise(() => enableStatementStats(workspaceUrl))
    return { neonUrl, workspaceUrl, slot: `bench_${name}` }
  })
