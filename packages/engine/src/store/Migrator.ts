/**
 * Applies core's migrations to a side: the pending ones, in version order, in one transaction under an
 * advisory lock, each recorded with its checksum. A dry run only reports the plan.
 *
 * Invariant: a run applies everything pending or nothing; running it again changes nothing.
 */
import type { Migration, Side } from "@enrich-sync/core"
import { migrationChecksum, migrationLockKey, migrationsFor, migrationTableSql } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import type { Database, Session } from "./Database.ts"
import type { DatabaseError } from "./DatabaseError.ts"

/** A migration already recorded on the database. */
export interface AppliedMigration {
  readonly version: number
  readonly name: string
  readonly appliedAt: string
  /** false when the recorded checksum differs from this release's statements for that version */
  readonly checksumMatches: boolean
}

/** What a migration run would do (or did). */
export interface MigrationPlan {
  readonly side: Side
  readonly applied: ReadonlyArray<AppliedMigration>
  readonly pending: ReadonlyArray<Migration>
}

const readApplied = (session: Session, side: Side) =>
  Effect.gen(function* () {
    const [exists] = yield* session.query(
      `SELECT to_regclass('enrich_sync.schema_migrations') IS NOT NULL AS present`
    )
    if (exists?.present !== true) return []
    const rows = yield* session.query(
      `SELECT version, name, checksum, applied_at::text AS applied_at FROM enrich_sync.schema_migrations ORDER BY version`
    )
    const known = new Map(migrationsFor(side).map((m) => [m.version, m]))
    return rows.map((r): AppliedMigration => {
      const migration = known.get(Number(r.version))
      return {
        version: Number(r.version),
        name: String(r.name),
        appliedAt: String(r.applied_at),
        checksumMatches: migration !== undefined && migrationChecksum(migration) === r.checksum
      }
    })
  })

const planFrom = (side: Side, applied: ReadonlyArray<AppliedMigration>): MigrationPlan => {
  const done = new Set(applied.map((a) => a.version))
  return { side, applied, pending: migrationsFor(side).filter((m) => !done.has(m.version)) }
}

/** The plan for a side, without changing anything. */
export const planMigrations = (db: Database): Effect.Effect<MigrationPlan, DatabaseError> =>
  Effect.map(readApplied(db, db.side), (applied) => planFrom(db.side, applied))

/** Applies what is pending on a side; returns the plan it carried out. */
export const applyMigrations = (db: Database): Effect.Effect<MigrationPlan, DatabaseError> =>
  db.transaction((tx) =>
    Effect.gen(function* () {
      yield* tx.query(`SELECT pg_advisory_xact_lock($1)`, [migrationLockKey])
      for (const statement of migrationTableSql) yield* tx.query(statement)
      const plan = planFrom(db.side, yield* readApplied(tx, db.side))
      for (const migration of plan.pending) {
        for (const statement of migration.statements) yield* tx.query(statement)
        yield* tx.query(
          `INSERT INTO enrich_sync.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)`,
          [migration.version, migration.name, migrationChecksum(migration)]
        )
      }
      return plan
    })
  )
