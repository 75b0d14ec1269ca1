/**
 * Databases as an earlier release left them, for the tests of a migration over what is already there: the
 * engine fixture with Neon migrated and the workspace holding only the migrations before a given version,
 * each applied and recorded as the migrator records it, so that a test can put rows in and then migrate.
 */

import { migrationChecksum, migrationsFor, migrationTableSql } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { SourceDatabase, WorkspaceDatabase } from "../../src/store/Database.ts"
import { applyMigrations } from "../../src/store/Migrator.ts"
import { engineFixture } from "./EngineFixture.ts"

/** Two fresh databases: Neon migrated, the workspace as the releases before migration `workspaceBefore` left it. */
export const earlierReleaseFixture = (workspaceBefore: number) =>
  Layer.effectDiscard(
    Effect.gen(function* () {
      yield* applyMigrations(yield* SourceDatabase)
      yield* (yield* WorkspaceDatabase).transaction((tx) =>
        Effect.gen(function* () {
          for (const statement of migrationTableSql) yield* tx.query(statement)
          for (const m of migrationsFor("workspace").filter((m) => m.version < workspaceBefore)) {
            for (const statement of m.statements) yield* tx.query(statement)
            yield* tx.query(
              `INSERT INTO enrich_sync.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)`,
              [m.version, m.name, migrationChecksum(m)]
            )
          }
        })
      )
    }).pipe(Effect.orDie)
  ).pipe(Layer.provideMerge(engineFixture({ migrate: false })))
