/**
 * The worlds the merge's and the plan's property tests run in: a base and both sides' records with their
 * edit times (seconds of one minute), the merge policies to try, a world with a merge's writes applied, and
 * the check of a law in such worlds.
 */
import { assert } from "@effect/vitest"
import * as fc from "fast-check"
import { Company } from "../../src/Company.ts"
import { enrichmentStatuses } from "../../src/EnrichmentStatus.ts"
import type { MergePolicy, MergeResult, SideState, SourceState } from "../../src/Merge.ts"
import type { SyncRecord, SyncValue } from "../../src/Projection.ts"

/** The sync guide's company as it lands in the invalid table: no website, so it failed validation. */
export const guideCompany = (overrides: { readonly [field: string]: SyncValue } = {}): SyncRecord => {
  const r: Record<string, SyncValue> = {}
  for (const f of Company.fields) r[f.name] = null
  r.company_unique_id = "04.04.01.01.00101.101"
  r.company_name = "Monongalia County Commission"
  r.enrichment_status = "pending"
  r.neon_id = 101
  r.reason_code = "EMPTY_WEBSITE"
  r.validation_errors = { website: "empty or blank" }
  r.validation_status = "FAILED"
  return { ...r, ...overrides }
}

/** Second `second` of one minute, as the canonical timestamp text. */
export const at = (second: number) => `2025-11-07T16:32:${String(second).padStart(2, "0")}.000000Z`

/** A side holding `r`, edited at `second` (never, when null). */
export const side = (r: SyncRecord, second: number | null): SideState => ({
  record: r,
  editedAt: second === null ? null : at(second)
})

/** The base and both sides of one key. */
export interface World {
  readonly base: SyncRecord | null
  readonly source: SourceState
  readonly workspace: SideState
}

/** An edit time: one of six seconds, or none. */
export const timeArb = fc.option(fc.integer({ min: 0, max: 5 }), { nil: null })

/** The default policy, or any set of statuses that push (an unknown one among them). */
export const policyArb: fc.Arbitrary<MergePolicy> = fc.oneof(
  fc.constant({ pushOn: ["complete"] }),
  fc.subarray([...enrichmentStatuses, "on_hold"]).map((pushOn) => ({ pushOn }))
)

/**
 * Checks `law` in worlds drawn from `worlds`, each under a policy drawn from `policyArb` (`parameters`:
 * fast-check's, `{}` for its defaults).
 */
export const checkLaw = (
  worlds: fc.Arbitrary<World>,
  parameters: fc.Parameters<[World, MergePolicy]>,
  law: (world: World, policy: MergePolicy) => void
): void => fc.assert(fc.property(worlds, policyArb, law), parameters)

/** The world after a merge's (or a plan's) writes are applied. */
export const applied = (world: World, result: MergeResult): World => ({
  base: result.newBase,
  source: {
    record: { ...world.source.record, ...result.toSource },
    editedAt: result.sourceUpdatedAt ?? world.source.editedAt,
    committedAt: world.source.committedAt ?? null
  },
  workspace: {
    record: { ...world.workspace.record, ...result.toWorkspace },
    editedAt: result.workspaceUpdatedAt ?? world.workspace.editedAt
  }
})

/**
 * The idempotence law of a merge (or a plan): run again on the world its own writes left, it writes
 * nothing, logs no conflict and keeps the base, so the engine's writes never echo. Returns the second run.
 */
export const rerunWritesNothing = <R extends MergeResult>(
  run: (world: World, policy: MergePolicy) => R,
  world: World,
  policy: MergePolicy
): R => {
  const first = run(world, policy)
  const second = run(applied(world, first), policy)
  assert.deepStrictEqual(second.toSource, {})
  assert.deepStrictEqual(second.toWorkspace, {})
  assert.deepStrictEqual(second.conflicts, [])
  assert.deepStrictEqual(second.newBase, first.newBase)
  return second
}
