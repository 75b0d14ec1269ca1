/**
 * The engine's integration fixture: a fresh "Neon" and a fresh "workspace" database on the real servers of
 * the test run, migrated by the engine's own migrator, optionally seeded with the demo rows, and the
 * engine's database services on them.
 */

import { assert } from "@effect/vitest"
import type { Entity } from "@enrich-sync/core"
import { Company, qualified } from "@enrich-sync/core"
import type { DemoDataOptions } from "@enrich-sync/testing"
import { seedDemoData, TwoDatabases } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type { ApplyStats } from "../../src/merge/MergeApply.ts"
import { applyKeys } from "../../src/merge/MergeApply.ts"
import type { Session } from "../../src/store/Database.ts"
import { SourceDatabase, WorkspaceDatabase } from "../../src/store/Database.ts"
import type { DatabaseError } from "../../src/store/DatabaseError.ts"
import { applyMigrations } from "../../src/store/Migrator.ts"

export interface FixtureOptions {
  /** apply the migrations (default true) */
  readonly migrate?: boolean
  /** seed the demo rows into Neon (default: no rows) */
  readonly seed?: DemoDataOptions
  /** merge every Neon row of these entities into the workspace once seeded (default: none) */
  readonly merged?: ReadonlyArray<Entity>
}

/** The database services on the fixture's databases. */
export const databasesLayer = Layer.unwrap(
  Effect.gen(function* () {
    const dbs = yield* TwoDatabases
    return Layer.mergeAll(
      SourceDatabase.layer(Redacted.make(dbs.neon.url)),
      WorkspaceDatabase.layer(Redacted.make(dbs.workspace.url))
    )
  })
)

/** Two fresh databases, migrated (seeded, and merged), with the engine's services on them. */
export const engineFixture = (options: FixtureOptions = {}) =>
  databasesLayer.pipe(
    Layer.provideMerge(
      TwoDatabases.layer(
        (dbs) =>
          Effect.gen(function* () {
            if (options.migrate === false) return
            const databases = Layer.mergeAll(
              SourceDatabase.layer(Redacted.make(dbs.neon.url)),
              WorkspaceDatabase.layer(Redacted.make(dbs.workspace.url))
            )
            yield* Effect.scoped(
              Effect.gen(function* () {
                const source = yield* SourceDatabase
                const workspace = yield* WorkspaceDatabase
                yield* applyMigrations(source)
                yield* applyMigrations(workspace)
              }).pipe(Effect.provide(databases))
            )
            if (options.seed !== undefined) {
              const seed = options.seed
              yield* Effect.promise(() => seedDemoData(dbs.neon.url, seed))
            }
            yield* Effect.scoped(
              Effect.forEach(options.merged ?? [], mergeAllFromNeon).pipe(Effect.provide(databases))
            )
          }).pipe(Effect.orDie),
        { prefix: "engine" }
      )
    )
  )

/** Runs SQL on Neon (test setup and assertions). */
export const onNeon = (sql: string, params?: ReadonlyArray<unknown>) =>
  SourceDatabase.use((db) => db.query(sql, params))

/** Runs SQL on the workspace as a person would (the trigger sees it as a human edit). */
export const onWorkspace = (sql: string, params?: ReadonlyArray<unknown>) =>
  WorkspaceDatabase.use((db) => db.query(sql, params))

/**
 * Runs one SQL statement on the workspace as the engine's own write (`enrich_sync.applying` on, in a
 * transaction of its own): the trigger leaves the row's edit time, dirty mark and base alone, as if the
 * row were changed behind its back.
 */
export const onWorkspaceAsEngine = (sql: string, params?: ReadonlyArray<unknown>) =>
  WorkspaceDatabase.use((db) =>
    db.transaction((tx) =>
      Effect.gen(function* () {
        yield* tx.query(`SELECT set_config('enrich_sync.applying', 'on', true)`)
        return yield* tx.query(sql, params)
      })
    )
  )

/** The keys of an entity's Neon rows, in id order. */
export const neonKeys = (entity: Entity) =>
  Effect.map(onNeon(`SELECT ${entity.key} AS k FROM ${qualified(entity.sourceTable)} ORDER BY id`), (rows) =>
    rows.map((r) => String(r.k))
  )

/** Every Neon row of `entity` merged into the workspace (merging again is a no-op): the merge's stats. */
export const mergeAllFromNeon = (entity: Entity) =>
  Effect.flatMap(neonKeys(entity), (keys) =>
    applyKeys(
      entity,
      keys.map((key) => ({ key }))
    )
  )

/**
 * The first step of a suite whose tests share its databases: every seeded Neon company merged into the
 * still empty workspace (all 119 inserted); the tests after it start from there.
 */
export const mergeTheSeededCompanies = Effect.gen(function* () {
  const stats = yield* mergeAllFromNeon(Company)
  assert.strictEqual(stats.inserted, 119)
})

/** The company keys of Neon rows `from` to `to` (by id), in id order. */
export const companyKeysBetween = (from: number, to: number) =>
  Effect.map(
    onNeon(
      `SELECT company_unique_id AS k FROM marketing.company_invalid WHERE id BETWEEN $1 AND $2 ORDER BY id`,
      [from, to]
    ),
    (rows) => rows.map((r) => String(r.k))
  )

/** JSON whose numbers a double cannot hold (`2.50`, a 23-digit integer), nested: it must pass byte for byte. */
export const exactJson = '["a", {"b": [1, 2.50, 0.0000001, 12345678901234567890123]}]'

/** A company's JSON columns as each side prints them (`::text`; null for SQL NULL). */
export const companyJsonText = (key: string) =>
  Effect.gen(function* () {
    const [neon] = yield* onNeon(
      `SELECT validation_errors::text AS errors, validation_warnings::text AS warnings
         FROM marketing.company_invalid WHERE company_unique_id = $1`,
      [key]
    )
    const [workspace] = yield* onWorkspace(
      `SELECT original_validation_errors::text AS errors, original_validation_warnings::text AS warnings
         FROM company_needs_enrichment WHERE company_unique_id = $1`,
      [key]
    )
    return { neon, workspace }
  })

/** Checks `check` every 10 ms until it holds; the test fails after 10 s. */
export const waitUntil = (
  what: string,
  check: Effect.Effect<boolean, unknown, SourceDatabase | WorkspaceDatabase>
) =>
  Effect.gen(function* () {
    for (let i = 0; ; i++) {
      if (yield* check) return
      assert.isBelow(i, 1000, `waited 10 s until ${what}`)
      yield* Effect.sleep("10 millis")
    }
  })

/** A person's open transaction holding a workspace row (as an open edit form does), and a merge behind it. */
export interface HeldMerge {
  readonly person: Session
  readonly merging: Fiber.Fiber<ApplyStats, DatabaseError>
}

/**
 * A person's session holding the workspace company row `key`, and the merge of `key` forked, once `pushed`
 * says its push reached Neon: its workspace write then waits for the person's transaction.
 */
export const mergeHeldAtTheWorkspace = (
  key: string,
  pushed: Effect.Effect<boolean, unknown, SourceDatabase | WorkspaceDatabase>
) =>
  Effect.gen(function* () {
    const person = yield* (yield* WorkspaceDatabase).session
    yield* person.query("BEGIN")
    yield* person.query(`SELECT 1 FROM company_needs_enrichment WHERE company_unique_id = $1 FOR UPDATE`, [
      key
    ])
    const merging = yield* Effect.forkChild(applyKeys(Company, [{ key }]))
    yield* waitUntil("the push is on Neon", pushed)
    const held: HeldMerge = { person, merging }
    return held
  })

/** The person edits the held row `key` with `set` (a SET list) and commits: the merge's stats once it has ended. */
export const editHeldRow = (held: HeldMerge, key: string, set: string) =>
  Effect.gen(function* () {
    yield* held.person.query(`UPDATE company_needs_enrichment SET ${set} WHERE company_unique_id = $1`, [key])
    yield* held.person.query("COMMIT")
    return yield* Fiber.join(held.merging)
  })
