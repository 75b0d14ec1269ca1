import { assert, describe, layer } from "@effect/vitest"
import { Company, Person, projectWorkspace, syncHash } from "@enrich-sync/core"
import { demoCompanyKey } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import { applyKeys } from "../../src/merge/MergeApply.ts"
import {
  enterWebsite,
  neonCompanies,
  workspaceCompanies,
  workspaceCompaniesAsEngine
} from "../support/CompanyRows.ts"
import { engineFixture, mergeAllFromNeon, onNeon, onWorkspace } from "../support/EngineFixture.ts"

/**
 * What the engine stored agrees with the rows, as the database computes it: a row without a stored base is
 * its own base (its projection hashes to `last_sync_hash`); a stored base (a row with pending edits) hashes
 * to `last_sync_hash`.
 */
const assertHashesAgree = (table: string, hashFn: string) =>
  Effect.gen(function* () {
    const rows = yield* onWorkspace(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE CASE WHEN t.sync_base IS NULL THEN ${hashFn}(t) ELSE enrich_sync.sync_hash(t.sync_base) END IS DISTINCT FROM t.last_sync_hash)::int AS bad FROM ${table} t`
    )
    assert.strictEqual(rows[0]?.bad, 0)
    return rows[0]?.n as number
  })

describe("merge-apply against real databases", () => {
  layer(engineFixture({ seed: {} }))((it) => {
    it.effect(
      "pulls new Neon rows into the workspace as pending, with their hash (each row its own base)",
      () =>
        Effect.gen(function* () {
          const companies = yield* mergeAllFromNeon(Company)
          const people = yield* mergeAllFromNeon(Person)
          assert.strictEqual(companies.inserted, 119)
          assert.strictEqual(people.inserted, 5)
          assert.strictEqual(
            yield* assertHashesAgree("company_needs_enrichment", "enrich_sync.company_workspace_hash"),
            119
          )
          assert.strictEqual(
            yield* assertHashesAgree("people_needs_enrichment", "enrich_sync.people_workspace_hash"),
            5
          )
          const row = yield* workspaceCompanies.row(
            demoCompanyKey(0),
            `enrichment_status, pulled_from_neon_at IS NOT NULL AS pulled, original_validation_errors, reason_code, sync_dirty`
          )
          assert.strictEqual(row?.enrichment_status, "pending")
          assert.isTrue(row?.pulled)
          assert.isFalse(row?.sync_dirty)
          const [stored] = yield* onWorkspace(
            `SELECT count(*) FILTER (WHERE sync_base IS NOT NULL)::int AS n FROM company_needs_enrichment`
          )
          assert.strictEqual(stored?.n, 0)
          // merging again writes nothing
          const again = yield* mergeAllFromNeon(Company)
          assert.strictEqual(again.unchanged, 119)
          assert.strictEqual(again.inserted + again.updated + again.pushed, 0)
        })
    )

    it.effect(
      "the guide's manual enrichment: UPDATE in the workspace, then push, re-validated in the same write",
      () =>
        Effect.gen(function* () {
          const key = demoCompanyKey(0)
          yield* workspaceCompanies.update(
            key,
            `website = 'https://monongaliacounty.com', domain = 'monongaliacounty.com', enrichment_status = 'complete',
              enrichment_notes = 'Found via Google search', enriched_by = 'enricher@example.com', enriched_at = now(), updated_at = now()`
          )
          const stats = yield* applyKeys(Company, [{ key }])
          assert.strictEqual(stats.pushed, 1)
          const neon = yield* neonCompanies.row(
            key,
            `website, domain, enrichment_status, enriched_by, validation_status, validation_errors, reason_code`
          )
          assert.strictEqual(neon?.website, "https://monongaliacounty.com")
          assert.strictEqual(neon?.enrichment_status, "complete")
          assert.strictEqual(neon?.enriched_by, "enricher@example.com")
          const ws = yield* workspaceCompanies.row(
            key,
            `original_validation_errors, validation_status, reason_code, pushed_to_neon_at IS NOT NULL AS pushed, enrichment_notes`
          )
          // the outcome of re-validation reached both sides
          assert.deepStrictEqual(ws?.original_validation_errors, neon?.validation_errors)
          assert.strictEqual(ws?.validation_status, neon?.validation_status)
          assert.strictEqual(ws?.reason_code, neon?.reason_code)
          assert.notProperty((neon?.validation_errors ?? {}) as object, "website")
          assert.isTrue(ws?.pushed)
          assert.strictEqual(ws?.enrichment_notes, "Found via Google search")
          const log = yield* onNeon(
            `SELECT action, validation_status FROM public.shq_validation_log WHERE record_id = $1`,
            [key]
          )
          assert.deepStrictEqual(log, [{ action: "push", validation_status: neon?.validation_status }])
          yield* assertHashesAgree("company_needs_enrichment", "enrich_sync.company_workspace_hash")
          const again = yield* applyKeys(Company, [{ key }])
          assert.strictEqual(again.unchanged, 1)
        })
    )

    it.effect("edits held back until complete; Neon changes still flow in", () =>
      Effect.gen(function* () {
        const key = demoCompanyKey(1)
        yield* enterWebsite(key, "https://draft.example", "in_progress")
        yield* neonCompanies.update(key, `phone = '(304) 555-0177'`)
        const stats = yield* applyKeys(Company, [{ key }])
        assert.strictEqual(stats.pushed, 0)
        const neon = yield* neonCompanies.row(key, `website, enrichment_status`)
        assert.strictEqual(neon?.website, null)
        const ws = yield* workspaceCompanies.row(
          key,
          `website, phone, enrichment_status, enrich_sync.company_workspace_hash(t) <> last_sync_hash AS unsynced`
        )
        assert.deepStrictEqual(ws, {
          website: "https://draft.example",
          phone: "(304) 555-0177",
          enrichment_status: "in_progress",
          unsynced: true
        })
        // the pending edit is not part of the agreed base: the base is stored beside the row
        const base = yield* workspaceCompanies.row(
          key,
          `sync_base->>'website' AS website, sync_base->>'phone' AS phone, enrich_sync.sync_hash(sync_base) = last_sync_hash AS agreed`
        )
        assert.deepStrictEqual(base, { website: null, phone: "(304) 555-0177", agreed: true })
        // completing it pushes the held edit
        yield* workspaceCompanies.update(key, `enrichment_status = 'complete'`)
        assert.strictEqual((yield* applyKeys(Company, [{ key }])).pushed, 1)
        const after = yield* neonCompanies.row(key, `website`)
        assert.strictEqual(after?.website, "https://draft.example")
        // both sides agree again: the row is its own base once more
        const clean = yield* workspaceCompanies.row(
          key,
          `sync_base IS NULL AS implied, enrich_sync.company_workspace_hash(t) = last_sync_hash AS agreed`
        )
        assert.deepStrictEqual(clean, { implied: true, agreed: true })
      })
    )

    it.effect("a person's first edit stores the agreed projection as the base; later edits keep it", () =>
      Effect.gen(function* () {
        const key = demoCompanyKey(6)
        const before = yield* workspaceCompanies.row(
          key,
          `sync_base, last_sync_hash, enrich_sync.company_workspace_hash(t) AS h`
        )
        assert.strictEqual(before?.sync_base, null)
        assert.strictEqual(before?.h, before?.last_sync_hash)
        yield* workspaceCompanies.update(key, `city = 'Draft 1'`)
        yield* workspaceCompanies.update(key, `city = 'Draft 2'`)
        const after = yield* workspaceCompanies.row(
          key,
          `city, sync_base->>'city' AS base_city, enrich_sync.sync_hash(sync_base) AS base_hash, last_sync_hash, sync_dirty`
        )
        assert.strictEqual(after?.city, "Draft 2")
        assert.notStrictEqual(after?.base_city, "Draft 1")
        assert.strictEqual(after?.base_hash, after?.last_sync_hash)
        assert.isTrue(after?.sync_dirty)
        // Neon changes the same field meanwhile: a real conflict against the stored base, not a silent overwrite
        yield* neonCompanies.update(key, `city = 'Neon City'`)
        const stats = yield* applyKeys(Company, [{ key, committedAt: "2000-01-01T00:00:00Z" }])
        assert.strictEqual(stats.conflicts, 1)
        const [logged] = yield* onWorkspace(
          `SELECT source_value, workspace_value FROM sync_conflicts WHERE record_key = $1 AND field = 'city'`,
          [key]
        )
        assert.deepStrictEqual(logged, { source_value: "Neon City", workspace_value: "Draft 2" })
      })
    )

    it.effect("a row edited behind the trigger's back has no known base: every difference is logged", () =>
      Effect.gen(function* () {
        const key = demoCompanyKey(7)
        // the engine's flag skips the trigger, as a bulk load with triggers disabled would
        yield* workspaceCompaniesAsEngine.update(key, `phone = 'Hidden edit'`)
        yield* neonCompanies.update(key, `phone = 'Neon phone'`)
        const stats = yield* applyKeys(Company, [{ key }])
        assert.strictEqual(stats.conflicts, 1)
        const [logged] = yield* onWorkspace(
          `SELECT source_value, workspace_value FROM sync_conflicts WHERE record_key = $1 AND field = 'phone'`,
          [key]
        )
        assert.deepStrictEqual(logged, { source_value: "Neon phone", workspace_value: "Hidden edit" })
        const ws = yield* workspaceCompanies.row(key, `phone`)
        assert.strictEqual(ws?.phone, "Neon phone")
        yield* assertHashesAgree("company_needs_enrichment", "enrich_sync.company_workspace_hash")
      })
    )

    it.effect("a conflict: the newer edit wins and the losing value is logged with both times", () =>
      Effect.gen(function* () {
        const key = demoCompanyKey(2)
        yield* workspaceCompanies.update(key, `enrichment_status = 'complete'`)
        yield* applyKeys(Company, [{ key }])
        // Neon edits first (an UPDATE that does not bump updated_at), the workspace edits later
        yield* neonCompanies.update(key, `city = 'Star City'`)
        yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 20)))
        yield* workspaceCompanies.update(key, `city = 'Westover'`)
        const stats = yield* applyKeys(Company, [
          { key, committedAt: new Date(Date.now() - 10).toISOString() }
        ])
        assert.strictEqual(stats.conflicts, 1)
        const neon = yield* neonCompanies.row(key, `city`)
        assert.strictEqual(neon?.city, "Westover")
        const conflicts = yield* onWorkspace(
          `SELECT field, winner, reason, source_value, workspace_value, source_edited_at IS NOT NULL AS st, workspace_edited_at IS NOT NULL AS wt
             FROM sync_conflicts WHERE record_key = $1`,
          [key]
        )
        assert.deepStrictEqual(conflicts, [
          {
            field: "city",
            winner: "workspace",
            reason: "both-changed",
            source_value: "Star City",
            workspace_value: "Westover",
            st: true,
            wt: true
          }
        ])
      })
    )

    it.effect("deleted on Neon: promoted rows are marked promoted, others removed, none dropped", () =>
      Effect.gen(function* () {
        const promoted = demoCompanyKey(3)
        const deleted = demoCompanyKey(4)
        yield* onNeon(
          `INSERT INTO marketing.company_master (company_unique_id, company_name) SELECT company_unique_id, company_name FROM marketing.company_invalid WHERE company_unique_id = $1`,
          [promoted]
        )
        yield* onNeon(`DELETE FROM marketing.company_invalid WHERE company_unique_id = ANY($1)`, [
          [promoted, deleted]
        ])
        const stats = yield* applyKeys(Company, [{ key: promoted }, { key: deleted }])
        assert.strictEqual(stats.promoted, 1)
        assert.strictEqual(stats.removed, 1)
        const rows = yield* workspaceCompanies.select(
          [promoted, deleted],
          `company_unique_id AS key, sync_state, promoted_at IS NOT NULL AS p, removed_at IS NOT NULL AS r`
        )
        assert.deepStrictEqual(
          rows,
          [
            { key: promoted, sync_state: "promoted", p: true, r: false },
            { key: deleted, sync_state: "removed", p: false, r: true }
          ].sort((a, b) => (a.key < b.key ? -1 : 1))
        )
        // a row that comes back on Neon is active again
        yield* onNeon(
          `INSERT INTO marketing.company_invalid (company_unique_id, company_name, reason_code, validation_errors) VALUES ($1, 'Back again', 'EMPTY_WEBSITE', '{"website": "empty or blank"}')`,
          [deleted]
        )
        yield* applyKeys(Company, [{ key: deleted }])
        const back = yield* workspaceCompanies.row(deleted, `sync_state, company_name`)
        assert.deepStrictEqual(back, { sync_state: "active", company_name: "Back again" })
      })
    )

    it.effect("a dry run plans and counts but writes nothing", () =>
      Effect.gen(function* () {
        const key = demoCompanyKey(5)
        yield* enterWebsite(key, "https://dry.example", "complete")
        const stats = yield* applyKeys(Company, [{ key }], { dryRun: true })
        assert.strictEqual(stats.pushed, 1)
        assert.deepStrictEqual(stats.changes[0]?.action, "push")
        const neon = yield* neonCompanies.row(key, `website`)
        assert.strictEqual(neon?.website, null)
      })
    )

    it.effect("the agreed hash is the projection both sides hold", () =>
      Effect.gen(function* () {
        const rows = yield* onWorkspace(`SELECT * FROM company_needs_enrichment WHERE sync_state = 'active'`)
        for (const row of rows) {
          if (row.sync_dirty === true) continue
          const agreed = row.sync_base === null ? projectWorkspace(Company, row) : (row.sync_base as never)
          assert.strictEqual(syncHash(agreed), row.last_sync_hash)
        }
      })
    )
  })
})
