import { assert, describe, layer } from "@effect/vitest"
import { Company, Person, projectWorkspace, syncHash } from "@enrich-sync/core"
import { demoCompanyKey } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import { applyCleanSlices, readCleanSlices } from "../../src/merge/CleanApply.ts"
import { applyKeys } from "../../src/merge/MergeApply.ts"
import { WorkspaceDatabase } from "../../src/store/Database.ts"
import { engineFixture, onNeon, onWorkspace } from "../support/EngineFixture.ts"

/** The company keys of Neon rows `from` to `to` (by id), in id order. */
const companyKeysBetween = (from: number, to: number) =>
  Effect.map(
    onNeon(
      `SELECT company_unique_id AS k FROM marketing.company_invalid WHERE id BETWEEN $1 AND $2 ORDER BY id`,
      [from, to]
    ),
    (rows) => rows.map((r) => String(r.k))
  )

const allKeys = (table: string, key: string) =>
  Effect.map(onNeon(`SELECT ${key} AS k FROM ${table} ORDER BY id`), (rows) =>
    rows.map((r) => ({ key: String(r.k) }))
  )

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
          const companies = yield* applyKeys(
            Company,
            yield* allKeys("marketing.company_invalid", "company_unique_id")
          )
          const people = yield* applyKeys(Person, yield* allKeys("marketing.people_invalid", "unique_id"))
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
          const [row] = yield* onWorkspace(
            `SELECT enrichment_status, pulled_from_neon_at IS NOT NULL AS pulled, original_validation_errors, reason_code, sync_dirty
             FROM company_needs_enrichment WHERE company_unique_id = $1`,
            [demoCompanyKey(0)]
          )
          assert.strictEqual(row?.enrichment_status, "pending")
          assert.isTrue(row?.pulled)
          assert.isFalse(row?.sync_dirty)
          const [stored] = yield* onWorkspace(
            `SELECT count(*) FILTER (WHERE sync_base IS NOT NULL)::int AS n FROM company_needs_enrichment`
          )
          assert.strictEqual(stored?.n, 0)
          // merging again writes nothing
          const again = yield* applyKeys(
            Company,
            yield* allKeys("marketing.company_invalid", "company_unique_id")
          )
          assert.strictEqual(again.unchanged, 119)
          assert.strictEqual(again.inserted + again.updated + again.pushed, 0)
        })
    )

    it.effect(
      "the guide's manual enrichment: UPDATE in the workspace, then push, re-validated in the same write",
      () =>
        Effect.gen(function* () {
          const key = demoCompanyKey(0)
          yield* onWorkspace(
            `UPDATE company_needs_enrichment
              SET website = 'https://monongaliacounty.com', domain = 'monongaliacounty.com', enrichment_status = 'complete',
                  enrichment_notes = 'Found via Google search', enriched_by = 'enricher@example.com', enriched_at = now(), updated_at = now()
            WHERE company_unique_id = $1`,
            [key]
          )
          const stats = yield* applyKeys(Company, [{ key }])
          assert.strictEqual(stats.pushed, 1)
          const [neon] = yield* onNeon(
            `SELECT website, domain, enrichment_status, enriched_by, validation_status, validation_errors, reason_code
             FROM marketing.company_invalid WHERE company_unique_id = $1`,
            [key]
          )
          assert.strictEqual(neon?.website, "https://monongaliacounty.com")
          assert.strictEqual(neon?.enrichment_status, "complete")
          assert.strictEqual(neon?.enriched_by, "enricher@example.com")
          const [ws] = yield* onWorkspace(
            `SELECT original_validation_errors, validation_status, reason_code, pushed_to_neon_at IS NOT NULL AS pushed, enrichment_notes
             FROM company_needs_enrichment WHERE company_unique_id = $1`,
            [key]
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
        yield* onWorkspace(
          `UPDATE company_needs_enrichment SET website = 'https://draft.example', enrichment_status = 'in_progress' WHERE company_unique_id = $1`,
          [key]
        )
        yield* onNeon(
          `UPDATE marketing.company_invalid SET phone = '(304) 555-0177' WHERE company_unique_id = $1`,
          [key]
        )
        const stats = yield* applyKeys(Company, [{ key }])
        assert.strictEqual(stats.pushed, 0)
        const [neon] = yield* onNeon(
          `SELECT website, enrichment_status FROM marketing.company_invalid WHERE company_unique_id = $1`,
          [key]
        )
        assert.strictEqual(neon?.website, null)
        const [ws] = yield* onWorkspace(
          `SELECT website, phone, enrichment_status, enrich_sync.company_workspace_hash(t) <> last_sync_hash AS unsynced
             FROM company_needs_enrichment t WHERE company_unique_id = $1`,
          [key]
        )
        assert.deepStrictEqual(ws, {
          website: "https://draft.example",
          phone: "(304) 555-0177",
          enrichment_status: "in_progress",
          unsynced: true
        })
        // the pending edit is not part of the agreed base: the base is stored beside the row
        const [base] = yield* onWorkspace(
          `SELECT sync_base->>'website' AS website, sync_base->>'phone' AS phone, enrich_sync.sync_hash(sync_base) = last_sync_hash AS agreed
             FROM company_needs_enrichment WHERE company_unique_id = $1`,
          [key]
        )
        assert.deepStrictEqual(base, { website: null, phone: "(304) 555-0177", agreed: true })
        // completing it pushes the held edit
        yield* onWorkspace(
          `UPDATE company_needs_enrichment SET enrichment_status = 'complete' WHERE company_unique_id = $1`,
          [key]
        )
        assert.strictEqual((yield* applyKeys(Company, [{ key }])).pushed, 1)
        const [after] = yield* onNeon(
          `SELECT website FROM marketing.company_invalid WHERE company_unique_id = $1`,
          [key]
        )
        assert.strictEqual(after?.website, "https://draft.example")
        // both sides agree again: the row is its own base once more
        const [clean] = yield* onWorkspace(
          `SELECT sync_base IS NULL AS implied, enrich_sync.company_workspace_hash(t) = last_sync_hash AS agreed
             FROM company_needs_enrichment t WHERE company_unique_id = $1`,
          [key]
        )
        assert.deepStrictEqual(clean, { implied: true, agreed: true })
      })
    )

    it.effect("a person's first edit stores the agreed projection as the base; later edits keep it", () =>
      Effect.gen(function* () {
        const key = demoCompanyKey(6)
        const [before] = yield* onWorkspace(
          `SELECT sync_base, last_sync_hash, enrich_sync.company_workspace_hash(t) AS h FROM company_needs_enrichment t WHERE company_unique_id = $1`,
          [key]
        )
        assert.strictEqual(before?.sync_base, null)
        assert.strictEqual(before?.h, before?.last_sync_hash)
        yield* onWorkspace(
          `UPDATE company_needs_enrichment SET city = 'Draft 1' WHERE company_unique_id = $1`,
          [key]
        )
        yield* onWorkspace(
          `UPDATE company_needs_enrichment SET city = 'Draft 2' WHERE company_unique_id = $1`,
          [key]
        )
        const [after] = yield* onWorkspace(
          `SELECT city, sync_base->>'city' AS base_city, enrich_sync.sync_hash(sync_base) AS base_hash, last_sync_hash, sync_dirty
             FROM company_needs_enrichment WHERE company_unique_id = $1`,
          [key]
        )
        assert.strictEqual(after?.city, "Draft 2")
        assert.notStrictEqual(after?.base_city, "Draft 1")
        assert.strictEqual(after?.base_hash, after?.last_sync_hash)
        assert.isTrue(after?.sync_dirty)
        // Neon changes the same field meanwhile: a real conflict against the stored base, not a silent overwrite
        yield* onNeon(
          `UPDATE marketing.company_invalid SET city = 'Neon City' WHERE company_unique_id = $1`,
          [key]
        )
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
        yield* WorkspaceDatabase.use((db) =>
          db.transaction((tx) =>
            Effect.gen(function* () {
              yield* tx.query(`SELECT set_config('enrich_sync.applying', 'on', true)`)
              yield* tx.query(
                `UPDATE company_needs_enrichment SET phone = 'Hidden edit' WHERE company_unique_id = $1`,
                [key]
              )
            })
          )
        )
        yield* onNeon(
          `UPDATE marketing.company_invalid SET phone = 'Neon phone' WHERE company_unique_id = $1`,
          [key]
        )
        const stats = yield* applyKeys(Company, [{ key }])
        assert.strictEqual(stats.conflicts, 1)
        const [logged] = yield* onWorkspace(
          `SELECT source_value, workspace_value FROM sync_conflicts WHERE record_key = $1 AND field = 'phone'`,
          [key]
        )
        assert.deepStrictEqual(logged, { source_value: "Neon phone", workspace_value: "Hidden edit" })
        const [ws] = yield* onWorkspace(
          `SELECT phone FROM company_needs_enrichment WHERE company_unique_id = $1`,
          [key]
        )
        assert.strictEqual(ws?.phone, "Neon phone")
        yield* assertHashesAgree("company_needs_enrichment", "enrich_sync.company_workspace_hash")
      })
    )

    it.effect("a conflict: the newer edit wins and the losing value is logged with both times", () =>
      Effect.gen(function* () {
        const key = demoCompanyKey(2)
        yield* onWorkspace(
          `UPDATE company_needs_enrichment SET enrichment_status = 'complete' WHERE company_unique_id = $1`,
          [key]
        )
        yield* applyKeys(Company, [{ key }])
        // Neon edits first (an UPDATE that does not bump updated_at), the workspace edits later
        yield* onNeon(
          `UPDATE marketing.company_invalid SET city = 'Star City' WHERE company_unique_id = $1`,
          [key]
        )
        yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 20)))
        yield* onWorkspace(
          `UPDATE company_needs_enrichment SET city = 'Westover' WHERE company_unique_id = $1`,
          [key]
        )
        const stats = yield* applyKeys(Company, [
          { key, committedAt: new Date(Date.now() - 10).toISOString() }
        ])
        assert.strictEqual(stats.conflicts, 1)
        const [neon] = yield* onNeon(
          `SELECT city FROM marketing.company_invalid WHERE company_unique_id = $1`,
          [key]
        )
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
        const rows = yield* onWorkspace(
          `SELECT company_unique_id AS key, sync_state, promoted_at IS NOT NULL AS p, removed_at IS NOT NULL AS r FROM company_needs_enrichment
            WHERE company_unique_id = ANY($1) ORDER BY company_unique_id`,
          [[promoted, deleted]]
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
        const [back] = yield* onWorkspace(
          `SELECT sync_state, company_name FROM company_needs_enrichment WHERE company_unique_id = $1`,
          [deleted]
        )
        assert.deepStrictEqual(back, { sync_state: "active", company_name: "Back again" })
      })
    )

    it.effect(
      "a row untouched since the engine's write takes Neon's change in one statement, as the full merge would",
      () =>
        Effect.gen(function* () {
          const fast = demoCompanyKey(40)
          const full = demoCompanyKey(41)
          // the engine rewrites `full` (its own write: no trigger), so its xmin no longer proves it untouched
          yield* WorkspaceDatabase.use((db) =>
            db.transaction((tx) =>
              Effect.gen(function* () {
                yield* tx.query(`SELECT set_config('enrich_sync.applying', 'on', true)`)
                yield* tx.query(
                  `UPDATE company_needs_enrichment SET city = ' ' || city || ' ' WHERE company_unique_id = $1`,
                  [full]
                )
              })
            )
          )
          yield* onNeon(
            `UPDATE marketing.company_invalid SET phone = '(304) 555-0140', zip = NULL, updated_at = now()
              WHERE company_unique_id = ANY($1)`,
            [[fast, full]]
          )
          const read = yield* readCleanSlices(Company, [fast, full], new Map())
          assert.strictEqual(read.rows, 2)
          const written = yield* applyCleanSlices(Company, read.slices)
          assert.deepStrictEqual([...written], [fast])
          // a second time there is nothing to write
          assert.strictEqual((yield* applyCleanSlices(Company, read.slices)).size, 0)
          const merged = yield* applyKeys(Company, [{ key: full }])
          assert.strictEqual(merged.updated, 1)
          const after = yield* onWorkspace(
            `SELECT company_unique_id AS key, phone, zip, city, sync_base, sync_dirty, last_sync_hash = enrich_sync.company_workspace_hash(t) AS agreed,
                    updated_at = (SELECT max(x) FROM unnest(ARRAY[$2::timestamp]) x) AS stamped, pulled_from_neon_at IS NOT NULL AS pulled,
                    xmin::text::bigint = sync_xid AS untouched
               FROM company_needs_enrichment t WHERE company_unique_id = ANY($1) ORDER BY 1`,
            [
              [fast, full],
              (yield* onNeon(
                `SELECT max(updated_at)::text AS u FROM marketing.company_invalid WHERE company_unique_id = ANY($1)`,
                [[fast, full]]
              ))[0]?.u
            ]
          )
          for (const row of after) {
            assert.deepStrictEqual(
              {
                phone: row.phone,
                zip: row.zip,
                base: row.sync_base,
                dirty: row.sync_dirty,
                agreed: row.agreed,
                pulled: row.pulled,
                untouched: row.untouched
              },
              {
                phone: "(304) 555-0140",
                zip: null,
                base: null,
                dirty: false,
                agreed: true,
                pulled: true,
                untouched: true
              },
              String(row.key)
            )
          }
          // the full merge kept the spaces the projection ignores; the one statement wrote nothing there either
          assert.match(String(after.find((r) => r.key === full)?.city), /^ .* $/)
          assert.notMatch(String(after.find((r) => r.key === fast)?.city), /^ /)
          const hashes = yield* onNeon(
            `SELECT company_unique_id AS key, enrich_sync.company_source_hash(t) AS h FROM marketing.company_invalid t WHERE company_unique_id = ANY($1) ORDER BY 1`,
            [[fast, full]]
          )
          const stored = yield* onWorkspace(
            `SELECT company_unique_id AS key, last_sync_hash AS h FROM company_needs_enrichment WHERE company_unique_id = ANY($1) ORDER BY 1`,
            [[fast, full]]
          )
          assert.deepStrictEqual(stored, hashes)
        })
    )

    it.effect(
      "untouched rows are written in slices of every n-th row, each row once, with the commit time as the edit time when later",
      () =>
        Effect.gen(function* () {
          const keys = yield* companyKeysBetween(60, 82)
          assert.strictEqual(keys.length, 23)
          yield* onNeon(
            `UPDATE marketing.company_invalid SET industry = 'Sliced ' || id, updated_at = '2030-01-01 00:00:00' WHERE id BETWEEN 60 AND 82`
          )
          // one commit time later than Neon's updated_at, one earlier
          const committed = new Map([
            [keys[0]!, "2031-03-04T05:06:07.123456Z"],
            [keys[1]!, "2029-01-01T00:00:00.000000Z"]
          ])
          // ids 60 to 82 in runs of 8 ids (a "page" of 8 rows): the fullest holds 8 rows, so 4 slices
          const read = yield* readCleanSlices(Company, keys, committed, { pageRows: 8, minSliceRows: 1 })
          assert.strictEqual(read.rows, 23)
          assert.strictEqual(read.slices.length, 4)
          // rows next to each other (by id) are in different slices
          const sliceOf = new Map<string, number>()
          read.slices.forEach((pieces, i) => {
            for (const line of Buffer.concat(pieces).toString("utf8").split("\n"))
              if (line !== "")
                sliceOf.set(line.split("\t")[Company.fields.findIndex((f) => f.name === Company.key)]!, i)
          })
          assert.strictEqual(sliceOf.size, 23)
          for (let i = 1; i < keys.length; i++)
            assert.notStrictEqual(sliceOf.get(keys[i]!), sliceOf.get(keys[i - 1]!))
          // rows far apart need one slice
          const spread = (yield* onNeon(
            `SELECT company_unique_id AS k FROM marketing.company_invalid WHERE id IN (3, 20, 37, 54) ORDER BY id`
          )).map((r) => String(r.k))
          yield* onNeon(
            `UPDATE marketing.company_invalid SET industry = 'Spread' WHERE id IN (3, 20, 37, 54)`
          )
          const one = yield* readCleanSlices(Company, spread, new Map(), { pageRows: 8, minSliceRows: 1 })
          assert.strictEqual(one.slices.length, 1)
          assert.strictEqual(one.rows, 4)
          // and a batch too small to pay for more than one transaction is one slice, however dense
          const small = yield* readCleanSlices(Company, keys, committed, { pageRows: 8, minSliceRows: 12 })
          assert.strictEqual(small.slices.length, 1)
          assert.strictEqual((yield* applyCleanSlices(Company, one.slices)).size, 4)
          const written = yield* applyCleanSlices(Company, read.slices, 2)
          assert.deepStrictEqual([...written].sort(), [...keys].sort())
          const rows = yield* onWorkspace(
            `SELECT company_unique_id AS key, industry, updated_at::text AS updated_at, neon_id,
                    last_sync_hash = enrich_sync.company_workspace_hash(t) AS agreed, xmin::text::bigint = sync_xid AS untouched
               FROM company_needs_enrichment t WHERE company_unique_id = ANY($1)`,
            [keys]
          )
          for (const row of rows) {
            assert.strictEqual(row.industry, `Sliced ${row.neon_id}`)
            assert.isTrue(row.agreed)
            assert.isTrue(row.untouched)
            assert.strictEqual(
              row.updated_at,
              row.key === keys[0] ? "2031-03-04 05:06:07.123456" : "2030-01-01 00:00:00",
              String(row.key)
            )
          }
        })
    )

    it.effect(
      "a slice that fails writes nothing of its own, keeps the slices before it, and leaves no transaction open",
      () =>
        Effect.gen(function* () {
          const keys = yield* companyKeysBetween(90, 93)
          yield* onNeon(
            `UPDATE marketing.company_invalid SET industry = 'Atomic ' || id WHERE id BETWEEN 90 AND 93`
          )
          const good = yield* readCleanSlices(Company, keys.slice(0, 2), new Map())
          const rest = yield* readCleanSlices(Company, keys.slice(2), new Map())
          // the second slice's rows, then a line that is not a row: its COPY fails
          const bad = [...rest.slices[0]!, Buffer.from("not\ta row\n")]
          const failed = yield* applyCleanSlices(Company, [good.slices[0]!, bad], 1).pipe(Effect.flip)
          assert.strictEqual(failed._tag, "DatabaseError")
          const industries = yield* onWorkspace(
            `SELECT company_unique_id AS key, industry FROM company_needs_enrichment WHERE company_unique_id = ANY($1)`,
            [keys]
          )
          for (const row of industries)
            assert.strictEqual(
              String(row.industry).startsWith("Atomic"),
              keys.slice(0, 2).includes(String(row.key)),
              String(row.key)
            )
          // every connection of the pool is usable and outside a transaction
          const states = yield* Effect.all(
            Array.from({ length: 6 }, () => onWorkspace(`SELECT now() = statement_timestamp() AS fresh`)),
            { concurrency: 6 }
          )
          for (const [row] of states) assert.isTrue(row?.fresh)
          assert.strictEqual((yield* applyCleanSlices(Company, rest.slices)).size, 2)
        })
    )

    it.effect("keys holding quotes, backslashes and array syntax are read and written as they are", () =>
      Effect.gen(function* () {
        const odd = `it's "odd" \\ {a,b} \\N`
        yield* onNeon(
          `INSERT INTO marketing.company_invalid (company_unique_id, company_name, reason_code, validation_errors) VALUES ($1, 'Odd key', 'EMPTY_WEBSITE', '{"website": "empty or blank"}')`,
          [odd]
        )
        assert.strictEqual((yield* applyKeys(Company, [{ key: odd }])).inserted, 1)
        yield* onNeon(
          `UPDATE marketing.company_invalid SET company_name = 'Odd key, renamed' WHERE company_unique_id = $1`,
          [odd]
        )
        const read = yield* readCleanSlices(Company, [odd], new Map([[odd, null]]))
        assert.strictEqual(read.rows, 1)
        assert.deepStrictEqual([...(yield* applyCleanSlices(Company, read.slices))], [odd])
        const [row] = yield* onWorkspace(
          `SELECT company_name FROM company_needs_enrichment WHERE company_unique_id = $1`,
          [odd]
        )
        assert.strictEqual(row?.company_name, "Odd key, renamed")
      })
    )

    it.effect("a dry run plans and counts but writes nothing", () =>
      Effect.gen(function* () {
        const key = demoCompanyKey(5)
        yield* onWorkspace(
          `UPDATE company_needs_enrichment SET website = 'https://dry.example', enrichment_status = 'complete' WHERE company_unique_id = $1`,
          [key]
        )
        const stats = yield* applyKeys(Company, [{ key }], { dryRun: true })
        assert.strictEqual(stats.pushed, 1)
        assert.deepStrictEqual(stats.changes[0]?.action, "push")
        const [neon] = yield* onNeon(
          `SELECT website FROM marketing.company_invalid WHERE company_unique_id = $1`,
          [key]
        )
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
