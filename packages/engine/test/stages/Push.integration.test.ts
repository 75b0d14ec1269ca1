import { assert, describe, layer } from "@effect/vitest"
import { Company } from "@enrich-sync/core"
import { demoCompanyKey } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import { applyKeys } from "../../src/merge/MergeApply.ts"
import { backfillEntity } from "../../src/stages/Backfill.ts"
import type { Progress } from "../../src/stages/Progress.ts"
import { heldBack, pushCandidates, pushEntity } from "../../src/stages/Push.ts"
import { verifyEntity } from "../../src/stages/Verify.ts"
import { neonCompanies, workspaceCompanies } from "../support/CompanyRows.ts"
import { companyJsonText, engineFixture, exactJson, onNeon } from "../support/EngineFixture.ts"

const [k1, k2, k3, k4] = [demoCompanyKey(50), demoCompanyKey(51), demoCompanyKey(52), demoCompanyKey(53)]

/** A person's edit of one workspace company (`set` is the SET list). */
const edit = workspaceCompanies.update

const pushLog = Effect.map(
  onNeon(`SELECT record_id FROM public.shq_validation_log WHERE action = 'push' ORDER BY record_id`),
  (rows) => rows.map((r) => String(r.record_id))
)

describe("push", () => {
  layer(engineFixture({ seed: {} }))((it) => {
    it.effect("the candidates are the pushable rows whose projection left the agreed one, in key order", () =>
      Effect.gen(function* () {
        yield* backfillEntity(Company)
        assert.deepStrictEqual(yield* pushCandidates(Company), [])
        // an enrichment, and a status that becomes complete with nothing else: both pushable
        yield* edit(k2, `website = 'https://pushed.example', enrichment_status = 'complete'`)
        yield* edit(k1, `enrichment_status = ' Complete '`)
        // an edit still in progress, and a workspace-only note: not pushable (the note is not even a change)
        yield* edit(k3, `website = 'https://draft.example', enrichment_status = 'in_progress'`)
        yield* edit(k4, `enrichment_notes = 'called'`)
        assert.deepStrictEqual(yield* pushCandidates(Company), [k1, k2].sort())
        assert.deepStrictEqual(
          yield* pushCandidates(Company, { pushOn: ["complete", "in_progress"] }),
          [k1, k2, k3].sort()
        )
      })
    )

    it.effect("of given keys, the held back ones are those whose status the policy does not push", () =>
      Effect.gen(function* () {
        // k1 ' Complete ' and k2 complete (pushable), k3 in_progress, k4 pending (untouched status)
        assert.deepStrictEqual([...(yield* heldBack(Company, [k1, k2, k3, k4]))].sort(), [k3, k4].sort())
        assert.deepStrictEqual(
          [...(yield* heldBack(Company, [k1, k3, k4], { pushOn: ["complete", "in_progress"] }))],
          [k4]
        )
        assert.strictEqual((yield* heldBack(Company, [])).size, 0)
      })
    )

    it.effect("pushes exactly the candidates, batch by batch, logs each, and has nothing left to push", () =>
      Effect.gen(function* () {
        const dry = yield* pushEntity(Company, { dryRun: true })
        assert.strictEqual(dry.candidates, 2)
        assert.deepStrictEqual(yield* pushLog, [])

        const progress: Array<Progress> = []
        const report = yield* pushEntity(Company, { batchSize: 1, onProgress: (p) => progress.push(p) })
        assert.strictEqual(report.entity, "company")
        assert.strictEqual(report.candidates, 2)
        assert.strictEqual(report.merge?.pushed, 2)
        assert.deepStrictEqual(
          progress.map((p) => [p.stage, p.entity, p.done, p.total]),
          [
            ["push", "company", 1, 2],
            ["push", "company", 2, 2]
          ]
        )
        // the duration is the Clock's: the test clock does not move by itself
        assert.strictEqual(report.durationMs, 0)
        assert.deepStrictEqual(yield* pushLog, [k1, k2].sort())
        const neon = yield* neonCompanies.row(k2, "website, enrichment_status")
        assert.deepStrictEqual(neon, { website: "https://pushed.example", enrichment_status: "complete" })

        const again = yield* pushEntity(Company)
        assert.strictEqual(again.candidates, 0)
        assert.isNull(again.merge)
        assert.deepStrictEqual(yield* pushLog, [k1, k2].sort())
        // the held edit stays where it is
        const held = yield* neonCompanies.row(k3, "website")
        assert.notStrictEqual(held?.website, "https://draft.example")
      })
    )
  })
})

describe("push keeps JSON exactly", () => {
  layer(engineFixture({ seed: { companies: 10, people: 0 } }))((it) => {
    it.effect("an edit held, then pushed with complete, over a row whose JSON a double cannot hold", () =>
      Effect.gen(function* () {
        const key = demoCompanyKey(4)
        yield* neonCompanies.update(key, "validation_errors = $2::jsonb, validation_warnings = 'null'", [
          exactJson
        ])
        yield* backfillEntity(Company)
        const exact = { errors: exactJson, warnings: "null" }
        assert.deepStrictEqual(yield* companyJsonText(key), { neon: exact, workspace: exact })

        // held (in progress): the trigger keeps the agreed record, JSON as it is
        yield* edit(key, `website = 'https://held.example', enrichment_status = 'in_progress'`)
        const base = workspaceCompanies.select(
          [key],
          `(sync_base->'validation_errors')::text AS errors, (sync_base->'validation_warnings')::text AS warnings,
           md5(sync_base::text) = last_sync_hash AS agreed`
        )
        assert.deepStrictEqual(yield* base, [{ ...exact, agreed: true }])
        // a Neon change to another field meanwhile merges against that base: no conflict, JSON untouched
        yield* neonCompanies.update(key, "phone = '(304) 555-0144'")
        const merged = yield* applyKeys(Company, [{ key }])
        assert.deepInclude(merged, { updated: 1, conflicts: 0, pushed: 0 })
        assert.deepStrictEqual(yield* companyJsonText(key), { neon: exact, workspace: exact })
        assert.deepStrictEqual(yield* base, [{ ...exact, agreed: true }])

        // complete: pushed (its compare-and-swap checks Neon's projection hash, numbers and JSON null included)
        yield* edit(key, `enrichment_status = 'complete'`)
        const report = yield* pushEntity(Company)
        assert.strictEqual(report.merge?.pushed, 1)
        assert.deepStrictEqual(report.merge?.contended, [])
        const neon = yield* neonCompanies.row(key, "website, phone, enrichment_status")
        assert.deepStrictEqual(neon, {
          website: "https://held.example",
          phone: "(304) 555-0144",
          enrichment_status: "complete"
        })
        // the re-validation's outcome replaces the JSON on Neon, and reaches the workspace byte for byte
        const after = yield* companyJsonText(key)
        assert.deepStrictEqual(after.workspace, after.neon)
        assert.isTrue((yield* verifyEntity(Company, { buckets: 16, deep: true })).inSync)
      })
    )
  })
})
