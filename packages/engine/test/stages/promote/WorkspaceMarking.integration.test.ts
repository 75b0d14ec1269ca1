/**
 * The workspace side of a promotion on a real workspace: which keys hold edits Neon has not received (a
 * person's edit, done or in progress; not a save that changed nothing, not a promoted row), how many rows a
 * marking would mark, and the marking itself: exactly the promoted keys' rows, kept and stamped, as the
 * engine's own write, idempotent; in slices of every n-th key (one transaction under 1,000 keys, at most
 * eight), committed in turn, so a failing slice leaves those before it marked and a second run marks the rest.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Company } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import {
  activeWorkspaceCount,
  markPromoted,
  unpushedEdits
} from "../../../src/stages/promote/WorkspaceMarking.ts"
import { engineFixture, neonKeys, onWorkspace, onWorkspaceAsEngine } from "../../support/EngineFixture.ts"

/** A Barton ID no workspace row has (the `n`-th). */
const absent = (n: number) =>
  `04.04.09.09.${String(n % 100000).padStart(5, "0")}.${String(n % 1000).padStart(3, "0")}`

/** The workspace rows of `keys`: state, stamp, edit marks and version (`xmin`), in the order of `keys`. */
const workspaceRows = (keys: ReadonlyArray<string>) =>
  Effect.map(
    onWorkspace(
      `SELECT company_unique_id AS key, sync_state, promoted_at IS NOT NULL AS stamped, sync_dirty,
              sync_base IS NOT NULL AS based, xmin::text::bigint AS version
         FROM company_needs_enrichment WHERE company_unique_id = ANY($1)`,
      [keys]
    ),
    (rows) => {
      const byKey = new Map(rows.map((r) => [String(r.key), r]))
      return keys.map((k) => byKey.get(k))
    }
  )

const states = (keys: ReadonlyArray<string>) =>
  Effect.map(workspaceRows(keys), (rows) => rows.map((r) => r?.sync_state))

/** `keys` at the positions 0, 1, ... of a list of `length` keys, the other positions keys of no row. */
const placed = (keys: ReadonlyArray<string>, length: number) =>
  Array.from({ length }, (_, i) => keys[i] ?? absent(length * 10 + i))

describe("WorkspaceMarking", () => {
  layer(engineFixture({ seed: { companies: 140, people: 0 }, merged: [Company] }))((it) => {
    /** the seeded keys, in id order: each test takes its own range */
    const keys = Effect.map(neonKeys(Company), (all) => {
      assert.strictEqual(all.length, 140)
      return all
    })

    it.effect("finds the keys holding edits Neon has not received, with their enrichment status", () =>
      Effect.gen(function* () {
        const [clean, done, going, noStatus, touched, bypassed, promoted, neverAgreed, notAsked] =
          (yield* keys).slice(0, 9) as [
            string,
            string,
            string,
            string,
            string,
            string,
            string,
            string,
            string
          ]
        const edit = (key: string, set: string) =>
          onWorkspace(`UPDATE company_needs_enrichment SET ${set} WHERE company_unique_id = $1`, [key])
        yield* edit(done, `phone = '(304) 555-0101', enrichment_status = 'complete'`)
        yield* edit(going, `industry = 'Local Government', enrichment_status = 'in_progress'`)
        yield* edit(noStatus, `city = 'Elkins', enrichment_status = NULL`)
        // a save that changed nothing: marked dirty, yet nothing to push
        yield* edit(touched, `company_name = company_name`)
        // the engine's own write, behind the trigger: no mark, not seen (see unpushedEdits)
        yield* onWorkspaceAsEngine(
          `UPDATE company_needs_enrichment SET phone = '(304) 555-0102' WHERE company_unique_id = $1`,
          [bypassed]
        )
        // edited, then promoted: syncs no more
        yield* edit(promoted, `phone = '(304) 555-0103', enrichment_status = 'complete'`)
        yield* onWorkspaceAsEngine(
          `UPDATE company_needs_enrichment SET sync_state = 'promoted' WHERE company_unique_id = $1`,
          [promoted]
        )
        // a row both sides never agreed on
        yield* onWorkspaceAsEngine(
          `UPDATE company_needs_enrichment SET last_sync_hash = NULL, sync_dirty = false WHERE company_unique_id = $1`,
          [neverAgreed]
        )
        yield* edit(notAsked, `phone = '(304) 555-0104'`)
        assert.deepStrictEqual(
          (yield* workspaceRows([clean, touched])).map((r) => [r?.sync_dirty, r?.based]),
          [
            [false, false],
            [true, true]
          ]
        )

        const held = yield* unpushedEdits(Company, [
          clean,
          done,
          going,
          noStatus,
          touched,
          bypassed,
          promoted,
          neverAgreed,
          absent(1)
        ])
        assert.deepStrictEqual(
          [...held].sort(([a], [b]) => a.localeCompare(b)),
          (
            [
              [done, "complete"],
              [going, "in_progress"],
              [noStatus, null],
              [neverAgreed, "pending"]
            ] as Array<[string, string | null]>
          ).sort(([a], [b]) => a.localeCompare(b))
        )
        assert.strictEqual((yield* unpushedEdits(Company, [])).size, 0)
      })
    )

    it.effect("counts the rows a marking marks, marks exactly those, as the engine, once", () =>
      Effect.gen(function* () {
        const all = yield* keys
        const [first, second, third, already, removed] = all.slice(10, 15) as [
          string,
          string,
          string,
          string,
          string
        ]
        const others = all.filter((k) => ![first, second, third, already, removed].includes(k))
        yield* onWorkspaceAsEngine(
          `UPDATE company_needs_enrichment SET sync_state = CASE company_unique_id WHEN $1 THEN 'promoted' ELSE 'removed' END
            WHERE company_unique_id IN ($1, $2)`,
          [already, removed]
        )
        const othersBefore = yield* workspaceRows(others)
        const asked = [first, second, third, already, removed, absent(2)]

        // what a dry run reports is what the marking marks: every row among the keys not promoted yet
        assert.strictEqual(yield* activeWorkspaceCount(Company, asked), 4)
        assert.strictEqual(yield* activeWorkspaceCount(Company, []), 0)
        assert.strictEqual(yield* markPromoted(Company, asked), 4)

        const marked = yield* workspaceRows([first, second, third, removed])
        for (const row of marked) {
          // kept, marked and stamped, and not taken for a person's edit
          assert.deepInclude(row, { sync_state: "promoted", stamped: true, sync_dirty: false, based: false })
        }
        assert.deepStrictEqual(yield* workspaceRows(others), othersBefore)
        const [count] = yield* onWorkspace(`SELECT count(*)::int AS n FROM company_needs_enrichment`)
        assert.strictEqual(count?.n, 140)

        // again: nothing left to mark, nothing written
        assert.strictEqual(yield* activeWorkspaceCount(Company, asked), 0)
        assert.strictEqual(yield* markPromoted(Company, asked), 0)
        assert.deepStrictEqual(yield* workspaceRows([first, second, third, removed]), marked)
        assert.strictEqual(yield* markPromoted(Company, []), 0)
      })
    )

    it.effect(
      "marks in slices of every n-th key, one transaction each in turn: one under 1,000 keys, at most 8",
      () =>
        Effect.gen(function* () {
          // a batch of `length` keys, its real keys at its first 24 positions, and the slices it is marked in
          const cases = [
            { length: 999, slices: 1 },
            { length: 1000, slices: 2 },
            { length: 1500, slices: 3 },
            { length: 4500, slices: 8 }
          ]
          const all = yield* keys
          for (const [i, { length, slices }] of cases.entries()) {
            const real = all.slice(20 + i * 24, 20 + (i + 1) * 24)
            assert.strictEqual(yield* markPromoted(Company, placed(real, length)), 24)
            const rows = yield* workspaceRows(real)
            assert.isTrue(rows.every((r) => r?.sync_state === "promoted"))
            // the rows a transaction wrote share its id (xmin): slice j took the keys at positions j, j + n, ...
            const versions = rows.map((r) => Number(r?.version))
            const sliceVersions = Array.from({ length: slices }, (_, j) => versions[j]!)
            for (const [position, v] of versions.entries()) {
              assert.strictEqual(v, sliceVersions[position % slices], `${length} keys: position ${position}`)
            }
            // distinct transactions, committed one after the other
            assert.strictEqual(new Set(sliceVersions).size, slices, `${length} keys`)
            assert.deepStrictEqual(
              sliceVersions,
              [...sliceVersions].sort((a, b) => a - b),
              `${length} keys`
            )
          }
        })
    )

    it.effect(
      "a slice that fails leaves the slices before it marked and the rest not; a second run marks them",
      () =>
        Effect.gen(function* () {
          const real = (yield* keys).slice(120, 132)
          // 1,500 keys: three slices; the row at position 4 (slice 1) refuses the update
          const batch = placed(real, 1500)
          yield* onWorkspace(
            `CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN
             IF NEW.company_unique_id = '${real[4]}' THEN RAISE EXCEPTION 'refused by the test'; END IF;
             RETURN NEW;
           END $$`
          )
          yield* onWorkspace(
            `CREATE TRIGGER refuse_one BEFORE UPDATE ON company_needs_enrichment FOR EACH ROW EXECUTE FUNCTION refuse_one()`
          )
          const failure = yield* Effect.flip(markPromoted(Company, batch))
          assert.strictEqual(failure._tag, "DatabaseError")
          assert.include(failure.message, "refused by the test")
          // slice 0 (positions 0, 3, 6, 9) committed; slice 1 rolled back; slice 2 never ran
          assert.deepStrictEqual(
            yield* states(real),
            real.map((_, position) => (position % 3 === 0 ? "promoted" : "active"))
          )

          yield* onWorkspace(`DROP TRIGGER refuse_one ON company_needs_enrichment`)
          assert.strictEqual(yield* markPromoted(Company, batch), 8)
          assert.deepStrictEqual(
            yield* states(real),
            real.map(() => "promoted")
          )
        })
    )
  })
})
