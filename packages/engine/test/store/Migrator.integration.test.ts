import { assert, describe, layer } from "@effect/vitest"
import {
  Company,
  jsonNull,
  md5,
  migrationsFor,
  Person,
  projectBase,
  projectWorkspace,
  qualified,
  recordHash
} from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import { applyKeys } from "../../src/merge/MergeApply.ts"
import { SourceDatabase, WorkspaceDatabase } from "../../src/store/Database.ts"
import { applyMigrations, planMigrations } from "../../src/store/Migrator.ts"
import { requireSchema, schemaProblems } from "../../src/store/SchemaCheck.ts"
import { earlierReleaseFixture } from "../support/EarlierRelease.ts"
import {
  engineFixture,
  exactJson,
  onNeon,
  onWorkspace,
  onWorkspaceAsEngine
} from "../support/EngineFixture.ts"

describe("migrations on empty databases", () => {
  layer(engineFixture({ migrate: false }))((it) => {
    it.effect("a dry run plans everything, a run applies it, a second run changes nothing", () =>
      Effect.gen(function* () {
        const source = yield* SourceDatabase
        const workspace = yield* WorkspaceDatabase
        const before = yield* planMigrations(source)
        assert.deepStrictEqual(
          before.pending.map((m) => m.version),
          migrationsFor("source").map((m) => m.version)
        )
        assert.isAbove((yield* schemaProblems(source)).length, 0)
        const failure = yield* Effect.flip(requireSchema(workspace))
        assert.strictEqual(failure.reason, "Schema")
        assert.include(failure.message, "public.company_needs_enrichment is missing")
        assert.include(failure.message, "enrich-sync migrate")

        for (const db of [source, workspace]) {
          const first = yield* applyMigrations(db)
          assert.isAbove(first.pending.length, 0)
          const second = yield* applyMigrations(db)
          assert.deepStrictEqual(second.pending, [])
          assert.isTrue(second.applied.every((a) => a.checksumMatches))
          assert.deepStrictEqual(yield* schemaProblems(db), [])
        }
        // a second full run of every statement changes nothing either (they are idempotent by themselves)
        for (const db of [source, workspace]) {
          yield* db.transaction((tx) =>
            Effect.forEach(
              migrationsFor(db.side).flatMap((m) => m.statements),
              (s) => tx.query(s),
              { discard: true }
            )
          )
        }
        const [replica] = yield* onNeon(
          `SELECT relreplident FROM pg_class WHERE oid = 'marketing.company_invalid'::regclass`
        )
        assert.strictEqual(replica?.relreplident, "i")
        // the listener's publication sends only the keys (PostgreSQL 15 and later)
        const [version] = yield* onNeon(`SELECT current_setting('server_version_num')::int AS n`)
        const sent = yield* onNeon(
          `SELECT tablename::text AS t, attnames::text[] AS columns FROM pg_publication_tables WHERE pubname = 'enrich_sync_source' ORDER BY 1`
        )
        const keyOnly = Number(version?.n) >= 150000
        assert.deepStrictEqual(
          sent.map((r) => [r.t, keyOnly ? r.columns : ["(all)"]]),
          [
            ["company_invalid", keyOnly ? ["company_unique_id"] : ["(all)"]],
            ["people_invalid", keyOnly ? ["unique_id"] : ["(all)"]]
          ]
        )
        // the seed's duplicate of the key's unique index is gone from the workspace
        const [duplicate] = yield* onWorkspace(
          `SELECT to_regclass('public.idx_company_unique_id') IS NULL AS gone`
        )
        assert.isTrue(duplicate?.gone)
        const [publication] = yield* onWorkspace(
          `SELECT count(*)::int AS n FROM pg_publication_tables WHERE pubname = 'supabase_realtime'`
        )
        assert.strictEqual(publication?.n, 2)
        const [rls] = yield* onWorkspace(
          `SELECT bool_and(relrowsecurity) AS on FROM pg_class WHERE oid IN ('public.company_needs_enrichment'::regclass, 'public.people_needs_enrichment'::regclass, 'public.sync_conflicts'::regclass)`
        )
        assert.isTrue(rls?.on)
        const policies = yield* onWorkspace(`SELECT * FROM pg_policies WHERE schemaname = 'public'`)
        assert.deepStrictEqual(policies, [])
      })
    )
  })
})

describe("migrations over the seed's existing tables with rows", () => {
  layer(engineFixture({ migrate: false }))((it) => {
    it.effect("keep every row and add only what is missing", () =>
      Effect.gen(function* () {
        // the sync guide's exact DDL, as the older scripts created it, with rows in it
        const seedSource = (entity: typeof Company) =>
          `CREATE TABLE ${qualified(entity.sourceTable)} (${entity.sourceColumns
            .filter((c) => c.added !== true)
            .map((c) => `${c.name} ${c.definition}`)
            .join(", ")})`
        const seedWorkspace = (entity: typeof Company) =>
          `CREATE TABLE ${qualified(entity.workspaceTable)} (${entity.workspaceColumns
            .filter((c) => c.added !== true)
            .map((c) => `${c.name} ${c.definition}`)
            .join(", ")})`
        yield* onNeon(`CREATE SCHEMA marketing`)
        for (const e of [Company, Person]) yield* onNeon(seedSource(e))
        yield* onNeon(
          `INSERT INTO marketing.company_invalid (company_unique_id, company_name, reason_code, validation_errors, batch_id)
           VALUES ('04.04.01.01.00101.101', 'Monongalia County Commission', 'EMPTY_WEBSITE', '{"website": "empty or blank"}', 'INTAKE-20251107-163209-b26be042')`
        )
        for (const e of [Company, Person]) yield* onWorkspace(seedWorkspace(e))
        yield* onWorkspace(
          `INSERT INTO company_needs_enrichment (neon_id, company_unique_id, company_name, enrichment_status, enrichment_notes, last_sync_hash)
           VALUES (1, '04.04.01.01.00101.101', 'Monongalia County Commission', 'in_progress', 'called the county', 'abc')`
        )
        const source = yield* SourceDatabase
        const workspace = yield* WorkspaceDatabase
        assert.include(
          (yield* schemaProblems(source)).join("; "),
          "marketing.company_invalid.enrichment_status is missing"
        )
        yield* applyMigrations(source)
        yield* applyMigrations(workspace)
        assert.deepStrictEqual(yield* schemaProblems(source), [])
        assert.deepStrictEqual(yield* schemaProblems(workspace), [])
        const [neonRow] = yield* onNeon(
          `SELECT company_name, enrichment_status, still_invalid FROM marketing.company_invalid`
        )
        assert.deepStrictEqual(neonRow, {
          company_name: "Monongalia County Commission",
          enrichment_status: null,
          still_invalid: false
        })
        const [wsRow] = yield* onWorkspace(
          `SELECT enrichment_status, enrichment_notes, last_sync_hash, sync_state, sync_dirty FROM company_needs_enrichment`
        )
        assert.deepStrictEqual(wsRow, {
          enrichment_status: "in_progress",
          enrichment_notes: "called the county",
          last_sync_hash: "abc",
          sync_state: "active",
          sync_dirty: true
        })
      })
    )
  })
})

describe("the workspace trigger", () => {
  layer(engineFixture())((it) => {
    it.effect("stamps a person's edit and marks the row dirty, but leaves the engine's writes alone", () =>
      Effect.gen(function* () {
        yield* onWorkspace(
          `INSERT INTO company_needs_enrichment (company_unique_id, updated_at, sync_dirty) VALUES ('04.04.01.01.00001.001', '2020-01-01', false)`
        )
        yield* onWorkspace(
          `UPDATE company_needs_enrichment SET website = 'https://a.example', updated_at = '2001-01-01'`
        )
        const [edited] = yield* onWorkspace(
          `SELECT updated_at > '2024-01-01' AS fresh, sync_dirty FROM company_needs_enrichment`
        )
        assert.deepStrictEqual(edited, { fresh: true, sync_dirty: true })
        yield* onWorkspaceAsEngine(
          `UPDATE company_needs_enrichment SET website = 'https://b.example', updated_at = '2019-05-05', sync_dirty = false`
        )
        const [engine] = yield* onWorkspace(`SELECT updated_at, sync_dirty FROM company_needs_enrichment`)
        assert.deepStrictEqual(engine, { updated_at: "2019-05-05 00:00:00", sync_dirty: false })
      })
    )
  })
})

/** The workspace migration that keeps JSON exactly. */
const jsonExact = migrationsFor("workspace").find((m) => m.name.startsWith("JSON kept exactly"))!

describe("the migration that keeps JSON exactly, over rows the earlier release hashed", () => {
  // the workspace as the earlier release left it: every migration before this one applied
  layer(earlierReleaseFixture(jsonExact.version))((it) => {
    it.effect(
      "re-hashes clean rows and stored bases as the engine's own write; rows whose base is unknown keep their hash",
      () =>
        Effect.gen(function* () {
          const workspace = yield* WorkspaceDatabase
          const keys = [
            "04.04.01.01.00001.001",
            "04.04.01.01.00002.002",
            "04.04.01.01.00003.003",
            "04.04.01.01.00004.004",
            "04.04.01.01.00005.005"
          ]
          // the same records on both sides: warnings SQL NULL, JSON null, SQL NULL (edited later), one more,
          // and a row whose JSON holds no number
          const warnings = [null, "null", null, '{"zip": 1.0}', null]
          const errorsOf = (i: number) => (i === 4 ? '{"website": "empty or blank"}' : exactJson)
          for (const [i, key] of keys.entries()) {
            const [neon] = yield* onNeon(
              `INSERT INTO marketing.company_invalid (company_unique_id, company_name, reason_code, validation_errors, validation_warnings)
               VALUES ($1, 'Exact Co', 'EMPTY_WEBSITE', $2::jsonb, $3::jsonb) RETURNING id`,
              [key, errorsOf(i), warnings[i]]
            )
            yield* onWorkspace(
              `INSERT INTO company_needs_enrichment (neon_id, company_unique_id, company_name, reason_code, validation_status, original_validation_errors, original_validation_warnings)
               VALUES ($1, $2, 'Exact Co', 'EMPTY_WEBSITE', 'FAILED', $3::jsonb, $4::jsonb)`,
              [neon?.id, key, errorsOf(i), warnings[i]]
            )
          }
          // hashed as the earlier engine did (its functions are the ones installed), in a write of its own
          yield* workspace.transaction((tx) =>
            Effect.gen(function* () {
              yield* tx.query(`SELECT set_config('enrich_sync.applying', 'on', true)`)
              yield* tx.query(
                `UPDATE company_needs_enrichment AS t SET last_sync_hash = enrich_sync.company_workspace_hash(t), sync_dirty = false,
                        sync_xid = (pg_current_xact_id()::text::bigint % 4294967296), source_xmin = 42`
              )
              // a row whose base cannot be known (changed behind the trigger's back)
              yield* tx.query(
                `UPDATE company_needs_enrichment SET last_sync_hash = 'abc' WHERE company_unique_id = $1`,
                [keys[3]]
              )
            })
          )
          // a person edits one: the earlier trigger stores its base, in the earlier form
          yield* onWorkspace(
            `UPDATE company_needs_enrichment SET website = 'https://exact.example' WHERE company_unique_id = $1`,
            [keys[2]]
          )
          const read = `SELECT t.*, t.original_validation_errors::text AS errors_text, t.sync_base::text AS base_text,
                               t.xmin::text::bigint = t.sync_xid AS engines, enrich_sync.company_workspace_hash(t) AS sql_hash
                          FROM company_needs_enrichment AS t ORDER BY t.company_unique_id`
          const before = yield* onWorkspace(read)
          assert.include(String(before[2]?.base_text), '"validation_warnings": null')

          yield* applyMigrations(workspace)
          const after = yield* onWorkspace(read)
          for (const [i, row] of after.entries()) {
            const was = before[i]!
            // not an edit: the edit time, the dirty mark and the engine's claim on the row are as they were
            assert.strictEqual(row.updated_at, was.updated_at)
            assert.strictEqual(row.sync_dirty, was.sync_dirty)
            assert.strictEqual(row.engines, was.engines)
            assert.strictEqual(row.errors_text, errorsOf(i))
          }
          // the rows whose numbers the earlier form wrote through a double are merged again (the Neon version
          // they last merged is forgotten); the others keep theirs
          assert.deepStrictEqual(
            after.map((r) => r.source_xmin),
            [null, null, null, 42, 42]
          )
          const [clean, jsonNullRow, edited, unknown, plain] = after
          for (const row of [clean!, jsonNullRow!, plain!]) {
            assert.strictEqual(row.last_sync_hash, row.sql_hash)
            assert.strictEqual(row.last_sync_hash, recordHash(Company, projectWorkspace(Company, row)))
            assert.isTrue(row.engines)
          }
          assert.strictEqual(jsonNullRow?.original_validation_warnings, jsonNull)
          assert.notStrictEqual(clean?.last_sync_hash, before[0]?.last_sync_hash)
          // the stored base: its null members (SQL NULL, as the earlier form wrote it) left out, and re-hashed;
          // its numbers are what the earlier form had made of them (through a double)
          assert.notInclude(String(edited?.base_text), "null")
          assert.include(
            String(edited?.base_text),
            '"validation_errors": ["a", {"b": [1, 2.5, 0.0000001, 12345678901234568000000]}]'
          )
          assert.strictEqual(edited?.last_sync_hash, md5(String(edited?.base_text)))
          assert.strictEqual(
            edited?.last_sync_hash,
            recordHash(Company, projectBase(Company, edited?.sync_base)!)
          )
          assert.strictEqual(unknown?.last_sync_hash, "abc")

          // the merge finds the clean rows in sync, and keeps the person's edit as a pending one (its base
          // takes Neon's exact value: a source-owned field, no conflict)
          const stats = yield* applyKeys(
            Company,
            keys.slice(0, 3).map((key) => ({ key }))
          )
          assert.strictEqual(stats.conflicts, 0)
          assert.strictEqual(stats.unchanged, 2)
          assert.strictEqual(stats.updated, 1)
          const [kept] = yield* onWorkspace(
            `SELECT website, original_validation_errors::text AS errors_text, sync_base::text AS base_text, last_sync_hash
               FROM company_needs_enrichment WHERE company_unique_id = $1`,
            [keys[2]]
          )
          assert.strictEqual(kept?.website, "https://exact.example")
          assert.strictEqual(kept?.errors_text, exactJson)
          assert.include(String(kept?.base_text), `"validation_errors": ${exactJson}`)
          assert.strictEqual(kept?.last_sync_hash, md5(String(kept?.base_text)))
        })
    )
  })
})
