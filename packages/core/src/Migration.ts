/**
 * Versioned, idempotent SQL migrations for each side. Every statement can run again without changing
 * anything (`IF NOT EXISTS`, `CREATE OR REPLACE`, guarded `DO` blocks), so a migration applied to tables that
 * already exist (the seed's, with rows) only adds what is missing and keeps their data.
 *
 * The runner (in the engine) applies the pending ones in one transaction under an advisory lock and records
 * each version with the checksum of its statements in `enrich_sync.schema_migrations`.
 */
import { md5 } from "./SyncHash.ts"
import { sourceMigrations } from "./sql/SourceMigrations.ts"
import { workspaceMigrations } from "./sql/WorkspaceMigrations.ts"

/** Which database a migration belongs to. */
export type Side = "source" | "workspace"

/** One migration. */
export interface Migration {
  readonly side: Side
  /** ascending, starting at 1 */
  readonly version: number
  readonly name: string
  readonly statements: ReadonlyArray<string>
}

/** The checksum recorded with an applied migration (md5 of its statements). */
export const migrationChecksum = (migration: Migration): string => md5(migration.statements.join(";\n"))

/** The migrations of a side, in order. */
export const migrationsFor = (side: Side): ReadonlyArray<Migration> =>
  side === "source" ? sourceMigrations : workspaceMigrations

/** The table that records applied migrations, created by the runner before anything else. */
export const migrationTableSql: ReadonlyArray<string> = [
  `CREATE SCHEMA IF NOT EXISTS enrich_sync`,
  `CREATE TABLE IF NOT EXISTS enrich_sync.schema_migrations (
     version integer PRIMARY KEY,
     name text NOT NULL,
     checksum text NOT NULL,
     applied_at timestamptz NOT NULL DEFAULT now()
   )`
]

/** The advisory lock key that serialises migration runs on a database. */
export const migrationLockKey = 0x656e7269 // "enri"
