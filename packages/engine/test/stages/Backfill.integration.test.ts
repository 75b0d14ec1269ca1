import { assert, describe, layer } from "@effect/vitest"
import { Company, Person, projectSource, projectWorkspace } from "@enrich-sync/core"
import { demoCompanyKey } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import { backfillEntity } from "../../src/stages/Backfill.ts"
import { verifyEntity } from "../../src/stages/Verify.ts"
import { companyJsonText, engineFixture, exactJson, onNeon, onWorkspace } from "../support/EngineFixture.ts"

/** Every active workspace row holds the projection of its Neon row, and its stored hash is the SQL one. */
const assertInSync = Effect.gen(function* () {
  const neon = new Map(
    (yield* onNeon(`SELECT * FROM marketing.company_invalid`)).map((r) => [r.company_unique_id, r])
  )
  const ws = yield* onWorkspace(
    `SELECT t.*, enrich_sync.company_workspace_hash(t) AS sql_hash FROM company_needs_enrichment t WHERE sync_state = 'active'`
  )
  assert.strictEqual(ws.length, neon.size)
  for (const row of ws) {
    const source = neon.get(row.company_unique_id)
    assert.isDefined(source, `workspace row ${row.company_unique_id} has no Neon row`)
    assert.deepStrictEqual(projectWorkspace(Company, row), projectSource(Company, source!))
    assert.strictEqual(row.sql_hash, row.last_sync_hash)
  }
})

describe("backfill", () => {
  layer(engineFixture({ seed: {} }))((it) => {
    it.effect("copies into an empty workspace, then a re-run reads no row twice", () =>
      Effect.gen(function* () {
        const first = yield* backfillEntity(Company)
        assert.strictEqual(first.path, "copy")
        assert.strictEqual(first.copied, 119)
        yield* assertInSync
        const people = yield* backfillEntity(Person)
        assert.strictEqual(people.copied, 5)
        const [row] = yield* onWorkspace(
          `SELECT enrichment_status, sync_dirty, source_xmin IS NOT NULL AS has_version FROM company_needs_enrichment LIMIT 1`
        )
        assert.deepStrictEqual(row, { enrichment_status: "pending", sync_dirty: false, has_version: true })

        const second = yield* backfillEntity(Company)
        assert.strictEqual(second.path, "merge")
        assert.strictEqual(second.candidates, 0)
        assert.strictEqual(second.unchanged, 119)
      })
    )

    it.effect("merges exactly what changed on Neon, and keeps workspace edits", () =>
      Effect.gen(function* () {
        yield* onNeon(
          `UPDATE marketing.company_invalid SET phone = '(304) 555-0142' WHERE company_unique_id = $1`,
          [demoCompanyKey(7)]
        )
        yield* onNeon(
          `INSERT INTO marketing.company_invalid (company_unique_id, company_name, reason_code, validation_errors) VALUES ('04.04.01.01.99999.999', 'New Co', 'EMPTY_WEBSITE', '{"website": "empty or blank"}')`
        )
        yield* onWorkspace(
          `UPDATE company_needs_enrichment SET enrichment_notes = 'researching', website = 'https://wip.example' WHERE company_unique_id = $1`,
          [demoCompanyKey(7)]
        )
        const report = yield* backfillEntity(Company)
        assert.strictEqual(report.candidates, 2)
        assert.strictEqual(report.merge?.inserted, 1)
        assert.strictEqual(report.merge?.updated, 1)
        const [edited] = yield* onWorkspace(
          `SELECT phone, website, enrichment_notes FROM company_needs_enrichment WHERE company_unique_id = $1`,
          [demoCompanyKey(7)]
        )
        assert.deepStrictEqual(edited, {
          phone: "(304) 555-0142",
          website: "https://wip.example",
          enrichment_notes: "researching"
        })
      })
    )

    it.effect("marks rows deleted from Neon, and a dry run writes nothing", () =>
      Effect.gen(function* () {
        yield* onNeon(`DELETE FROM marketing.company_invalid WHERE company_unique_id = $1`, [
          demoCompanyKey(8)
        ])
        yield* onNeon(`UPDATE marketing.company_invalid SET city = 'Dry Run' WHERE company_unique_id = $1`, [
          demoCompanyKey(9)
        ])
        const dry = yield* backfillEntity(Company, { dryRun: true })
        assert.strictEqual(dry.candidates, 2)
        assert.strictEqual(dry.merge?.removed, 1)
        const [untouched] = yield* onWorkspace(
          `SELECT sync_state, city FROM company_needs_enrichment WHERE company_unique_id = $1`,
          [demoCompanyKey(8)]
        )
        assert.strictEqual(untouched?.sync_state, "active")
        const real = yield* backfillEntity(Company)
        assert.strictEqual(real.merge?.removed, 1)
        const [gone] = yield* onWorkspace(
          `SELECT sync_state FROM company_needs_enrichment WHERE company_unique_id = $1`,
          [demoCompanyKey(8)]
        )
        assert.strictEqual(gone?.sync_state, "removed")
        // the rest is still the projection of Neon
        yield* onWorkspace(
          `UPDATE company_needs_enrichment SET website = NULL WHERE company_unique_id = $1`,
          [demoCompanyKey(7)]
        )
        yield* backfillEntity(Company)
        yield* Effect.flatMap(
          onWorkspace(
            `SELECT count(*)::int AS n FROM company_needs_enrichment WHERE sync_state = 'active' AND sync_dirty`
          ),
          ([r]) => Effect.sync(() => assert.strictEqual(r?.n, 1))
        )
      })
    )
  })

  layer(engineFixture({ seed: { companies: 3, people: 0 } }))((it) => {
    it.effect("copies unusual values exactly as the projection reads them (TypeScript hash = SQL hash)", () =>
      Effect.gen(function* () {
        yield* onNeon(
          `INSERT INTO marketing.company_invalid
             (company_unique_id, company_name, domain, industry, employee_count, website, phone, address, city, state, zip,
              reason_code, validation_errors, validation_warnings, enrichment_status, enriched_at, enriched_by, batch_id, updated_at)
           VALUES ('04.04.01.01.99999.001', E' "Quoted" \\\\ Back\\tslash ', '', E'\\u00a0Mining\\u3000', 12,
                   '   ', E'line one\\nline two', 'Über Straße 😀', 'Café', 'WV ', E'\\u0001zip',
                   'BAD_PHONE', '{"phone": "bad", "counts": [1.50, 2, -0.0], "nested": {"b": null, "a": "é"}}', 'null',
                   ' In_Progress ', '2025-11-07 16:32:09.5', 'me@example.org', 'B-1', NULL),
                  ('04.04.01.01.99999.002', 'Plain Co', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                   'EMPTY_WEBSITE', '{}', '[]', 'COMPLETE', '2024-02-29 23:59:59', NULL, NULL, '2025-01-01 00:00:00.000001')`
        )
        const report = yield* backfillEntity(Company)
        assert.strictEqual(report.path, "copy")
        assert.strictEqual(report.copied, 5)
        yield* assertInSync
        const rows = yield* onWorkspace(
          `SELECT company_unique_id, enrichment_status, sync_base IS NULL AS no_base, sync_dirty, sync_state,
                  source_xmin IS NOT NULL AS has_version, pulled_from_neon_at IS NOT NULL AS pulled, updated_at::text
             FROM company_needs_enrichment WHERE company_unique_id LIKE '04.04.01.01.99999.%' ORDER BY 1`
        )
        assert.deepStrictEqual(
          rows.map(({ updated_at, ...r }) => r),
          [
            {
              company_unique_id: "04.04.01.01.99999.001",
              enrichment_status: "in_progress",
              no_base: true,
              sync_dirty: false,
              sync_state: "active",
              has_version: true,
              pulled: true
            },
            {
              company_unique_id: "04.04.01.01.99999.002",
              enrichment_status: "complete",
              no_base: true,
              sync_dirty: false,
              sync_state: "active",
              has_version: true,
              pulled: true
            }
          ]
        )
        assert.strictEqual(rows[1]?.updated_at, "2025-01-01 00:00:00.000001")
        const again = yield* backfillEntity(Company)
        assert.strictEqual(again.path, "merge")
        assert.strictEqual(again.candidates, 0)
        assert.strictEqual(again.unchanged, 5)
      })
    )
  })

  layer(engineFixture({ seed: { companies: 3, people: 0 } }))((it) => {
    it.effect(
      "keeps JSON byte for byte: numbers of any precision, JSON null apart from SQL NULL, copy and merge",
      () =>
        Effect.gen(function* () {
          const [a, b, c] = [demoCompanyKey(0), demoCompanyKey(1), demoCompanyKey(2)]
          const write = (key: string, errors: string, warnings: string | null) =>
            onNeon(
              `UPDATE marketing.company_invalid SET validation_errors = $2::jsonb, validation_warnings = $3::jsonb
              WHERE company_unique_id = $1`,
              [key, errors, warnings]
            )
          const big =
            '{"n": -0.000000000000000000000000000001, "z": 1.0, "big": 123456789012345678901234567890.10}'
          yield* write(a, exactJson, "null")
          yield* write(b, big, null)
          yield* write(c, "null", exactJson)
          const expect = (key: string, errors: string, warnings: string | null) =>
            Effect.gen(function* () {
              const side = { errors, warnings }
              assert.deepStrictEqual(yield* companyJsonText(key), { neon: side, workspace: side }, key)
            })

          assert.strictEqual((yield* backfillEntity(Company)).path, "copy")
          yield* assertInSync
          yield* expect(a, exactJson, "null")
          yield* expect(b, big, null)
          yield* expect(c, "null", exactJson)

          // the merge path: digits, JSON null and SQL NULL change places
          yield* write(a, exactJson.replace("2.50", "2.500"), null)
          yield* write(b, big.replace("1.0", "1"), "null")
          const merged = yield* backfillEntity(Company)
          assert.strictEqual(merged.path, "merge")
          assert.strictEqual(merged.merge?.updated, 2)
          yield* assertInSync
          yield* expect(a, exactJson.replace("2.50", "2.500"), null)
          yield* expect(b, big.replace("1.0", "1"), "null")
          assert.isTrue((yield* verifyEntity(Company, { buckets: 16, deep: true })).inSync)
        })
    )
  })

  layer(engineFixture({ seed: { companies: 2000, people: 0 } }))((it) => {
    it.effect("a copy that fails part way writes nothing, and a re-run then copies everything", () =>
      Effect.gen(function* () {
        // a Neon id past 2^53 cannot be projected (it would be rounded): the copy fails at the last row
        yield* onNeon(
          `INSERT INTO marketing.company_invalid (id, company_unique_id, reason_code, validation_errors)
           VALUES (9007199254740993, '99.99.99.99.99999.999', 'EMPTY_WEBSITE', '{}')`
        )
        const failed = yield* Effect.exit(backfillEntity(Company))
        assert.strictEqual(failed._tag, "Failure")
        const [empty] = yield* onWorkspace(`SELECT count(*)::int AS n FROM company_needs_enrichment`)
        assert.strictEqual(empty?.n, 0)

        yield* onNeon(
          `UPDATE marketing.company_invalid SET id = 2001 WHERE company_unique_id = '99.99.99.99.99999.999'`
        )
        const report = yield* backfillEntity(Company)
        assert.strictEqual(report.path, "copy")
        assert.strictEqual(report.copied, 2001)
        yield* assertInSync
      })
    )
  })

  layer(engineFixture({ seed: { companies: 3, people: 0 } }))((it) => {
    it.effect("merges rows pulled by the older scripts (no base) instead of overwriting them", () =>
      Effect.gen(function* () {
        // a workspace row as the guide's pull script made it, then edited by hand
        yield* onWorkspace(
          `INSERT INTO company_needs_enrichment (neon_id, company_unique_id, company_name, website, enrichment_status, updated_at)
           SELECT 1, $1, 'Hand edited name', 'https://found.example', 'complete', now() AT TIME ZONE 'UTC' + interval '1 hour'`,
          [demoCompanyKey(0)]
        )
        const report = yield* backfillEntity(Company)
        assert.strictEqual(report.path, "merge")
        assert.strictEqual(report.candidates, 3)
        const [row] = yield* onWorkspace(
          `SELECT company_name, website FROM company_needs_enrichment WHERE company_unique_id = $1`,
          [demoCompanyKey(0)]
        )
        // the workspace's newer, complete edits won and were pushed; every overwritten value was logged
        assert.deepStrictEqual(row, { company_name: "Hand edited name", website: "https://found.example" })
        const [neon] = yield* onNeon(
          `SELECT company_name, website FROM marketing.company_invalid WHERE company_unique_id = $1`,
          [demoCompanyKey(0)]
        )
        assert.deepStrictEqual(neon, row)
        const [logged] = yield* onWorkspace(
          `SELECT count(*)::int AS n FROM sync_conflicts WHERE record_key = $1`,
          [demoCompanyKey(0)]
        )
        assert.isAbove(logged?.n as number, 0)
      })
    )
  })
})
