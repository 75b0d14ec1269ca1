/**
 * The SQL of a promotion on a real Neon database: the move takes exactly the keys still PASSED out of the
 * invalid table and into the master table (columns as mapped; a key the master holds updated in place, its
 * own columns kept) and the log (the master rows it overwrote kept whole), returning each row whole; it is
 * one statement, all or nothing, invisible until its transaction commits; it works on a master without a
 * unique key and with nothing to update. The read of a batch's statuses, the scan of PASSED keys and rows
 * to flag, and the flag itself (counted in a dry run, written once, re-checked by id).
 */
import { assert, describe, layer } from "@effect/vitest"
import { Company } from "@enrich-sync/core"
import { demoCompanyKey } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import { type MasterMapping, masterMapping } from "../../../src/stages/promote/MasterMapping.ts"
import { byKeysSql, promoteSql, scanSql, stillInvalidSql } from "../../../src/stages/promote/PromoteSql.ts"
import { SourceDatabase } from "../../../src/store/Database.ts"
import { engineFixture, onNeon } from "../../support/EngineFixture.ts"

type Json = Record<string, unknown>

/** The log details of a key new to the master, and of one it held ($3 and $4). */
const freshDetails = { master: "marketing.company_master", updated_existing: false }
const heldDetails = { master: "marketing.company_master", updated_existing: true }

/** Runs the move of `keys` (with `mapping`) in a transaction of its own; the rows it returned. */
const promote = (keys: ReadonlyArray<string>, mapping?: MasterMapping) =>
  Effect.gen(function* () {
    const statement = promoteSql(Company, mapping ?? (yield* masterMapping(Company)))
    const db = yield* SourceDatabase
    return yield* db.transaction((tx) =>
      tx.query(statement, [keys, Company.name, JSON.stringify(freshDetails), JSON.stringify(heldDetails)])
    )
  })

/** Rows of `table` whose key is among `keys`, whole (as `to_jsonb` gives them), in key order, then id. */
const rowsOf = (table: string, keys: ReadonlyArray<string>) =>
  Effect.map(
    onNeon(
      `SELECT to_jsonb(t)::text AS j FROM ${table} t WHERE company_unique_id = ANY($1)
        ORDER BY company_unique_id, id`,
      [keys]
    ),
    (rows) => rows.map((r) => JSON.parse(String(r.j)) as Json)
  )
const invalidRows = (keys: ReadonlyArray<string>) => rowsOf("marketing.company_invalid", keys)
const masterRows = (keys: ReadonlyArray<string>) => rowsOf("marketing.company_master", keys)

/** The promote log's entries of `keys`, in key order, without their own id and time. */
const logOf = (keys: ReadonlyArray<string>) =>
  Effect.map(
    onNeon(
      `SELECT (to_jsonb(l) - 'id' - 'created_at')::text AS j FROM public.shq_validation_log l
        WHERE record_id = ANY($1) ORDER BY record_id, id`,
      [keys]
    ),
    (rows) => rows.map((r) => JSON.parse(String(r.j)) as Json)
  )

const setStatus = (keys: ReadonlyArray<string>, status: string | null) =>
  onNeon(`UPDATE marketing.company_invalid SET validation_status = $2 WHERE company_unique_id = ANY($1)`, [
    keys,
    status
  ])

/** What the master holds of an invalid row, by `mapping`: each master column with its invalid column's value. */
const mapped = (mapping: MasterMapping, invalid: Json) =>
  Object.fromEntries(mapping.columns.map(([to, from]) => [to, invalid[from]]))

const pick = (row: Json | undefined, columns: ReadonlyArray<string>) =>
  Object.fromEntries(columns.map((c) => [c, row?.[c]]))

describe("PromoteSql", () => {
  layer(engineFixture({ seed: { companies: 12, people: 0 } }))((it) => {
    it.effect(
      "the move takes exactly the keys still PASSED into the master (a held key updated in place) and the log",
      () =>
        Effect.gen(function* () {
          const [fresh, held, failed, unvalidated] = [0, 1, 2, 3].map(demoCompanyKey) as [
            string,
            string,
            string,
            string
          ]
          const missing = "04.04.01.99.99999.999"
          yield* setStatus([fresh, held], "PASSED")
          yield* setStatus([failed], "FAILED")
          yield* setStatus([unvalidated], null)
          // the master holds other values than the invalid row in each of these columns: each must be updated
          yield* onNeon(
            `UPDATE marketing.company_invalid
                SET company_name = 'Held Co', website = 'https://held.example.com', industry = 'Mining',
                    phone = '(304) 555-0100', city = 'Elkins', employee_count = 12, enriched_by = 'a@example.com'
              WHERE company_unique_id = $1`,
            [held]
          )
          yield* onNeon(
            `INSERT INTO marketing.company_master (company_unique_id, company_name, website, industry, phone, city,
                                                   employee_count, enriched_by, validation_status, promoted_at)
             VALUES ($1, 'Stale name', 'https://stale.example.com', 'Kept only in the log', '(304) 555-0999',
                     'Nowhere', 99999, 'b@example.com', 'STALE', '2020-01-02 03:04:05')`,
            [held]
          )
          const [stale] = yield* masterRows([held])
          const before = yield* invalidRows([fresh, held])
          const mapping = yield* masterMapping(Company)

          const returned = yield* promote([unvalidated, missing, held, failed, fresh], mapping)

          // one row per promoted row, in key order: its key, the whole invalid row, whether the master held it
          const expected = [fresh, held].sort()
          assert.deepStrictEqual(
            returned.map((r) => ({ key: r.key, row: JSON.parse(String(r.row_json)), existed: r.existed })),
            expected.map((key) => ({
              key,
              row: before.find((b) => b.company_unique_id === key),
              existed: key === held
            }))
          )
          // out of the invalid table; the others stay
          assert.deepStrictEqual(
            (yield* invalidRows([fresh, held, failed, unvalidated])).map((r) => r.company_unique_id),
            [failed, unvalidated]
          )
          // in the master once each, with the invalid row's values as mapped; the held row keeps its id and
          // the master's own column
          const master = yield* masterRows([fresh, held])
          assert.strictEqual(master.length, 2)
          for (const row of master) {
            const invalid = before.find((b) => b.company_unique_id === row.company_unique_id)!
            assert.deepStrictEqual(pick(row, Object.keys(mapped(mapping, invalid))), mapped(mapping, invalid))
          }
          const heldNow = master.find((r) => r.company_unique_id === held)
          assert.strictEqual(heldNow?.id, stale?.id)
          assert.strictEqual(heldNow?.promoted_at, "2020-01-02T03:04:05")
          assert.notStrictEqual(master.find((r) => r.company_unique_id === fresh)?.promoted_at, null)
          // logged, the master row the move overwrote kept whole
          assert.deepStrictEqual(
            yield* logOf([fresh, held, failed, unvalidated, missing]),
            expected.map((key) => {
              const invalid = before.find((b) => b.company_unique_id === key)!
              return {
                record_id: key,
                entity: "company",
                action: "promote",
                validation_status: "PASSED",
                validation_errors: invalid.validation_errors,
                details: key === held ? { ...heldDetails, replaced_master_rows: [stale] } : freshDetails,
                batch_id: invalid.batch_id
              }
            })
          )
        })
    )

    it.effect("the move is all or nothing, and nothing of it shows before its transaction commits", () =>
      Effect.gen(function* () {
        const [rejected, kept, waiting] = [4, 5, 6].map(demoCompanyKey) as [string, string, string]
        yield* setStatus([rejected, kept, waiting], "PASSED")
        yield* onNeon(
          `UPDATE marketing.company_invalid SET company_name = 'Reject Holdings' WHERE company_unique_id = $1`,
          [rejected]
        )
        yield* onNeon(
          `ALTER TABLE marketing.company_master ADD CONSTRAINT no_rejects CHECK (company_name NOT LIKE 'Reject%')`
        )
        const failure = yield* Effect.flip(promote([kept, rejected]))
        assert.include(failure.message, "no_rejects")
        assert.strictEqual((yield* invalidRows([kept, rejected])).length, 2)
        assert.deepStrictEqual(yield* masterRows([kept, rejected]), [])
        assert.deepStrictEqual(yield* logOf([kept, rejected]), [])
        yield* onNeon(`ALTER TABLE marketing.company_master DROP CONSTRAINT no_rejects`)

        // another session sees the row where it was until the move's transaction commits
        const db = yield* SourceDatabase
        const statement = promoteSql(Company, yield* masterMapping(Company))
        const seen = yield* db.transaction((tx) =>
          Effect.gen(function* () {
            const moved = yield* tx.query(statement, [[waiting], Company.name, "{}", "{}"])
            return {
              moved: moved.length,
              invalid: (yield* invalidRows([waiting])).length,
              master: (yield* masterRows([waiting])).length,
              log: (yield* logOf([waiting])).length
            }
          })
        )
        assert.deepStrictEqual(seen, { moved: 1, invalid: 1, master: 0, log: 0 })
        assert.strictEqual((yield* invalidRows([waiting])).length, 0)
        assert.strictEqual((yield* masterRows([waiting])).length, 1)
        assert.strictEqual((yield* logOf([waiting])).length, 1)
      })
    )

    it.effect(
      "with a mapping of the key alone: a held key is left as the master has it, a new one inserted",
      () =>
        Effect.gen(function* () {
          const keyOnly = (uniqueKey: boolean): MasterMapping => ({
            columns: [["company_unique_id", "company_unique_id"]],
            uniqueKey
          })
          for (const [uniqueKey, held, fresh] of [
            [true, demoCompanyKey(7), demoCompanyKey(8)],
            [false, demoCompanyKey(9), demoCompanyKey(10)]
          ] as const) {
            yield* setStatus([held, fresh], "PASSED")
            yield* onNeon(
              `INSERT INTO marketing.company_master (company_unique_id, company_name) VALUES ($1, 'As the master has it')`,
              [held]
            )
            const returned = yield* promote([held, fresh], keyOnly(uniqueKey))
            assert.deepStrictEqual(
              returned.map((r) => [r.key, r.existed]),
              [
                [held, true],
                [fresh, false]
              ],
              `uniqueKey ${uniqueKey}`
            )
            assert.deepStrictEqual(
              (yield* masterRows([held, fresh])).map((r) => [r.company_unique_id, r.company_name]),
              [
                [held, "As the master has it"],
                [fresh, null]
              ]
            )
            assert.deepStrictEqual(yield* invalidRows([held, fresh]), [])
            assert.strictEqual((yield* logOf([held, fresh])).length, 2)
          }
        })
    )

    it.effect("reads the statuses of the keys asked for that are there", () =>
      Effect.gen(function* () {
        const [passed, failed] = [11, 3].map(demoCompanyKey) as [string, string]
        yield* onNeon(
          `UPDATE marketing.company_invalid
              SET validation_status = CASE WHEN company_unique_id = $1 THEN 'PASSED' ELSE 'FAILED' END,
                  reason_code = CASE WHEN company_unique_id = $1 THEN 'NONE' ELSE 'EMPTY_WEBSITE' END
            WHERE company_unique_id IN ($1, $2)`,
          [passed, failed]
        )
        const rows = yield* onNeon(byKeysSql(Company), [
          [passed, failed, "04.04.01.99.99999.998", "not-a-key"]
        ])
        assert.deepStrictEqual(
          [...rows].sort((a, b) => String(a.key).localeCompare(String(b.key))),
          [
            { key: failed, validation_status: "FAILED", reason_code: "EMPTY_WEBSITE" },
            { key: passed, validation_status: "PASSED", reason_code: "NONE" }
          ].sort((a, b) => a.key.localeCompare(b.key))
        )
      })
    )
  })

  layer(engineFixture({ seed: { companies: 6, people: 0 } }))((it) => {
    it.effect("on a master without a unique key: every row holding the key is updated, and logged", () =>
      Effect.gen(function* () {
        yield* onNeon(
          `ALTER TABLE marketing.company_master DROP CONSTRAINT company_master_company_unique_id_key`
        )
        const mapping = yield* masterMapping(Company)
        assert.isFalse(mapping.uniqueKey)
        const [held, fresh] = [0, 1].map(demoCompanyKey) as [string, string]
        yield* setStatus([held, fresh], "PASSED")
        yield* onNeon(
          `INSERT INTO marketing.company_master (company_unique_id, company_name) VALUES ($1, 'Old A'), ($1, 'Old B')`,
          [held]
        )
        const stale = yield* masterRows([held])
        const before = yield* invalidRows([held, fresh])
        const returned = yield* promote([held, fresh], mapping)
        assert.deepStrictEqual(
          returned.map((r) => [r.key, r.existed]),
          [
            [held, true],
            [fresh, false]
          ]
        )
        assert.deepStrictEqual(
          (yield* masterRows([held, fresh])).map((r) => [r.company_unique_id, r.company_name]),
          [
            [held, before[0]?.company_name],
            [held, before[0]?.company_name],
            [fresh, before[1]?.company_name]
          ]
        )
        const log = yield* logOf([held, fresh])
        assert.deepStrictEqual(
          log.map((l) => l.details),
          [{ ...heldDetails, replaced_master_rows: stale }, freshDetails]
        )
      })
    )
  })

  layer(engineFixture({ seed: { companies: 12, people: 0 } }))((it) => {
    /** ids and keys of the seeded rows, by index */
    const rows = Effect.map(
      onNeon(
        `SELECT t.id::text AS id, company_unique_id AS key FROM marketing.company_invalid t ORDER BY t.id`
      ),
      (r) => r.map((x) => ({ id: String(x.id), key: String(x.key) }))
    )
    /** row i: validation_status, enrichment_status, still_invalid */
    const states: ReadonlyArray<readonly [string | null, string | null, boolean]> = [
      ["PASSED", null, false],
      ["PASSED", "complete", false],
      ["FAILED", "complete", false],
      ["FAILED", "COMPLETE", false],
      ["FAILED", "  Complete ", false],
      ["FAILED", "complete", true],
      ["FAILED", "incomplete", false],
      ["FAILED", "completed", false],
      ["FAILED", "in_progress", false],
      ["FAILED", null, false],
      [null, "complete", false],
      [" ", "complete", false]
    ]
    const flagged = Effect.map(
      onNeon(`SELECT t.id::text AS id FROM marketing.company_invalid t WHERE still_invalid ORDER BY t.id`),
      (r) => r.map((x) => String(x.id))
    )

    /** Puts row i in state i; the rows. */
    const arrange = Effect.gen(function* () {
      const all = yield* rows
      assert.strictEqual(all.length, states.length)
      for (const [i, [status, enrichment, flag]] of states.entries()) {
        yield* onNeon(
          `UPDATE marketing.company_invalid SET validation_status = $2, enrichment_status = $3, still_invalid = $4
            WHERE id = $1`,
          [all[i]!.id, status, enrichment, flag]
        )
      }
      return all
    })

    it.effect("one scan finds every PASSED key and exactly the FAILED rows enriched to complete", () =>
      Effect.gen(function* () {
        const all = yield* arrange
        const scanned = yield* onNeon(scanSql(Company))
        const sorted = [...scanned]
          .map((r) => ({ key: r.key, id: r.id }))
          .sort((a, b) => String(a.key).localeCompare(String(b.key)))
        assert.deepStrictEqual(sorted, [
          { key: all[0]!.key, id: null },
          { key: all[1]!.key, id: null },
          ...[2, 3, 4, 5].map((i) => ({ key: all[i]!.key, id: all[i]!.id }))
        ])
      })
    )

    it.effect(
      "the flag: counted in a dry run, written once where missing, re-checked for the ids given",
      () =>
        Effect.gen(function* () {
          const all = yield* arrange
          const expected = [2, 3, 4, 5].map((i) => all[i]!.id)
          const count = (sql: string, params: ReadonlyArray<unknown> = []) =>
            Effect.map(onNeon(sql, params), ([r]) => Number(r?.n))
          const version = Effect.map(
            onNeon(`SELECT id::text AS id, xmin::text AS v FROM marketing.company_invalid ORDER BY id`),
            (r) => new Map(r.map((x) => [String(x.id), String(x.v)]))
          )
          const untouched = yield* version

          // a dry run counts, and writes nothing
          assert.strictEqual(yield* count(stillInvalidSql(Company, true, false)), 4)
          assert.strictEqual(
            yield* count(stillInvalidSql(Company, true, true), [[all[2]!.id, all[6]!.id]]),
            1
          )
          assert.deepStrictEqual(yield* version, untouched)
          assert.deepStrictEqual(yield* flagged, [all[5]!.id])

          // by ids: only those given, each checked again (an id that does not qualify is left alone)
          assert.strictEqual(
            yield* count(stillInvalidSql(Company, false, true), [[all[2]!.id, all[6]!.id, all[0]!.id]]),
            1
          )
          assert.deepStrictEqual(yield* flagged, [all[2]!.id, all[5]!.id])

          // all: counts every such row, writes only those not flagged yet
          assert.strictEqual(yield* count(stillInvalidSql(Company, false, false)), 4)
          assert.deepStrictEqual(yield* flagged, expected)
          const after = yield* version
          for (const { id } of all) {
            const written = after.get(id) !== untouched.get(id)
            assert.strictEqual(
              written,
              [all[2]!.id, all[3]!.id, all[4]!.id].includes(id),
              `row ${id} written`
            )
          }
        })
    )
  })
})
