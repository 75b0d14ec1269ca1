import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { assert, describe, layer } from "@effect/vitest"
import { Company, Person } from "@enrich-sync/core"
import {
  demoCompanyAt,
  demoCompanyKey,
  demoPersonKey,
  seedDemoData,
  TwoDatabases
} from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { applyKeys } from "../../../src/merge/MergeApply.ts"
import { backfillEntity } from "../../../src/stages/Backfill.ts"
import { pushEntity } from "../../../src/stages/Push.ts"
import { promoteEntity } from "../../../src/stages/promote/Promote.ts"
import { markPromoted } from "../../../src/stages/promote/WorkspaceMarking.ts"
import { revalidateEntity } from "../../../src/stages/Revalidate.ts"
import { SourceDatabase, WorkspaceDatabase } from "../../../src/store/Database.ts"
import { applyMigrations } from "../../../src/store/Migrator.ts"
import {
  companyJsonText,
  engineFixture,
  exactJson,
  onNeon,
  onWorkspace
} from "../../support/EngineFixture.ts"

/** Keys of demo companies (below `count`) whose only problem is the missing website. */
const websiteOnly = (count: number): ReadonlyArray<string> =>
  Array.from({ length: count }, (_, i) => i)
    .filter((i) => {
      const row = demoCompanyAt(i)
      return (
        row.reason_code === "EMPTY_WEBSITE" &&
        Object.keys(row.validation_errors as object).join() === "website"
      )
    })
    .map(demoCompanyKey)

/** Key of the first demo company (below `count`) with a bad phone. */
const badPhone = (count: number): string =>
  demoCompanyKey(
    Array.from({ length: count }, (_, i) => i).find((i) => demoCompanyAt(i).reason_code === "INVALID_PHONE")!
  )

/** A temporary folder, removed with the scope. */
const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "enrich-sync-promote-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

/** A test body given a fresh temporary folder (for the backups), removed when the test ends. */
const withBackupDir =
  <A, E, R>(body: (dir: string) => Effect.Effect<A, E, R>) =>
  () =>
    Effect.scoped(Effect.flatMap(tempDir, body))

/** Waits (in real time: the test clock does not move by itself) until `condition` holds. */
const until = <R>(condition: Effect.Effect<boolean, unknown, R>) =>
  Effect.gen(function* () {
    for (let i = 0; i < 500; i++) {
      if (yield* Effect.orDie(condition)) return
      yield* Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 20)))
    }
    assert.fail("timed out waiting")
  })

/** The enrichment of `keys` arriving on Neon, as a push writes it. */
const enrichOnNeon = (keys: ReadonlyArray<string>) =>
  onNeon(
    `UPDATE marketing.company_invalid
        SET website = 'https://www.' || replace(company_unique_id, '.', '') || '.example.com',
            enrichment_status = 'complete', enriched_by = 'enricher@example.com', enriched_at = now()
      WHERE company_unique_id = ANY($1)`,
    [keys]
  )

const invalidKeys = (keys: ReadonlyArray<string>) =>
  Effect.map(
    onNeon(
      `SELECT company_unique_id AS k FROM marketing.company_invalid WHERE company_unique_id = ANY($1) ORDER BY 1`,
      [keys]
    ),
    (rows) => rows.map((r) => String(r.k))
  )

const masterKeys = Effect.map(
  onNeon(`SELECT company_unique_id AS k FROM marketing.company_master ORDER BY 1`),
  (rows) => rows.map((r) => String(r.k))
)

const promoteLog = Effect.map(
  onNeon(
    `SELECT record_id, details FROM public.shq_validation_log WHERE action = 'promote' ORDER BY record_id`
  ),
  (rows) => rows
)

const lines = (file: string) =>
  readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>)

describe("promote", () => {
  layer(engineFixture({ seed: {} }))((it) => {
    const [p1, p2, p3, f1, p4] = websiteOnly(119)
    const f2 = badPhone(119)

    it.effect(
      "the guide's flow: enrich, revalidate, promote to the master with backups, log and workspace marks",
      withBackupDir((dir) =>
        Effect.gen(function* () {
          yield* backfillEntity(Company)
          // the master already holds p3 (an earlier, partial promotion): it is updated, not duplicated
          yield* onNeon(
            `INSERT INTO marketing.company_master (company_unique_id, company_name) VALUES ($1, 'Stale name')`,
            [p3]
          )
          yield* enrichOnNeon([p1!, p2!, p3!])
          yield* onNeon(
            `UPDATE marketing.company_invalid SET enrichment_status = 'complete' WHERE company_unique_id = ANY($1)`,
            [[f1, f2]]
          )
          const revalidated = yield* revalidateEntity(Company, { onlyEnriched: true })
          assert.deepStrictEqual([...revalidated.passedIds].sort(), [p1!, p2!, p3!].sort())
          const rowsBefore = yield* onNeon(
            `SELECT * FROM marketing.company_invalid WHERE company_unique_id = ANY($1) ORDER BY company_unique_id`,
            [revalidated.passedIds]
          )

          const jsonBefore = yield* onNeon(
            `SELECT to_jsonb(t) AS j FROM marketing.company_invalid t WHERE company_unique_id = ANY($1)
            ORDER BY company_unique_id`,
            [revalidated.passedIds]
          )
          const report = yield* promoteEntity(Company, {
            ids: revalidated.passedIds,
            // batches of one, two at a time: the counts add up across lanes
            batchSize: 1,
            backupDir: join(dir, "nested", "backups")
          })
          assert.deepInclude(report, {
            entity: "company",
            candidates: 3,
            promoted: 3,
            updatedInMaster: 1,
            skipped: [],
            stillInvalid: 2,
            workspaceMarked: 3
          })

          // the master holds them, Barton IDs kept, each once, with the invalid row's values
          const master = yield* onNeon(
            `SELECT company_unique_id, company_name, website, domain, source_batch_id, validation_status, enriched_by
             FROM marketing.company_master ORDER BY company_unique_id`
          )
          assert.deepStrictEqual(
            master,
            rowsBefore.map((r) => ({
              company_unique_id: r.company_unique_id,
              company_name: r.company_name,
              website: r.website,
              domain: r.domain,
              source_batch_id: r.batch_id,
              validation_status: "PASSED",
              enriched_by: "enricher@example.com"
            }))
          )
          assert.notStrictEqual(master.find((r) => r.company_unique_id === p3)?.company_name, "Stale name")
          assert.deepStrictEqual(yield* invalidKeys([p1!, p2!, p3!]), [])
          const [left] = yield* onNeon(`SELECT count(*)::int AS n FROM marketing.company_invalid`)
          assert.strictEqual(left?.n, 116)

          // logged, with the backup file
          const logged = yield* promoteLog
          assert.deepStrictEqual(
            logged.map((r) => r.record_id),
            [p1!, p2!, p3!].sort()
          )
          for (const entry of logged) {
            assert.deepInclude(entry.details as object, {
              backup_file: report.backupFile,
              updated_existing: entry.record_id === p3
            })
          }

          // the backup file: every promoted row with all its columns, as JSON lines
          assert.isNotNull(report.backupFile)
          assert.strictEqual(dirname(report.backupFile!), join(dir, "nested", "backups"))
          assert.deepStrictEqual(
            lines(report.backupFile!).sort((a, b) =>
              String(a.company_unique_id).localeCompare(String(b.company_unique_id))
            ),
            jsonBefore.map((r) => r.j)
          )
          // every column, under its name
          assert.deepStrictEqual(
            Object.keys(lines(report.backupFile!)[0]!).sort(),
            Object.keys(rowsBefore[0]!).sort()
          )
          const backedUp = lines(report.backupFile!)
          assert.deepStrictEqual(
            { n: backedUp.length, with_site: backedUp.filter((r) => r.website !== null).length },
            { n: 3, with_site: 3 }
          )

          // the workspace keeps the rows, marked promoted
          const workspace = yield* onWorkspace(
            `SELECT company_unique_id, sync_state, promoted_at IS NOT NULL AS stamped FROM company_needs_enrichment
            WHERE sync_state <> 'active' ORDER BY company_unique_id`
          )
          assert.deepStrictEqual(
            workspace,
            [p1!, p2!, p3!]
              .sort()
              .map((k) => ({ company_unique_id: k, sync_state: "promoted", stamped: true }))
          )
          const [kept] = yield* onWorkspace(`SELECT count(*)::int AS n FROM company_needs_enrichment`)
          assert.strictEqual(kept?.n, 119)

          // enriched rows that still fail are flagged, nothing else
          const flagged = yield* onNeon(
            `SELECT company_unique_id AS k FROM marketing.company_invalid WHERE still_invalid ORDER BY 1`
          )
          assert.deepStrictEqual(
            flagged.map((r) => r.k),
            [f1!, f2].sort()
          )
        })
      )
    )

    it.effect(
      "keys not on Neon or not PASSED are skipped with the reason; a dry run writes nothing",
      withBackupDir((dir) =>
        Effect.gen(function* () {
          yield* enrichOnNeon([p4!])
          yield* revalidateEntity(Company, { onlyEnriched: true })
          const ids = [f1!, p1!, "04.04.01.99.99999.999", "not-an-id", p4!, p4!]
          const before = yield* onNeon(
            `SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) AS d FROM marketing.company_invalid t`
          )
          const logBefore = yield* promoteLog

          const dry = yield* promoteEntity(Company, { ids, dryRun: true, backupDir: join(dir, "dry") })
          assert.strictEqual(dry.candidates, 5)
          assert.strictEqual(dry.promoted, 1)
          assert.strictEqual(dry.workspaceMarked, 1)
          assert.strictEqual(dry.stillInvalid, 2)
          assert.isNull(dry.backupFile)
          assert.isFalse(existsSync(join(dir, "dry")))
          assert.deepStrictEqual(
            yield* onNeon(
              `SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) AS d FROM marketing.company_invalid t`
            ),
            before
          )
          assert.deepStrictEqual(yield* promoteLog, logBefore)
          assert.notInclude(yield* masterKeys, p4!)

          const reasons = (report: typeof dry) => new Map(report.skipped.map((s) => [s.key, s.reason]))
          for (const report of [dry, yield* promoteEntity(Company, { ids, backupDir: dir })]) {
            const skipped = reasons(report)
            assert.strictEqual(skipped.size, 4)
            assert.match(skipped.get(f1!)!, /validation_status is FAILED \(reason_code EMPTY_WEBSITE\)/)
            assert.match(skipped.get(p1!)!, /already in marketing\.company_master .*promoted before/)
            assert.match(skipped.get("04.04.01.99.99999.999")!, /^not in marketing\.company_invalid$/)
            assert.match(skipped.get("not-an-id")!, /not a Barton ID/)
          }
          assert.include(yield* masterKeys, p4!)
          assert.deepStrictEqual(yield* invalidKeys([f1!, p4!]), [f1!])

          // a run that promotes nothing leaves no backup file behind
          const files = readdirSync(dir).length
          const nothing = yield* promoteEntity(Company, { ids: [f1!], backupDir: dir })
          assert.deepInclude(nothing, { promoted: 0, backupFile: null })
          assert.strictEqual(readdirSync(dir).length, files)

          // people are promoted the same way, into their own master table
          const person = demoPersonKey(0)
          yield* onNeon(
            `UPDATE marketing.people_invalid SET email = 'jane.doe@example.com' WHERE unique_id = $1`,
            [person]
          )
          assert.deepStrictEqual((yield* revalidateEntity(Person)).passedIds, [person])
          const people = yield* promoteEntity(Person, { backupDir: dir })
          assert.deepInclude(people, { entity: "people", candidates: 1, promoted: 1, skipped: [] })
          assert.deepStrictEqual(
            yield* onNeon(
              `SELECT unique_id, email, source_batch_id IS NOT NULL AS batch FROM marketing.people_master`
            ),
            [{ unique_id: person, email: "jane.doe@example.com", batch: true }]
          )
        })
      )
    )

    it.effect(
      "a key whose workspace row holds edits Neon has not received is left out, with the reason, until they are pushed",
      withBackupDir((dir) =>
        Effect.gen(function* () {
          const [, , , , , edited, touched, gated] = websiteOnly(119)
          yield* enrichOnNeon([edited!, touched!])
          yield* revalidateEntity(Company, { onlyEnriched: true })
          // fixed on Neon by someone else, its enrichment not complete there
          yield* onNeon(
            `UPDATE marketing.company_invalid SET website = 'https://www.example.com', validation_status = 'PASSED'
              WHERE company_unique_id = $1`,
            [gated]
          )
          // a person's edits in the workspace (the trigger keeps the base): one completed, one still in progress,
          // and a save that changed nothing
          yield* onWorkspace(
            `UPDATE company_needs_enrichment SET phone = '(304) 555-0199', enrichment_status = 'complete'
              WHERE company_unique_id = $1`,
            [edited]
          )
          yield* onWorkspace(
            `UPDATE company_needs_enrichment SET industry = 'Local Government', enrichment_status = 'in_progress'
              WHERE company_unique_id = $1`,
            [gated]
          )
          yield* onWorkspace(
            `UPDATE company_needs_enrichment SET company_name = company_name WHERE company_unique_id = $1`,
            [touched]
          )
          // Neon's enrichment merged into the in-progress row (as syncd does): it keeps its edit, no longer dirty
          yield* applyKeys(Company, [{ key: gated! }])
          assert.deepStrictEqual(
            yield* onWorkspace(
              `SELECT sync_dirty, sync_base IS NOT NULL AS based, industry, website IS NOT NULL AS merged
                 FROM company_needs_enrichment WHERE company_unique_id = $1`,
              [gated]
            ),
            [{ sync_dirty: false, based: true, industry: "Local Government", merged: true }]
          )
          const ids = [edited!, touched!, gated!]
          const dry = yield* promoteEntity(Company, { ids, dryRun: true, backupDir: dir })
          const report = yield* promoteEntity(Company, { ids, backupDir: dir })
          for (const r of [dry, report]) {
            assert.deepInclude(r, { candidates: 3, promoted: 1, workspaceMarked: 1 })
            const skipped = new Map(r.skipped.map((s) => [s.key, s.reason]))
            assert.deepStrictEqual([...skipped.keys()].sort(), [edited!, gated!].sort())
            assert.isTrue(r.skipped.every((s) => s.unpushedEdits === true))
            assert.match(
              skipped.get(edited!)!,
              /edits not yet pushed to Neon \(enrichment_status "complete"\).*push them/
            )
            assert.match(
              skipped.get(gated!)!,
              /edits not yet pushed to Neon \(enrichment_status "in_progress"\)/
            )
          }
          // left where they were: on Neon's invalid table, active in the workspace with their edits
          assert.deepStrictEqual(yield* invalidKeys(ids), [edited!, gated!].sort())
          assert.deepStrictEqual(
            yield* onWorkspace(
              `SELECT company_unique_id AS k, sync_state, phone = '(304) 555-0199' AS edited
                 FROM company_needs_enrichment WHERE company_unique_id = ANY($1) ORDER BY 1`,
              [ids]
            ),
            ids
              .map((k) => ({ k, sync_state: k === touched ? "promoted" : "active", edited: k === edited }))
              .sort((a, b) => (a.k < b.k ? -1 : 1))
          )

          // pushed (and re-validated on Neon), the completed edit is promoted with its value
          yield* pushEntity(Company)
          const after = yield* promoteEntity(Company, { ids: [edited!], backupDir: dir })
          assert.deepInclude(after, { promoted: 1, skipped: [] })
          assert.deepStrictEqual(
            yield* onNeon(`SELECT phone FROM marketing.company_master WHERE company_unique_id = $1`, [
              edited
            ]),
            [{ phone: "(304) 555-0199" }]
          )

          // a workspace that cannot answer the check: the batch is rolled back, nothing of it written
          const [, , , , , , , , next] = websiteOnly(119)
          yield* enrichOnNeon([next!])
          yield* revalidateEntity(Company, { onlyEnriched: true })
          yield* onWorkspace(
            "ALTER FUNCTION enrich_sync.company_workspace_hash(public.company_needs_enrichment) RENAME TO moved_hash"
          )
          const failed = yield* Effect.flip(promoteEntity(Company, { ids: [next!], backupDir: dir }))
          yield* onWorkspace(
            "ALTER FUNCTION enrich_sync.moved_hash(public.company_needs_enrichment) RENAME TO company_workspace_hash"
          )
          assert.match(
            failed.message,
            /promoting a batch of 1 company rows .* rolled back \(nothing of it was written or deleted\): reading the workspace for company edits not yet pushed failed: /
          )
          assert.deepStrictEqual(yield* invalidKeys([next!]), [next!])
          assert.notInclude(yield* masterKeys, next!)
        })
      )
    )
  })

  layer(engineFixture({ seed: { companies: 1200, people: 0 } }))((it) => {
    it.effect(
      "without ids: every PASSED row promoted, exactly the enriched FAILED rows flagged, every workspace row marked (in slices)",
      withBackupDir((dir) =>
        Effect.gen(function* () {
          yield* backfillEntity(Company)
          // 1,100 PASSED rows: one batch, marked in the workspace in two slices of every other key
          yield* onNeon(`UPDATE marketing.company_invalid SET validation_status = 'PASSED' WHERE id <= 1100`)
          const passed = (yield* onNeon(
            `SELECT company_unique_id AS k FROM marketing.company_invalid WHERE id <= 1100 ORDER BY 1`
          )).map((r) => String(r.k))
          // FAILED rows after enrichment, in the spellings a person types; 'incomplete' passes the cheap
          // ILIKE but not the canonical test; one row is flagged already
          const failedKeys = (yield* onNeon(
            `SELECT company_unique_id AS k FROM marketing.company_invalid WHERE id > 1100 ORDER BY id LIMIT 5`
          )).map((r) => String(r.k))
          const [done, shouting, spaced, incomplete, flaggedBefore] = failedKeys
          yield* onNeon(
            `UPDATE marketing.company_invalid AS t
                SET enrichment_status = v.status, validation_status = 'FAILED', still_invalid = v.flagged
               FROM (VALUES ($1, 'complete', false), ($2, 'COMPLETE', false), ($3, '  Complete ', false),
                            ($4, 'incomplete', false), ($5, 'complete', true)) AS v(key, status, flagged)
              WHERE t.company_unique_id = v.key`,
            [done, shouting, spaced, incomplete, flaggedBefore]
          )
          const flagged = Effect.map(
            onNeon(
              `SELECT company_unique_id AS k FROM marketing.company_invalid WHERE still_invalid ORDER BY 1`
            ),
            (rows) => rows.map((r) => String(r.k))
          )

          const dry = yield* promoteEntity(Company, { dryRun: true, backupDir: dir })
          assert.deepInclude(dry, {
            candidates: 1100,
            promoted: 1100,
            stillInvalid: 4,
            workspaceMarked: 1100,
            backupFile: null
          })
          assert.deepStrictEqual(yield* flagged, [flaggedBefore!])

          const report = yield* promoteEntity(Company, { backupDir: dir })
          assert.deepInclude(report, {
            candidates: 1100,
            promoted: 1100,
            updatedInMaster: 0,
            skipped: [],
            stillInvalid: 4,
            workspaceMarked: 1100
          })
          assert.deepStrictEqual(yield* flagged, [done!, shouting!, spaced!, flaggedBefore!].sort())
          assert.deepStrictEqual(yield* masterKeys, passed)
          assert.strictEqual(lines(report.backupFile!).length, 1100)

          // every promoted row is marked, once, and kept; no other row is
          const workspace = yield* onWorkspace(
            `SELECT count(*) FILTER (WHERE sync_state = 'promoted' AND promoted_at IS NOT NULL)::int AS promoted,
                    count(*) FILTER (WHERE sync_state = 'active')::int AS active,
                    count(*) FILTER (WHERE sync_state = 'promoted' AND NOT (company_unique_id = ANY($1)))::int AS wrong
               FROM company_needs_enrichment`,
            [passed]
          )
          assert.deepStrictEqual(workspace, [{ promoted: 1100, active: 100, wrong: 0 }])
          // marking again marks nothing (slices of keys already promoted, or not in the workspace)
          assert.strictEqual(yield* markPromoted(Company, [...passed, "04.04.01.99.99999.999"]), 0)
        })
      )
    )
  })

  layer(engineFixture({ migrate: false }))((it) => {
    it.effect(
      "fills an existing master table with more columns and no unique key, by column name",
      withBackupDir((dir) =>
        Effect.gen(function* () {
          // the master table exists before enrich-sync is installed
          yield* onNeon(`CREATE SCHEMA marketing`)
          yield* onNeon(
            `CREATE TABLE marketing.company_master (
             id BIGSERIAL PRIMARY KEY, company_unique_id TEXT NOT NULL, company_name TEXT, website TEXT, domain TEXT,
             source_batch_id TEXT, revenue NUMERIC, slot_count INT DEFAULT 0, listed_on DATE DEFAULT current_date)`
          )
          yield* applyMigrations(yield* SourceDatabase)
          yield* applyMigrations(yield* WorkspaceDatabase)
          const dbs = yield* TwoDatabases
          yield* Effect.promise(() => seedDemoData(dbs.neon.url, { companies: 12, people: 0 }))

          const [q1, q2] = websiteOnly(12)
          yield* onNeon(
            `INSERT INTO marketing.company_master (company_unique_id, company_name, revenue, slot_count) VALUES ($1, 'Old', 1250000, 7)`,
            [q1]
          )
          yield* enrichOnNeon([q1!, q2!])
          yield* revalidateEntity(Company)
          const batches = new Map(
            (yield* onNeon(`SELECT company_unique_id AS k, batch_id FROM marketing.company_invalid`)).map(
              (r) => [r.k, r.batch_id]
            )
          )
          const report = yield* promoteEntity(Company, { batchSize: 1, backupDir: dir })
          assert.deepInclude(report, {
            candidates: 2,
            promoted: 2,
            updatedInMaster: 1,
            skipped: [],
            workspaceMarked: 0
          })
          assert.strictEqual(lines(report.backupFile!).length, 2)

          const master = yield* onNeon(
            `SELECT company_unique_id, company_name IS DISTINCT FROM 'Old' AS renamed, website, domain, source_batch_id,
                  revenue::text AS revenue, slot_count, listed_on IS NOT NULL AS listed
             FROM marketing.company_master ORDER BY company_unique_id`
          )
          const site = (key: string) => `https://www.${key.replaceAll(".", "")}.example.com`
          const domain = (key: string) => `${key.replaceAll(".", "")}.example.com`
          assert.deepStrictEqual(master, [
            {
              company_unique_id: q1,
              renamed: true,
              website: site(q1!),
              domain: domain(q1!),
              source_batch_id: batches.get(q1),
              revenue: "1250000",
              slot_count: 7,
              listed: true
            },
            {
              company_unique_id: q2,
              renamed: true,
              website: site(q2!),
              domain: domain(q2!),
              source_batch_id: batches.get(q2),
              revenue: null,
              slot_count: 0,
              listed: true
            }
          ])
          assert.deepStrictEqual(yield* invalidKeys([q1!, q2!]), [])
        })
      )
    )
  })

  layer(engineFixture({ seed: { companies: 20, people: 0 } }))((it) => {
    it.effect(
      "a batch the master rejects rolls back entirely; a backup that cannot be written promotes nothing",
      withBackupDir((dir) =>
        Effect.gen(function* () {
          const [r1, r2, r3] = websiteOnly(20)
          yield* enrichOnNeon([r1!, r2!, r3!])
          yield* onNeon(
            `UPDATE marketing.company_invalid SET company_name = 'Reject Holdings' WHERE company_unique_id = $1`,
            [r2]
          )
          yield* revalidateEntity(Company)
          yield* onNeon(
            `ALTER TABLE marketing.company_master ADD CONSTRAINT no_rejects CHECK (company_name NOT LIKE 'Reject%')`
          )

          // the backup folder cannot be made (a file is in the way)
          writeFileSync(join(dir, "in-the-way"), "")
          const blocked = join(dir, "in-the-way", "backups")
          const backupError = yield* Effect.flip(promoteEntity(Company, { backupDir: blocked }))
          assert.strictEqual(backupError._tag, "BackupError")
          assert.include(backupError.message, blocked)
          assert.match(backupError.message, /permissions.*disk space/)
          assert.deepStrictEqual(yield* invalidKeys([r1!, r2!, r3!]), [r1!, r2!, r3!])
          assert.deepStrictEqual(yield* masterKeys, [])

          // batches of one, one at a time: r1 commits, r2 breaks the CHECK and rolls back, r3 is never reached
          const backups = join(dir, "backups")
          const failure = yield* Effect.flip(
            promoteEntity(Company, { batchSize: 1, concurrency: 1, backupDir: backups })
          )
          assert.strictEqual(failure._tag, "DatabaseError")
          assert.include(failure.message, "no_rejects")
          assert.include(failure.message, "rolled back (nothing of it was written or deleted)")
          assert.include(failure.message, "1 rows promoted by other batches stay promoted")
          assert.deepStrictEqual(yield* masterKeys, [r1!])
          assert.deepStrictEqual(yield* invalidKeys([r1!, r2!, r3!]), [r2!, r3!])
          assert.deepStrictEqual(
            (yield* promoteLog).map((r) => r.record_id),
            [r1!]
          )
          // the rolled-back batch never reached the backup file
          const [file] = readdirSync(backups)
          assert.deepStrictEqual(
            lines(join(backups, file!)).map((r) => r.company_unique_id),
            [r1!]
          )

          // two batches at once: r3's lane waits for a lock while r2's fails; r2's row never reaches the file,
          // r3's line arrives once its lock is granted
          const concurrent = join(dir, "concurrent")
          const db = yield* SourceDatabase
          const other = yield* db.session
          yield* other.query("BEGIN")
          yield* other.query(
            `SELECT 1 FROM marketing.company_invalid WHERE company_unique_id = $1 FOR UPDATE`,
            [r3]
          )
          const [holder] = yield* other.query("SELECT pg_backend_pid() AS pid")
          const run = yield* Effect.forkChild(
            Effect.flip(promoteEntity(Company, { batchSize: 1, concurrency: 2, backupDir: concurrent }))
          )
          // r2's lane is done (its transaction rolled back) while r3's waits for the lock
          yield* until(
            Effect.map(
              onNeon(
                `SELECT count(*) FILTER (WHERE wait_event_type = 'Lock')::int AS waiting,
                      count(*) FILTER (WHERE wait_event_type IS DISTINCT FROM 'Lock')::int AS busy
                 FROM pg_stat_activity
                WHERE datname = current_database() AND pid NOT IN (pg_backend_pid(), $1)
                  AND state IN ('active', 'idle in transaction')`,
                [holder?.pid]
              ),
              ([r]) => r?.waiting === 1 && r?.busy === 0
            )
          )
          assert.deepStrictEqual(
            lines(join(concurrent, readdirSync(concurrent)[0]!)).map((r) => r.company_unique_id),
            []
          )
          yield* other.query("COMMIT")
          const concurrentFailure = yield* Fiber.join(run)
          assert.include(concurrentFailure.message, "no_rejects")
          assert.include(concurrentFailure.message, "1 rows promoted by other batches stay promoted")
          assert.deepStrictEqual(yield* masterKeys, [r1!, r3!])
          assert.deepStrictEqual(yield* invalidKeys([r1!, r2!, r3!]), [r2!])
          assert.deepStrictEqual(
            lines(join(concurrent, readdirSync(concurrent)[0]!)).map((r) => r.company_unique_id),
            [r3!]
          )

          // fixed, a re-run continues with what is left
          yield* onNeon(`ALTER TABLE marketing.company_master DROP CONSTRAINT no_rejects`)
          const rerun = yield* promoteEntity(Company, { batchSize: 1, backupDir: backups })
          assert.strictEqual(rerun.promoted, 1)
          assert.deepStrictEqual(yield* masterKeys, [r1!, r2!, r3!])
          assert.deepStrictEqual(yield* invalidKeys([r1!, r2!, r3!]), [])
          assert.strictEqual(readdirSync(backups).length, 2)
          assert.deepStrictEqual(
            lines(rerun.backupFile!).map((r) => r.company_unique_id),
            [r2!]
          )
        })
      )
    )
  })
})

describe("promote keeps JSON exactly", () => {
  layer(engineFixture({ seed: { companies: 10, people: 0 } }))((it) => {
    it.effect(
      "numbers a double cannot hold and a JSON null reach the master table, its backup and log as they are",
      withBackupDir((dir) =>
        Effect.gen(function* () {
          const [k1, k2] = [demoCompanyKey(5), demoCompanyKey(6)]
          yield* backfillEntity(Company)
          for (const [key, warnings] of [
            [k1, exactJson],
            [k2, "null"]
          ] as const) {
            yield* onNeon(
              `UPDATE marketing.company_invalid
                SET validation_status = 'PASSED', reason_code = 'PASSED', validation_errors = $2::jsonb,
                    validation_warnings = $3::jsonb
              WHERE company_unique_id = $1`,
              [key, '{"checked": [1.0, 100000000000000000000000000001]}', warnings]
            )
          }
          yield* applyKeys(Company, [{ key: k1 }, { key: k2 }])
          const expected = (warnings: string) => {
            const side = { errors: '{"checked": [1.0, 100000000000000000000000000001]}', warnings }
            return { neon: side, workspace: side }
          }
          assert.deepStrictEqual(yield* companyJsonText(k1), expected(exactJson))
          assert.deepStrictEqual(yield* companyJsonText(k2), expected("null"))

          const report = yield* promoteEntity(Company, { ids: [k1, k2], backupDir: dir })
          assert.strictEqual(report.promoted, 2)
          const master = yield* onNeon(
            `SELECT company_unique_id AS key, validation_warnings::text AS warnings
             FROM marketing.company_master ORDER BY company_unique_id`
          )
          assert.deepStrictEqual(master, [
            { key: k1, warnings: exactJson },
            { key: k2, warnings: "null" }
          ])
          const logged = yield* onNeon(
            `SELECT validation_errors::text AS errors FROM public.shq_validation_log WHERE action = 'promote'`
          )
          assert.deepStrictEqual(
            logged.map((r) => r.errors),
            [
              '{"checked": [1.0, 100000000000000000000000000001]}',
              '{"checked": [1.0, 100000000000000000000000000001]}'
            ]
          )
          // the backup holds each row as Postgres wrote it: its numbers too
          const backup = readFileSync(report.backupFile!, "utf8")
          assert.include(backup, `"validation_warnings":${exactJson}`)
          assert.include(backup, `"validation_warnings":null`)
          // the workspace keeps its rows, marked promoted, JSON as it was
          const kept = yield* onWorkspace(
            `SELECT sync_state FROM company_needs_enrichment WHERE company_unique_id = ANY($1)`,
            [[k1, k2]]
          )
          assert.deepStrictEqual(
            kept.map((r) => r.sync_state),
            ["promoted", "promoted"]
          )
          assert.deepStrictEqual((yield* companyJsonText(k1)).workspace, expected(exactJson).workspace)
          assert.deepStrictEqual((yield* companyJsonText(k2)).workspace, expected("null").workspace)
        })
      )
    )
  })
})
