import { assert, describe, layer } from "@effect/vitest"
import { Company } from "@enrich-sync/core"
import { demoCompanyKey, TwoDatabases } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/testing/TestClock"
import pg from "pg"
import {
  applyCleanSlices,
  type CleanSlices,
  inSyncSql,
  mergedVisibleSql,
  readCleanSlices,
  snapshotBoundsSql,
  snapshotSetting
} from "../../src/merge/CleanApply.ts"
import { projectionWorkspaceColumns } from "../../src/merge/CopyProjection.ts"
import { applyKeys } from "../../src/merge/MergeApply.ts"
import { backfillEntity } from "../../src/stages/Backfill.ts"
import { verifyEntity } from "../../src/stages/Verify.ts"
import { WorkspaceDatabase } from "../../src/store/Database.ts"
import {
  enterWebsite,
  neonCompanies,
  workspaceCompanies,
  workspaceCompaniesAsEngine
} from "../support/CompanyRows.ts"
import {
  companyJsonText,
  companyKeysBetween,
  engineFixture,
  exactJson,
  onNeon,
  onWorkspace
} from "../support/EngineFixture.ts"

/** Applying `read` writes the one row `key`, whose workspace `column` then holds `value`. */
const assertCleanWrites = (read: CleanSlices, key: string, column: string, value: string) =>
  Effect.gen(function* () {
    assert.deepStrictEqual([...(yield* applyCleanSlices(Company, read)).written], [key])
    const row = yield* workspaceCompanies.row(key, column)
    assert.strictEqual(row?.[column], value)
  })

/** The hash each workspace row `keys` stores is its Neon row's source hash. */
const assertStoredHashesAreNeons = (keys: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const hashes = yield* neonCompanies.select(
      keys,
      `company_unique_id AS key, enrich_sync.company_source_hash(t) AS h`
    )
    const stored = yield* workspaceCompanies.select(keys, `company_unique_id AS key, last_sync_hash AS h`)
    assert.deepStrictEqual(stored, hashes)
  })

/**
 * Neon changes a record's phone and the daemon reads the change for its next batch; meanwhile a person
 * completes the row with a website and the engine pushes it: the row is the engine's again. Returns the
 * batch read before the push.
 */
const readThenPushed = (key: string, phone: string, website: string) =>
  Effect.gen(function* () {
    yield* neonCompanies.update(key, `phone = '${phone}', updated_at = now()`)
    const read = yield* readCleanSlices(Company, [key], new Map())
    assert.strictEqual(read.rows, 1)
    yield* enterWebsite(key, website, "complete")
    assert.strictEqual((yield* applyKeys(Company, [{ key }])).pushed, 1)
    return read
  })

describe("the clean path: Neon changes into rows nobody touched, on COPY bytes", () => {
  // every Neon company merged into the workspace: what the clean path starts from
  layer(engineFixture({ seed: {}, merged: [Company] }))((it) => {
    it.effect(
      "a row untouched since the engine's write takes Neon's change in one statement, as the full merge would",
      () =>
        Effect.gen(function* () {
          const [fast, full] = [demoCompanyKey(40), demoCompanyKey(41)]
          // the engine rewrites `full` (its own write: no trigger), so its xmin no longer proves it untouched
          yield* workspaceCompaniesAsEngine.update(full, `city = ' ' || city || ' '`)
          yield* neonCompanies.update(
            [fast, full],
            `phone = '(304) 555-0140', zip = NULL, updated_at = now()`
          )
          const read = yield* readCleanSlices(Company, [fast, full], new Map())
          assert.strictEqual(read.rows, 2)
          const first = yield* applyCleanSlices(Company, read)
          assert.deepStrictEqual([...first.written], [fast])
          assert.deepStrictEqual([...first.inSync], [], "a row written is not also in sync")
          // a second time there is nothing to write: the untouched row is in sync, the other still needs the full merge
          const again = yield* applyCleanSlices(Company, read)
          assert.strictEqual(again.written.size, 0)
          assert.deepStrictEqual([...again.inSync], [fast])
          const merged = yield* applyKeys(Company, [{ key: full }])
          assert.strictEqual(merged.updated, 1)
          const after = yield* workspaceCompanies.select(
            [fast, full],
            `company_unique_id AS key, phone, zip, city, sync_base, sync_dirty, last_sync_hash = enrich_sync.company_workspace_hash(t) AS agreed,
             updated_at = (SELECT max(x) FROM unnest(ARRAY[$2::timestamp]) x) AS stamped, pulled_from_neon_at IS NOT NULL AS pulled,
             xmin::text::bigint = sync_xid AS untouched`,
            [
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
          yield* assertStoredHashesAreNeons([fast, full])
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
          assert.strictEqual((yield* applyCleanSlices(Company, one)).written.size, 4)
          const { written } = yield* applyCleanSlices(Company, read)
          assert.deepStrictEqual([...written].sort(), [...keys].sort())
          const rows = yield* workspaceCompanies.select(
            keys,
            `company_unique_id AS key, industry, updated_at::text AS updated_at, neon_id,
             last_sync_hash = enrich_sync.company_workspace_hash(t) AS agreed, xmin::text::bigint = sync_xid AS untouched`
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
      "a merge told to skip the clean path (keys a person edited) writes an untouched row the same way",
      () =>
        Effect.gen(function* () {
          const [viaClean, viaFull] = [demoCompanyKey(42), demoCompanyKey(43)]
          yield* neonCompanies.update(
            [viaClean, viaFull],
            `phone = '(304) 555-0142', industry = 'Either way', updated_at = '2031-01-01 00:00:00'`
          )
          assert.strictEqual((yield* applyKeys(Company, [{ key: viaClean }])).updated, 1)
          assert.strictEqual((yield* applyKeys(Company, [{ key: viaFull }], { clean: false })).updated, 1)
          const rows = yield* workspaceCompanies.select(
            [viaClean, viaFull],
            `phone, industry, updated_at::text AS updated_at, sync_base, sync_dirty,
             last_sync_hash = enrich_sync.company_workspace_hash(t) AS agreed, xmin::text::bigint = sync_xid AS untouched`
          )
          assert.strictEqual(rows.length, 2)
          assert.deepStrictEqual(rows[0], rows[1])
          assert.deepStrictEqual(
            {
              phone: rows[0]?.phone,
              industry: rows[0]?.industry,
              agreed: rows[0]?.agreed,
              dirty: rows[0]?.sync_dirty
            },
            { phone: "(304) 555-0142", industry: "Either way", agreed: true, dirty: false }
          )
        })
    )

    it.effect(
      "the read waits until the transactions it is given are visible, then reads what they wrote (one message per look)",
      () =>
        Effect.scoped(
          Effect.gen(function* () {
            const key = demoCompanyKey(95)
            const dbs = yield* TwoDatabases
            // a Neon transaction the stream would have reported, not visible yet: still open here
            const writer = yield* Effect.acquireRelease(
              Effect.promise(async () => {
                const client = new pg.Client({ connectionString: dbs.neon.url })
                await client.connect()
                return client
              }),
              (client) => Effect.promise(() => client.end())
            )
            yield* Effect.promise(() => writer.query("BEGIN"))
            yield* Effect.promise(() =>
              writer.query(
                `UPDATE marketing.company_invalid SET industry = 'Seen once visible' WHERE company_unique_id = $1`,
                [key]
              )
            )
            const { rows } = yield* Effect.promise(() => writer.query("SELECT txid_current()::bigint AS x"))
            const xid = Number(rows[0].x) % 2 ** 32
            const reading = yield* Effect.forkChild(
              readCleanSlices(Company, [key], new Map(), { xids: [xid] })
            )
            // the read looks again after pauses of Clock time (this suite runs on the test clock)
            const tick = Effect.andThen(
              TestClock.adjust("10 millis"),
              Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 10)))
            )
            for (let i = 0; i < 30; i++) yield* tick
            assert.isUndefined(reading.pollUnsafe(), "read before the transaction was visible")
            yield* Effect.promise(() => writer.query("COMMIT"))
            for (let i = 0; i < 500 && reading.pollUnsafe() === undefined; i++) yield* tick
            const read = yield* Fiber.join(reading)
            assert.strictEqual(read.rows, 1)
            assert.match(read.snapshot, /^\d+:\d+:[\d,]*$/)
            yield* assertCleanWrites(read, key, "industry", "Seen once visible")
          })
        )
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
          const failed = yield* applyCleanSlices(Company, { ...good, slices: [good.slices[0]!, bad] }).pipe(
            Effect.flip
          )
          assert.strictEqual(failed._tag, "DatabaseError")
          const industries = yield* workspaceCompanies.select(keys, `company_unique_id AS key, industry`)
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
          assert.strictEqual((yield* applyCleanSlices(Company, rest)).written.size, 2)
        })
    )

    it.effect(
      "rows read before the engine pushed them are left to the full merge: the read's older values never undo the push",
      () =>
        Effect.gen(function* () {
          const key = demoCompanyKey(50)
          const read = yield* readThenPushed(key, "(304) 555-0150", "https://pushed.example")
          const row = yield* workspaceCompanies.row(
            key,
            `xmin::text::bigint = sync_xid AND sync_base IS NULL AND NOT sync_dirty AS clean`
          )
          assert.isTrue(row?.clean)
          // the batch read before the push is written now: not over the pushed row, and not taken for in sync
          const stale = yield* applyCleanSlices(Company, read)
          assert.deepStrictEqual([...stale.written], [])
          assert.deepStrictEqual([...stale.inSync], [], "left to the full merge")
          const merged = yield* applyKeys(Company, [{ key }])
          assert.strictEqual(merged.unchanged, 1)
          // read again with nothing changed since (the echo of the push): in sync, nothing written
          const echo = yield* applyCleanSlices(Company, yield* readCleanSlices(Company, [key], new Map()))
          assert.deepStrictEqual([[...echo.written], [...echo.inSync]], [[], [key]])
          const sides = yield* Effect.all([
            neonCompanies.select([key], `website, phone`),
            workspaceCompanies.select([key], `website, phone`)
          ])
          assert.deepStrictEqual(sides, [
            [{ website: "https://pushed.example", phone: "(304) 555-0150" }],
            [{ website: "https://pushed.example", phone: "(304) 555-0150" }]
          ])
          // a batch read after the push is written as usual
          yield* neonCompanies.update(key, `phone = '(304) 555-0151', updated_at = now()`)
          const fresh = yield* readCleanSlices(Company, [key], new Map())
          assert.deepStrictEqual([...(yield* applyCleanSlices(Company, fresh)).written], [key])
        })
    )

    it.effect(
      "a row pushed after the read is not written over when its status is the same on both sides: the read's snapshot tells",
      () =>
        Effect.gen(function* () {
          const key = demoCompanyKey(51)
          // the record is complete on both sides already, so the status does not tell the push apart
          yield* neonCompanies.update(key, `enrichment_status = 'complete', updated_at = now()`)
          yield* applyKeys(Company, [{ key }])
          const read = yield* readThenPushed(key, "(304) 555-0152", "https://pushed-later.example")
          const stale = yield* applyCleanSlices(Company, read)
          assert.deepStrictEqual(
            [...stale.written],
            [],
            "the Neon version the row holds is newer than the read"
          )
          const [held] = yield* workspaceCompanies.select([key], `website, phone`)
          assert.deepStrictEqual(held, { website: "https://pushed-later.example", phone: "(304) 555-0152" })
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
        yield* neonCompanies.update(odd, `company_name = 'Odd key, renamed'`)
        const read = yield* readCleanSlices(Company, [odd], new Map([[odd, null]]))
        assert.strictEqual(read.rows, 1)
        yield* assertCleanWrites(read, odd, "company_name", "Odd key, renamed")
      })
    )

    it.effect(
      "JSON passes byte for byte (numbers of any precision, JSON null apart from SQL NULL), on the clean path and the full merge",
      () =>
        Effect.gen(function* () {
          const [clean, edited] = [demoCompanyKey(90), demoCompanyKey(91)]
          const keys = [clean, edited]
          // a person's edit, not pushed yet: the row is no longer the engine's, so its key takes the full merge,
          // which keeps the agreed record in sync_base
          yield* enterWebsite(edited, "https://wip.example", "in_progress")
          const neonWrites = (errors: string, warnings: string | null) =>
            neonCompanies.update(
              keys,
              `validation_errors = $2::jsonb, validation_warnings = $3::jsonb, updated_at = now()`,
              [errors, warnings]
            )
          const agree = Effect.gen(function* () {
            for (const key of keys) {
              const { neon, workspace } = yield* companyJsonText(key)
              assert.deepStrictEqual(workspace, neon, key)
            }
            yield* assertStoredHashesAreNeons(keys)
          })

          // the untouched row takes the one statement on COPY bytes; the edited one is left to the full merge
          const apply = Effect.gen(function* () {
            const read = yield* readCleanSlices(Company, keys, new Map())
            assert.deepStrictEqual([...(yield* applyCleanSlices(Company, read)).written], [clean])
            assert.strictEqual((yield* applyKeys(Company, [{ key: edited }])).updated, 1)
          })

          yield* neonWrites(exactJson, "null")
          yield* apply
          yield* agree
          assert.deepStrictEqual(yield* companyJsonText(clean), {
            neon: { errors: exactJson, warnings: "null" },
            workspace: { errors: exactJson, warnings: "null" }
          })
          const base = yield* workspaceCompanies.row(
            edited,
            `sync_base->'validation_errors' AS errors, (sync_base->'validation_errors')::text AS errors_text, sync_base->'validation_warnings' IS NOT NULL AS warnings_kept, md5(sync_base::text) = last_sync_hash AS agreed`
          )
          assert.deepInclude(base, { errors_text: exactJson, warnings_kept: true, agreed: true })

          // the digits alone change: a change all the same, on both paths
          const fewerDigits = exactJson.replace("2.50", "2.5")
          yield* neonWrites(fewerDigits, "null")
          yield* apply
          yield* agree
          assert.strictEqual((yield* companyJsonText(clean)).workspace?.errors, fewerDigits)

          // JSON null to SQL NULL: a change too
          yield* neonWrites(exactJson, null)
          yield* apply
          yield* agree
          assert.deepStrictEqual(yield* companyJsonText(edited), {
            neon: { errors: exactJson, warnings: null },
            workspace: { errors: exactJson, warnings: null }
          })
          // both sides agree on every record; only the person's pending edit is not synced yet
          const verified = yield* verifyEntity(Company, { buckets: 64, deep: true })
          assert.strictEqual(verified.neonChanged.count + verified.corruptBase.count, 0)
          assert.deepStrictEqual(verified.unsyncedEdits.keys, [edited])
        })
    )
  })

  layer(engineFixture({ seed: { companies: 5000, people: 0 } }))((it) => {
    it.effect(
      "takes a row's Neon version for seen as pg_visible_in_snapshot does, from the 32-bit id it keeps",
      () =>
        Effect.gen(function* () {
          const epoch = 2n ** 32n
          const cases: ReadonlyArray<{ readonly snapshot: string; readonly xmins: ReadonlyArray<bigint> }> = [
            // before xmin, in progress (1500, 1600), completed between, at or after xmax
            {
              snapshot: "1000:2000:1500,1600",
              xmins: [3n, 10n, 999n, 1000n, 1499n, 1500n, 1550n, 1600n, 1999n, 2000n, 3000n]
            },
            // in the second epoch: ids of the epoch before (near 2^32) are before xmin
            {
              snapshot: `${epoch + 100n}:${epoch + 1100n}:${epoch + 200n}`,
              xmins: [50n, 100n, 150n, 200n, 300n, 1099n, 1100n, 5000n, epoch - 6n]
            }
          ]
          const db = yield* WorkspaceDatabase
          for (const { snapshot, xmins } of cases) {
            const xmax = BigInt(snapshot.split(":")[1]!)
            // the 64-bit id nearest the snapshot's xmax, as the update works it out
            const full = xmins.map((x) => {
              const near = ((xmax >> 32n) << 32n) | x
              return near - xmax > 2n ** 31n ? near - epoch : xmax - near > 2n ** 31n ? near + epoch : near
            })
            const rows = yield* db.transaction((tx) =>
              Effect.gen(function* () {
                yield* tx.query(`SELECT set_config('${snapshotSetting}', $1, true)`, [snapshot])
                return yield* tx.query(
                  `${snapshotBoundsSql}
                 SELECT t.source_xmin::text AS x, ${mergedVisibleSql} AS visible,
                        pg_visible_in_snapshot(t.id::text::xid8, $3::pg_snapshot) AS expected
                   FROM snap, unnest($1::bigint[], $2::bigint[]) AS t(source_xmin, id)`,
                  [xmins.map(String), full.map(String), snapshot]
                )
              })
            )
            assert.strictEqual(rows.length, xmins.length)
            for (const r of rows) assert.strictEqual(r.visible, r.expected, `${r.x} in ${snapshot}`)
            assert.sameMembers(
              [...new Set(rows.map((r) => r.visible))],
              [true, false],
              "the cases cover both answers"
            )
          }
        })
    )

    it.effect("finds the staged rows in sync by their key, also on a table not analyzed yet", () =>
      Effect.gen(function* () {
        // just backfilled: the workspace table has no statistics
        yield* backfillEntity(Company)
        const db = yield* WorkspaceDatabase
        const [found, plan] = yield* db.transaction((tx) =>
          Effect.gen(function* () {
            yield* tx.query(
              `CREATE TEMPORARY TABLE enrich_sync_clean_company ON COMMIT DROP AS
                 SELECT ${projectionWorkspaceColumns(Company).join(", ")} FROM company_needs_enrichment LIMIT 500`
            )
            return [
              yield* tx.query(inSyncSql(Company)),
              yield* tx.query(`EXPLAIN (FORMAT JSON) ${inSyncSql(Company)}`)
            ] as const
          })
        )
        assert.strictEqual(found.length, 500)
        // each staged key looks its row up by the key's index: never a scan of the whole table
        const scans: Array<string> = []
        const walk = (node: Record<string, unknown>) => {
          if (node["Relation Name"] === "company_needs_enrichment") scans.push(String(node["Node Type"]))
          for (const child of (node.Plans as Array<Record<string, unknown>> | undefined) ?? []) walk(child)
        }
        walk((plan[0]!["QUERY PLAN"] as Array<{ Plan: Record<string, unknown> }>)[0]!.Plan)
        assert.deepStrictEqual(scans, ["Index Scan"])
      })
    )
  })
})
