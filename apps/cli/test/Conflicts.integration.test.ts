/**
 * `enrich-sync conflicts` end to end, as a user runs it against two real servers: the issue's case (Neon
 * NULLs the status of a row complete on both sides; a backfill re-run writes `complete` back on Neon and the
 * overwritten value is listed), a city both sides changed (push: the newer workspace edit wins), the list and
 * its filters, `show`, `status`'s unreviewed count, `restore` (written back on Neon, merged into the
 * workspace, the replaced value listed as a new conflict) and its refusals, and `review` one by one and
 * `--all`. The tests of this file share one pair of databases and run in order.
 */
import { assert, describe, layer } from "@effect/vitest"
import { demoCompanyKey } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import {
  CliFixture,
  cliFixture,
  companyRow,
  demoPulled,
  onWorkspace,
  updateCompany
} from "./support/CliFixture.ts"
import { assertFailure, assertSuccess, entityColumns, parseJson } from "./support/CliResult.ts"

interface ListedConflict {
  readonly id: number
  readonly key: string
  readonly field: string
  readonly reason: string
  readonly winner: string
  readonly source: { readonly value: unknown; readonly editedAt: string | null }
  readonly workspace: { readonly value: unknown; readonly editedAt: string | null }
  readonly reviewedAt: string | null
  readonly reviewedBy: string | null
  readonly restoredAt: string | null
}

const statusKey = demoCompanyKey(30)
const cityKey = demoCompanyKey(31)

const list = (...args: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const cli = yield* CliFixture
    const result = parseJson(assertSuccess(yield* cli.run(["conflicts", ...args, "--json"])))
    return result as { total: number; unreviewed: number; conflicts: Array<ListedConflict> }
  })

const unreviewedInStatus = Effect.gen(function* () {
  const cli = yield* CliFixture
  const status = parseJson(assertSuccess(yield* cli.run(["status", "--json"])))
  return entityColumns(status, "unreviewedConflicts").flat()
})

describe("enrich-sync conflicts", () => {
  layer(cliFixture("cli_conflicts"), { timeout: 120_000 })((it) => {
    it.effect("setup: migrated, seeded, pulled; two companies complete on both sides", () =>
      Effect.gen(function* () {
        const cli = yield* demoPulled()
        yield* onWorkspace(
          `UPDATE company_needs_enrichment SET enrichment_status = 'complete', enriched_by = 'enricher@example.com'
            WHERE company_unique_id = ANY($1)`,
          [[statusKey, cityKey]]
        )
        const pushed = parseJson(assertSuccess(yield* cli.run(["push", "--json"])))
        assert.deepStrictEqual(entityColumns(pushed, "merge.pushed")[0], [2])
        const none = assertSuccess(yield* cli.run(["conflicts"]))
        assert.include(none.stdout, "No conflicts logged")
      })
    )

    it.effect(
      "Neon NULLs a complete status: the next merge writes complete back on Neon and lists the overwritten value",
      () =>
        Effect.gen(function* () {
          yield* updateCompany("neon", statusKey, "enrichment_status = NULL, updated_at = now()")
          // a backfill re-run merges the rows whose Neon version moved
          const cli = yield* CliFixture
          assertSuccess(yield* cli.run(["backfill", "--entity", "company"]))
          const neon = yield* companyRow("neon", statusKey, "enrichment_status")
          assert.strictEqual(neon?.enrichment_status, "complete")
          const listed = yield* list()
          assert.strictEqual(listed.total, 1)
          const [c] = listed.conflicts
          assert.deepStrictEqual(
            [c?.key, c?.field, c?.reason, c?.winner, c?.source.value, c?.workspace.value],
            [statusKey, "enrichment_status", "status-only-forward", "base", "pending", "complete"]
          )
          assert.isNotNull(c?.source.editedAt)
          assert.isNotNull(c?.workspace.editedAt)

          const human = assertSuccess(yield* cli.run(["conflicts"]))
          assert.include(human.stdout, "Conflicts (1 logged, 1 unreviewed)")
          assert.match(human.stdout, /enrichment_status +status-only-forward +base +Neon "pending"/)
          // `conflicts list` is the same list, for those who name it
          const named = assertSuccess(yield* cli.run(["conflicts", "list"]))
          assert.strictEqual(named.stdout, human.stdout)
          const shown = assertSuccess(yield* cli.run(["conflicts", "show", String(c?.id)]))
          assert.include(shown.stdout, `Conflict ${c?.id}: company ${statusKey}, field enrichment_status`)
          assert.include(shown.stdout, "lost (overwritten on Neon)")
          assert.include(shown.stdout, "cannot be restored")
          // the status only moves forward: a restore is refused with the way out
          const refused = yield* cli.run(["conflicts", "restore", String(c?.id)])
          assertFailure(refused, 1, "cannot be restored", `enrich-sync conflicts review ${c?.id}`)
        })
    )

    it.effect(
      "a city both sides changed: listed and filtered, counted by status, restored on Neon, the replaced value listed",
      () =>
        Effect.gen(function* () {
          const cli = yield* CliFixture
          yield* updateCompany("neon", cityKey, "city = 'Star City', updated_at = '2001-01-01'")
          yield* updateCompany("workspace", cityKey, "city = 'Westover'")
          assertSuccess(yield* cli.run(["push"]))
          const byKey = yield* list("--key", cityKey)
          assert.strictEqual(byKey.total, 1)
          const city = byKey.conflicts[0]!
          assert.deepStrictEqual(
            [city.field, city.winner, city.source.value, city.workspace.value],
            ["city", "workspace", "Star City", "Westover"]
          )
          assert.strictEqual((yield* list("--entity", "people")).total, 0)
          assert.strictEqual((yield* list("--since", "1h")).total, 2)
          assert.strictEqual((yield* list("--since", "2099-01-01")).total, 0)
          assert.deepStrictEqual(yield* unreviewedInStatus, [2, 0])
          const status = assertSuccess(yield* cli.run(["status"]))
          assert.match(status.stdout, /unreviewed +2 +0/)
          assert.include(status.stdout, "2 conflict(s) to review: enrich-sync conflicts --unreviewed")

          const restored = parseJson(
            assertSuccess(yield* cli.run(["conflicts", "restore", String(city.id), "--by", "ana", "--json"]))
          )
          const report = restored.restored as { side: string; value: string; loggedAs: number }
          assert.deepStrictEqual([report.side, report.value], ["source", "Star City"])
          const neon = yield* companyRow("neon", cityKey, "city")
          const ws = yield* companyRow("workspace", cityKey, "city")
          assert.deepStrictEqual([neon?.city, ws?.city], ["Star City", "Star City"])
          const after = yield* list("--key", cityKey)
          const original = after.conflicts.find((c) => c.id === city.id)!
          assert.isNotNull(original.restoredAt)
          assert.strictEqual(original.reviewedBy, "ana")
          const replaced = after.conflicts.find((c) => c.id === report.loggedAs)!
          assert.deepStrictEqual(
            [replaced.reason, replaced.winner, replaced.source.value, replaced.workspace.value],
            [`restored #${city.id}`, "source", "Star City", "Westover"]
          )
          // a second restore of the same conflict is refused
          assertFailure(yield* cli.run(["conflicts", "restore", String(city.id)]), 1, "was already restored")
        })
    )

    it.effect("review: one by one, then --all; status counts none left; bad arguments are usage errors", () =>
      Effect.gen(function* () {
        const cli = yield* CliFixture
        const before = yield* list("--unreviewed")
        assert.strictEqual(before.total, 2)
        const first = before.conflicts[0]!
        const one = assertSuccess(yield* cli.run(["conflicts", "review", String(first.id), "--by", "bo"]))
        assert.include(one.stdout, `Conflict ${first.id}`)
        assert.include(one.stdout, "marked reviewed by bo")
        const again = assertSuccess(yield* cli.run(["conflicts", "review", String(first.id)]))
        assert.include(again.stdout, "was already reviewed")
        const rest = parseJson(assertSuccess(yield* cli.run(["conflicts", "review", "--all", "--json"])))
        assert.strictEqual((rest.reviewed as Array<number>).length, 1)
        assert.strictEqual((yield* list("--unreviewed")).total, 0)
        assert.deepStrictEqual(yield* unreviewedInStatus, [0, 0])

        assertFailure(yield* cli.run(["conflicts", "show", "999999"]), 1, "there is no conflict 999999")
        assertFailure(yield* cli.run(["conflicts", "show", "twelve"]), 2, `"twelve" is not a conflict ID`)
        assertFailure(yield* cli.run(["conflicts", "--since", "yesterday"]), 2, "--since", "30m, 12h, 7d")
        assertFailure(yield* cli.run(["conflicts", "--key", "101"]), 2, "is not a Barton ID")
        assertFailure(yield* cli.run(["conflicts", "review"]), 2, "or --all")
        assertFailure(yield* cli.run(["conflicts", "7"]), 2, "enrich-sync conflicts show 7")
        // the commands that only read or review the log need only the workspace
        const workspaceOnly = yield* cli.run(["conflicts", "--json"], {
          env: { NEON_DATABASE_URL: undefined }
        })
        assert.strictEqual(parseJson(assertSuccess(workspaceOnly)).total, 3)
      })
    )
  })
})
