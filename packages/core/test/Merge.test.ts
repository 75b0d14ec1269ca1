import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import { Company } from "../src/Company.ts"
import { canMove, enrichmentStatuses } from "../src/EnrichmentStatus.ts"
import type { Entity } from "../src/Entity.ts"
import type { MergePolicy, SourceState } from "../src/Merge.ts"
import { merge } from "../src/Merge.ts"
import type { SyncRecord, SyncValue } from "../src/Projection.ts"
import { sameValue } from "../src/SyncHash.ts"
import { timestampMicros } from "../src/Timestamp.ts"
import * as Worlds from "./support/MergeWorlds.ts"

const entity: Entity = Company
const { applied, at, checkLaw, policyArb, rerunWritesNothing, side, timeArb } = Worlds
type World = Worlds.World
const shared = entity.fields.filter((f) => f.owner === "shared")
const dataFields = shared.filter((f) => f.kind !== "status")
const statusName = "enrichment_status"

const record = Worlds.guideCompany

describe("merge: the sync guide's cases", () => {
  it("a new source row is copied whole to the workspace", () => {
    const s = record()
    const result = merge(entity, null, side(s, 1), null)
    assert.deepStrictEqual(result.toWorkspace, s)
    assert.deepStrictEqual(result.newBase, s)
    assert.deepStrictEqual(result.toSource, {})
    assert.strictEqual(result.workspaceUpdatedAt, at(1))
  })

  it("an enriched, complete workspace row is pushed (the guide's manual UPDATE)", () => {
    const base = record()
    const w = record({
      website: "https://monongaliacounty.com",
      domain: "monongaliacounty.com",
      enrichment_status: "complete",
      enriched_by: "enricher@example.com",
      enriched_at: at(5)
    })
    const result = merge(entity, base, side(base, 1), side(w, 5))
    assert.deepStrictEqual(result.toSource, {
      domain: "monongaliacounty.com",
      enriched_at: at(5),
      enriched_by: "enricher@example.com",
      enrichment_status: "complete",
      website: "https://monongaliacounty.com"
    })
    assert.deepStrictEqual(result.toWorkspace, {})
    assert.deepStrictEqual(result.newBase, w)
    assert.deepStrictEqual(result.conflicts, [])
    assert.strictEqual(result.sourceUpdatedAt, at(5))
  })

  it("workspace edits stay pending until the status is complete, while source changes still flow in", () => {
    const base = record()
    const w = record({ website: "https://example.com", enrichment_status: "in_progress" })
    const s = record({ phone: "(304) 555-0101" })
    const result = merge(entity, base, side(s, 3), side(w, 2))
    assert.deepStrictEqual(result.toSource, {})
    assert.deepStrictEqual(result.toWorkspace, { phone: "(304) 555-0101" })
    assert.deepStrictEqual([...result.pending].sort(), ["enrichment_status", "website"])
    assert.strictEqual(result.newBase.website, null)
    assert.strictEqual(result.newBase.phone, "(304) 555-0101")
  })

  it("both sides change a field: the newer edit wins and the loser is logged", () => {
    const base = record({ enrichment_status: "complete" })
    const s = record({ enrichment_status: "complete", phone: "304-555-0100" })
    const w = record({ enrichment_status: "complete", phone: "304-555-0199" })
    const workspaceNewer = merge(entity, base, side(s, 1), side(w, 2))
    assert.deepStrictEqual(workspaceNewer.toSource, { phone: "304-555-0199" })
    assert.strictEqual(workspaceNewer.conflicts.length, 1)
    assert.strictEqual(workspaceNewer.conflicts[0]?.winner, "workspace")
    assert.strictEqual(workspaceNewer.conflicts[0]?.source.value, "304-555-0100")

    const sourceNewer = merge(entity, base, side(s, 3), side(w, 2))
    assert.deepStrictEqual(sourceNewer.toWorkspace, { phone: "304-555-0100" })
    assert.strictEqual(sourceNewer.conflicts[0]?.winner, "source")
    assert.strictEqual(sourceNewer.conflicts[0]?.workspace.value, "304-555-0199")
  })

  it("a tie goes to the source", () => {
    const base = record({ enrichment_status: "complete" })
    const result = merge(
      entity,
      base,
      side(record({ ...base, city: "A" }), 2),
      side(record({ ...base, city: "B" }), 2)
    )
    assert.strictEqual(result.newBase.city, "A")
    assert.strictEqual(result.conflicts[0]?.winner, "source")
  })

  it("the source's edit time is its commit time when updated_at was not bumped", () => {
    const base = record({ enrichment_status: "complete" })
    const s: SourceState = { record: record({ ...base, city: "Neon" }), editedAt: at(1), committedAt: at(9) }
    const result = merge(entity, base, s, side(record({ ...base, city: "Workspace" }), 5))
    assert.strictEqual(result.newBase.city, "Neon")
    assert.strictEqual(result.conflicts[0]?.source.editedAt, at(9))
  })

  it("edit times are compared by instant, whatever form they are written in", () => {
    const base = record({ enrichment_status: "complete" })
    const s = record({ ...base, city: "Neon" })
    const w = record({ ...base, city: "Workspace" })
    // the same instant as at(2), not in the exact canonical form: a tie, which goes to the source
    const tie = merge(entity, base, side(s, 2), { record: w, editedAt: "2025-11-07T16:32:02.000" })
    assert.strictEqual(tie.newBase.city, "Neon")
    // the workspace keeps its own text for the same instant
    assert.strictEqual(tie.workspaceUpdatedAt, "2025-11-07T16:32:02.000")
    const later = merge(entity, base, side(s, 2), { record: w, editedAt: "2025-11-07T16:32:02.001" })
    assert.strictEqual(later.newBase.city, "Workspace")
    assert.strictEqual(later.sourceUpdatedAt, "2025-11-07T16:32:02.001")
    const never = merge(entity, base, side(s, 2), { record: w, editedAt: "infinity" })
    assert.strictEqual(never.newBase.city, "Workspace")
  })

  it("an edit time that is not a timestamp is a defect, even when no field needs it", () => {
    const base = record()
    assert.throws(() => merge(entity, base, side(base, 1), { record: base, editedAt: "next tuesday" }))
    assert.throws(() =>
      merge(entity, base, { record: base, editedAt: at(1), committedAt: "soon" }, side(base, 1))
    )
  })

  it("a stale pending never overwrites complete, whatever the times", () => {
    const base = record({ enrichment_status: "in_progress" })
    const s = record({ enrichment_status: "pending" })
    const w = record({ enrichment_status: "complete" })
    const result = merge(entity, base, side(s, 9), side(w, 1))
    assert.strictEqual(result.newBase.enrichment_status, "complete")
    assert.deepStrictEqual(result.toSource, { enrichment_status: "complete" })
    assert.strictEqual(result.conflicts[0]?.reason, "status-only-forward")
  })

  it("a workspace edit of a source-owned field is replaced by the source's value and logged", () => {
    const base = record()
    const w = record({ reason_code: "FIXED" })
    const result = merge(entity, base, side(base, 1), side(w, 2))
    assert.deepStrictEqual(result.toWorkspace, { reason_code: "EMPTY_WEBSITE" })
    assert.strictEqual(result.conflicts[0]?.reason, "source-owned")
  })

  it("without a base (rows pulled before this project) every difference is decided by time and logged", () => {
    const s = record({ website: "https://a.example" })
    const w = record({ website: "https://b.example" })
    const result = merge(entity, null, side(s, 1), side(w, 2))
    assert.strictEqual(result.conflicts.length, 1)
    assert.strictEqual(result.conflicts[0]?.winner, "workspace")
    assert.deepStrictEqual(result.pending, ["website"])
  })
})

// ---------------------------------------------------------------------------------------------------------
// Property tests over random records

const valuesFor = (kind: string): fc.Arbitrary<SyncValue> => {
  switch (kind) {
    case "status":
      return fc.constantFrom<SyncValue>(...enrichmentStatuses, "on_hold")
    case "integer":
      return fc.constantFrom<SyncValue>(null, 0, 7, 250)
    case "timestamp":
      return fc.constantFrom<SyncValue>(null, at(1), at(2))
    case "json":
      return fc.constantFrom<SyncValue>(null, {}, { website: "empty or blank" }, { phone: "bad", zip: "bad" })
    default:
      return fc.constantFrom<SyncValue>(null, "a", "b", "Zoë 🚀")
  }
}

const recordArb: fc.Arbitrary<SyncRecord> = fc.record(
  Object.fromEntries(entity.fields.map((f) => [f.name, valuesFor(f.kind)])) as Record<
    string,
    fc.Arbitrary<SyncValue>
  >
)

/** A record derived from `from` with some fields changed (an edit). */
const editOf = (from: fc.Arbitrary<SyncRecord>, fields = entity.fields) =>
  from.chain((r) =>
    fc
      .record(
        Object.fromEntries(fields.map((f) => [f.name, fc.option(valuesFor(f.kind), { nil: undefined })]))
      )
      .map((changes) => {
        const out: Record<string, SyncValue> = { ...r }
        for (const [k, v] of Object.entries(changes)) if (v !== undefined) out[k] = v as SyncValue
        return out as SyncRecord
      })
  )

const worldArb: fc.Arbitrary<World> = fc
  .record({
    base: fc.option(recordArb, { nil: null }),
    s: recordArb,
    w: recordArb,
    st: timeArb,
    wt: timeArb,
    ct: timeArb
  })
  .chain(({ base, s, w, st, wt, ct }) =>
    // most of the time the sides are edits of a common base (the realistic case)
    fc.boolean().chain((related) =>
      related && base !== null
        ? fc.record({ s2: editOf(fc.constant(base)), w2: editOf(fc.constant(base)) }).map(({ s2, w2 }) => ({
            base,
            source: {
              record: s2,
              editedAt: st === null ? null : at(st),
              committedAt: ct === null ? null : at(ct)
            },
            workspace: side(w2, wt)
          }))
        : fc.constant({
            base,
            source: {
              record: s,
              editedAt: st === null ? null : at(st),
              committedAt: ct === null ? null : at(ct)
            },
            workspace: side(w, wt)
          })
    )
  )

const run = (world: World, policy: MergePolicy) =>
  merge(entity, world.base, world.source, world.workspace, policy)

const terminal = (s: SyncValue) => s === "complete" || s === "failed"

describe("merge laws (fast-check)", () => {
  it("idempotent: re-merging the merged state writes nothing, so the engine's writes never echo", () => {
    checkLaw(worldArb, { numRuns: 2000 }, (world, policy) => {
      rerunWritesNothing(run, world, policy)
    })
  })

  it("convergent: every field ends equal on both sides unless it is a gated pending edit", () => {
    checkLaw(worldArb, { numRuns: 2000 }, (world, policy) => {
      const result = run(world, policy)
      const after = applied(world, result)
      for (const field of entity.fields) {
        const equal = sameValue(after.source.record[field.name], after.workspace.record[field.name])
        if (result.pending.includes(field.name)) {
          assert.strictEqual(field.owner, "shared")
          assert.isFalse(equal, `${field.name} is pending but equal on both sides`)
          assert.isTrue(sameValue(result.newBase[field.name], after.source.record[field.name]))
        } else {
          assert.isTrue(equal, `${field.name} differs after merge`)
          assert.isTrue(sameValue(result.newBase[field.name], after.source.record[field.name]))
        }
      }
    })
  })

  it("nothing lost: every overwritten edit appears in the conflicts", () => {
    checkLaw(worldArb, { numRuns: 2000 }, (world, policy) => {
      const result = run(world, policy)
      const logged = (field: string, side: "source" | "workspace") =>
        result.conflicts.some((c) => c.field === field && c.winner !== side)
      for (const [name, sideName, writes, before] of [
        ["source", "source", result.toSource, world.source.record],
        ["workspace", "workspace", result.toWorkspace, world.workspace.record]
      ] as const) {
        for (const field of Object.keys(writes)) {
          const old = before[field] ?? null
          const wasEdit = world.base === null || !sameValue(old, world.base[field] ?? null)
          if (wasEdit && !sameValue(old, writes[field])) {
            assert.isTrue(
              logged(field, sideName),
              `${name}.${field}=${JSON.stringify(old)} overwritten silently`
            )
          }
        }
      }
      // a conflict always carries both values and both times
      for (const c of result.conflicts) {
        assert.isTrue(sameValue(c.source.value, world.source.record[c.field] ?? null))
        assert.isTrue(sameValue(c.workspace.value, world.workspace.record[c.field] ?? null))
      }
    })
  })

  it("the enrichment status only moves forward (terminal statuses may only replace each other)", () => {
    checkLaw(worldArb, { numRuns: 3000 }, (world, policy) => {
      const result = run(world, policy)
      for (const [writes, before] of [
        [result.toSource, world.source.record],
        [result.toWorkspace, world.workspace.record]
      ] as const) {
        const next = writes[statusName]
        if (next === undefined) continue
        const old = before[statusName] ?? null
        assert.isTrue(
          canMove(String(old), String(next)) || (terminal(old) && terminal(next)),
          `status moved ${String(old)} -> ${String(next)}`
        )
      }
    })
  })

  it("push gating: nothing reaches the source unless the workspace row is or becomes pushable", () => {
    checkLaw(worldArb, { numRuns: 2000 }, (world, policy) => {
      const result = run(world, policy)
      const before = world.workspace.record[statusName] ?? null
      const after = { ...world.workspace.record, ...result.toWorkspace }[statusName] ?? null
      const pushable = policy.pushOn.includes(String(before)) || policy.pushOn.includes(String(after))
      if (!pushable) {
        assert.deepStrictEqual(result.toSource, {})
      } else {
        // a pushable row holds nothing back
        assert.deepStrictEqual(result.pending, [])
      }
    })
  })

  it("order independent: with concurrent edits, merging after each edit or once after both ends the same", () => {
    // Two edits made at distinct times t1 < t2, one per side. A merge may run between them (the first
    // side's event arrived before the second edit) or only after both; the final state must not depend on it.
    // The first edit leaves the status alone: a merge that shows the second editor another status is a
    // different history (push gating depends on the status the row had when it was edited), not another order.
    const scenario = fc.record({
      base: recordArb,
      sourceFirst: fc.boolean(),
      sourceBumpsUpdatedAt: fc.boolean(),
      policy: policyArb,
      seed: fc.integer()
    })
    fc.assert(
      fc.property(
        scenario.chain((sc) =>
          fc
            .record({
              sEdit: editOf(fc.constant(sc.base), sc.sourceFirst ? dataFields : shared),
              wEdit: editOf(fc.constant(sc.base), sc.sourceFirst ? shared : dataFields)
            })
            .map((edits) => ({ ...sc, ...edits }))
        ),
        ({ base, sourceFirst, sourceBumpsUpdatedAt, policy, sEdit, wEdit }) => {
          const tSource = sourceFirst ? 1 : 2
          const tWorkspace = sourceFirst ? 2 : 1
          const start: World = {
            base,
            source: { record: base, editedAt: at(0), committedAt: at(0) },
            workspace: side(base, 0)
          }
          // an edit sets the changed fields on top of whatever the side holds when it is made
          const changes = (edit: SyncRecord) =>
            Object.fromEntries(Object.entries(edit).filter(([k, v]) => !sameValue(v, base[k] ?? null)))
          const editSource = (w: World): World => ({
            ...w,
            source: {
              record: { ...w.source.record, ...changes(sEdit) },
              editedAt: sourceBumpsUpdatedAt ? at(tSource) : w.source.editedAt,
              committedAt: at(tSource)
            }
          })
          const editWorkspace = (w: World): World => ({
            ...w,
            workspace: { record: { ...w.workspace.record, ...changes(wEdit) }, editedAt: at(tWorkspace) }
          })
          const step = (w: World) => applied(w, run(w, policy))
          const firstEdit = sourceFirst ? editSource : editWorkspace
          const secondEdit = sourceFirst ? editWorkspace : editSource
          const interleaved = step(step(secondEdit(step(firstEdit(start)))))
          const together = step(step(secondEdit(firstEdit(start))))
          assert.deepStrictEqual(interleaved.source.record, together.source.record)
          assert.deepStrictEqual(interleaved.workspace.record, together.workspace.record)
          assert.deepStrictEqual(interleaved.base, together.base)
          // and both are stable
          const again = run(together, policy)
          assert.deepStrictEqual([again.toSource, again.toWorkspace], [{}, {}])
        }
      ),
      { numRuns: 3000 }
    )
  })

  it("stamps writes with the newest edit they carry, never moving a side's updated_at back", () => {
    checkLaw(worldArb, {}, (world, policy) => {
      const result = run(world, policy)
      const micros = (t: string | null | undefined) => timestampMicros(t ?? null) ?? -1n
      if (result.sourceUpdatedAt !== null) {
        assert.isTrue(micros(result.sourceUpdatedAt) >= micros(world.source.editedAt))
      }
      if (result.workspaceUpdatedAt !== null) {
        assert.isTrue(micros(result.workspaceUpdatedAt) >= micros(world.workspace.editedAt))
      }
    })
  })
})
