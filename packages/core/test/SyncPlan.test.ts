/**
 * A plan is the merge, plus the re-validation of what a push leaves on Neon: the outcome (and the values
 * the rules derive) joins the Neon write, the new base and the workspace write, only where a side does not
 * already hold it, never over a pending workspace edit; and re-planning the written state writes nothing.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import { Company } from "../src/Company.ts"
import { enrichmentStatuses } from "../src/EnrichmentStatus.ts"
import type { Entity } from "../src/Entity.ts"
import type { MergePolicy } from "../src/Merge.ts"
import { merge } from "../src/Merge.ts"
import { Person } from "../src/Person.ts"
import type { SyncRecord, SyncValue } from "../src/Projection.ts"
import { sameValue } from "../src/SyncHash.ts"
import { planSync, revalidated, validationFields } from "../src/SyncPlan.ts"
import { validate } from "../src/validation/Validation.ts"
import * as Worlds from "./support/MergeWorlds.ts"

const entity: Entity = Company
const { applied, at, checkLaw, rerunWritesNothing, side, timeArb } = Worlds
type World = Worlds.World

const record = Worlds.guideCompany

/** What an enricher leaves in the workspace: the website found, the row marked complete. */
const enriched = (overrides: { readonly [field: string]: SyncValue } = {}): SyncRecord =>
  record({
    website: "https://monongaliacounty.com",
    domain: "monongaliacounty.com",
    enrichment_status: "complete",
    enriched_by: "enricher@example.com",
    enriched_at: at(5),
    ...overrides
  })

/** The validation fields of a record that passed with nothing to say. */
const passedFields = {
  validation_errors: {},
  validation_warnings: null,
  reason_code: "PASSED",
  validation_status: "PASSED"
}

describe("validationFields", () => {
  it("writes errors as they are, no warnings as null, and the reason code and status", () => {
    assert.deepStrictEqual(
      validationFields({
        status: "PASSED",
        errors: {},
        warnings: {},
        reasonCode: "PASSED",
        derived: { domain: "monongaliacounty.com" }
      }),
      passedFields
    )
    assert.deepStrictEqual(
      validationFields({
        status: "FAILED",
        errors: { website: "empty or blank" },
        warnings: { domain: "written with upper case: write acme.com" },
        reasonCode: "EMPTY_WEBSITE",
        derived: {}
      }),
      {
        validation_errors: { website: "empty or blank" },
        validation_warnings: { domain: "written with upper case: write acme.com" },
        reason_code: "EMPTY_WEBSITE",
        validation_status: "FAILED"
      }
    )
  })
})

describe("planSync", () => {
  it("without a push, the plan is the merge itself and validates nothing", () => {
    const base = record()
    const s = side(record({ phone: "(304) 555-0101" }), 3)
    assert.deepStrictEqual(planSync(entity, base, s, side(base, 2)), {
      ...merge(entity, base, s, side(base, 2)),
      validation: null
    })
    // a gated workspace edit is not pushed, so it is not validated either
    const inProgress = record({ website: "not a url", enrichment_status: "in_progress" })
    const gated = planSync(entity, base, side(base, 1), side(inProgress, 2))
    assert.strictEqual(gated.validation, null)
    assert.deepStrictEqual(gated.toSource, {})
    assert.deepStrictEqual([...gated.pending].sort(), ["enrichment_status", "website"])
    // a new source row is copied to the workspace as Neon holds it
    const fresh = planSync(entity, null, side(base, 1), null)
    assert.strictEqual(fresh.validation, null)
    assert.deepStrictEqual(fresh.toWorkspace, base)
  })

  it("a pushed record is re-validated: the outcome joins the Neon write, the new base and the workspace write", () => {
    const base = record()
    const w = enriched()
    const plan = planSync(entity, base, side(base, 1), side(w, 5))
    assert.deepStrictEqual(plan.validation, validate(entity, w))
    assert.strictEqual(plan.validation?.status, "PASSED")
    // validation_warnings is null on both sides already: neither is written with it
    assert.deepStrictEqual(plan.toSource, {
      website: "https://monongaliacounty.com",
      domain: "monongaliacounty.com",
      enrichment_status: "complete",
      enriched_by: "enricher@example.com",
      enriched_at: at(5),
      validation_errors: {},
      reason_code: "PASSED",
      validation_status: "PASSED"
    })
    assert.deepStrictEqual(plan.toWorkspace, {
      validation_errors: {},
      reason_code: "PASSED",
      validation_status: "PASSED"
    })
    assert.deepStrictEqual(plan.newBase, { ...w, ...passedFields })
    assert.deepStrictEqual(plan.conflicts, [])
    assert.strictEqual(plan.sourceUpdatedAt, at(5))
    // the merge alone had nothing for the workspace; the re-validation is stamped with the push's time
    assert.strictEqual(merge(entity, base, side(base, 1), side(w, 5)).workspaceUpdatedAt, null)
    assert.strictEqual(plan.workspaceUpdatedAt, at(5))
  })

  it("a domain left empty is derived from the pushed website and written on both sides", () => {
    const base = record()
    const w = enriched({ website: "https://www.monongaliacounty.com/about", domain: null })
    const plan = planSync(entity, base, side(base, 1), side(w, 5))
    assert.deepStrictEqual(plan.validation?.derived, { domain: "monongaliacounty.com" })
    assert.strictEqual(plan.toSource.domain, "monongaliacounty.com")
    assert.strictEqual(plan.toWorkspace.domain, "monongaliacounty.com")
    assert.strictEqual(plan.newBase.domain, "monongaliacounty.com")
    assert.strictEqual(plan.newBase.reason_code, "PASSED")
  })

  it("a pushed record that still fails carries its error and reason code back to the workspace", () => {
    const base = record()
    const w = enriched({ website: "monongaliacounty.com", domain: null })
    const plan = planSync(entity, base, side(base, 1), side(w, 5))
    const errors = {
      website: "not an http(s) URL (the scheme is missing): write it as https://monongaliacounty.com"
    }
    assert.deepStrictEqual(plan.validation?.errors, errors)
    assert.strictEqual(plan.validation?.reasonCode, "INVALID_WEBSITE")
    // Neon already says FAILED: only what changed is written there
    assert.deepStrictEqual(plan.toSource, {
      website: "monongaliacounty.com",
      enrichment_status: "complete",
      enriched_by: "enricher@example.com",
      enriched_at: at(5),
      validation_errors: errors,
      reason_code: "INVALID_WEBSITE"
    })
    assert.deepStrictEqual(plan.toWorkspace, { validation_errors: errors, reason_code: "INVALID_WEBSITE" })
    assert.strictEqual(plan.newBase.validation_status, "FAILED")
    assert.strictEqual(plan.newBase.domain, null, "nothing is derived from a website that is not valid")
  })

  it("warnings are written as an object, and no domain is derived from a hosting platform's page", () => {
    const base = record()
    const w = enriched({ website: "https://www.facebook.com/MonongaliaCounty", domain: null })
    const plan = planSync(entity, base, side(base, 1), side(w, 5))
    assert.strictEqual(plan.validation?.status, "PASSED")
    const warnings = plan.toSource.validation_warnings as { readonly [field: string]: string }
    assert.deepStrictEqual(Object.keys(warnings), ["website"])
    assert.match(warnings.website!, /^a facebook\.com page, not the company's own site/)
    assert.deepStrictEqual(plan.toWorkspace.validation_warnings, warnings)
    assert.deepStrictEqual(plan.newBase.validation_warnings, warnings)
    assert.isFalse("domain" in plan.toSource)
    assert.strictEqual(plan.newBase.domain, null)
  })

  it("a domain cleared in the workspace is derived again: Neon keeps its value and the workspace gets it back", () => {
    const agreed = enriched(passedFields)
    const w = { ...agreed, domain: null }
    const plan = planSync(entity, agreed, side(agreed, 1), side(w, 5))
    assert.deepStrictEqual(merge(entity, agreed, side(agreed, 1), side(w, 5)).toSource, { domain: null })
    assert.deepStrictEqual(plan.toSource, {}, "Neon already holds every value the push would write")
    assert.deepStrictEqual(plan.toWorkspace, { domain: "monongaliacounty.com" })
    assert.deepStrictEqual(plan.newBase, agreed)
    assert.strictEqual(plan.workspaceUpdatedAt, at(5))
  })

  it("a workspace that already holds the re-validated values is not written, and gets no new updated_at", () => {
    // Neon still holds the failed intake; the workspace row was enriched and shows the passing outcome
    const base = record()
    const w = enriched(passedFields)
    const mergeOnly = merge(entity, base, side(base, 1), side(w, 5))
    assert.deepStrictEqual(mergeOnly.toWorkspace, {
      validation_errors: { website: "empty or blank" },
      reason_code: "EMPTY_WEBSITE",
      validation_status: "FAILED"
    })
    assert.strictEqual(mergeOnly.workspaceUpdatedAt, at(5))
    const plan = planSync(entity, base, side(base, 1), side(w, 5))
    assert.deepStrictEqual(plan.toWorkspace, {})
    assert.strictEqual(plan.workspaceUpdatedAt, null)
    assert.deepStrictEqual(plan.newBase, w)
  })

  it("the policy decides what is pushed, and so what is re-validated", () => {
    const base = record()
    const w = enriched({ enrichment_status: "in_progress" })
    assert.strictEqual(planSync(entity, base, side(base, 1), side(w, 5)).validation, null)
    const eager = planSync(entity, base, side(base, 1), side(w, 5), { pushOn: ["in_progress", "complete"] })
    assert.strictEqual(eager.validation?.reasonCode, "PASSED")
    assert.strictEqual(eager.toSource.enrichment_status, "in_progress")
    assert.strictEqual(eager.toSource.reason_code, "PASSED")
  })

  it("re-validates a person with the person rules", () => {
    const person = (overrides: { readonly [field: string]: SyncValue }): SyncRecord => {
      const r: Record<string, SyncValue> = {}
      for (const f of Person.fields) r[f.name] = null
      return {
        ...r,
        unique_id: "04.04.02.04.20000.001",
        full_name: "Jane Doe",
        enrichment_status: "pending",
        reason_code: "EMPTY_EMAIL",
        validation_status: "FAILED",
        ...overrides
      }
    }
    const base = person({})
    const w = person({ email: "mailto:jane@monongaliacounty.com", enrichment_status: "complete" })
    const plan = planSync(Person, base, side(base, 1), side(w, 5))
    assert.strictEqual(plan.validation?.reasonCode, "INVALID_EMAIL")
    assert.strictEqual(plan.toSource.reason_code, "INVALID_EMAIL")
    assert.strictEqual(plan.toWorkspace.reason_code, "INVALID_EMAIL")
    assert.isFalse("domain" in plan.newBase)
  })
})

describe("revalidated", () => {
  it("never writes a derived value over a pending workspace edit of the field", () => {
    // Neon has a website but no domain; the enricher typed a domain but has not marked the row complete
    const base = record({ website: "https://monongaliacounty.com" })
    const w = { ...base, domain: "monongalia.example", enrichment_status: "in_progress" }
    const result = merge(entity, base, side(base, 1), side(w, 5))
    assert.deepStrictEqual([...result.pending].sort(), ["domain", "enrichment_status"])
    const plan = revalidated(entity, result, base, w)
    assert.deepStrictEqual(plan.validation?.derived, { domain: "monongaliacounty.com" })
    assert.isFalse("domain" in plan.toSource)
    assert.isFalse("domain" in plan.toWorkspace, "the enricher's pending domain is kept")
    assert.strictEqual(plan.newBase.domain, null)
    assert.strictEqual(plan.toSource.reason_code, "PASSED")
  })

  it("writes every re-validated field to a workspace that has no row yet, even those equal to Neon's", () => {
    const s = record({ website: "https://monongaliacounty.com", domain: "monongaliacounty.com" })
    const result = merge(entity, null, side(s, 1), null)
    const plan = revalidated(entity, result, s, null)
    for (const [field, value] of Object.entries(passedFields)) {
      assert.deepStrictEqual(plan.toWorkspace[field], value, field)
    }
    assert.deepStrictEqual(plan.toSource, {
      validation_errors: {},
      reason_code: "PASSED",
      validation_status: "PASSED"
    })
  })
})

// ---------------------------------------------------------------------------------------------------------
// Laws over random company records whose values make validation pass, fail, warn and derive

/** Values that pass, five times as often as values that fail or warn (so that many pushes pass). */
const mostly = (
  passing: ReadonlyArray<SyncValue>,
  others: ReadonlyArray<SyncValue>
): fc.Arbitrary<SyncValue> =>
  fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...passing) },
    { weight: 1, arbitrary: fc.constantFrom(...others) }
  )

const valuesFor = (name: string, kind: string): fc.Arbitrary<SyncValue> => {
  switch (name) {
    case "website":
      return mostly(
        ["https://monongaliacounty.com", "https://www.shop.monongaliacounty.com/about"],
        [null, "monongaliacounty.com", "https://facebook.com/monongalia", "n/a", 42]
      )
    case "domain":
      return mostly(
        [null, "monongaliacounty.com"],
        ["shop.monongaliacounty.com", "WWW.Monongaliacounty.com", "acme.com", "not a domain"]
      )
    case "company_unique_id":
      return mostly(["04.04.01.01.00101.101"], ["101"])
    case "company_name":
      return mostly(["Monongalia County Commission"], [null, "N/A"])
    case "phone":
      return mostly([null, "(304) 291-7257"], ["call us"])
    case "state":
      return mostly([null, "WV"], ["wv", "Westish"])
    case "zip":
      return mostly([null, "26505"], ["2650"])
    case "employee_count":
      return mostly([null, 0, 250], [-3, "many"])
    case "reason_code":
      return fc.constantFrom<SyncValue>(null, "PASSED", "EMPTY_WEBSITE", "INVALID_DOMAIN")
    case "validation_status":
      return fc.constantFrom<SyncValue>(null, "PASSED", "FAILED")
  }
  switch (kind) {
    case "status":
      return fc.constantFrom<SyncValue>(...enrichmentStatuses, "on_hold")
    case "integer":
      return fc.constantFrom<SyncValue>(null, 101, 102)
    case "timestamp":
      return fc.constantFrom<SyncValue>(null, at(1), at(2))
    case "json":
      return fc.constantFrom<SyncValue>(null, {}, { website: "empty or blank" }, { website: "a warning" })
    default:
      return mostly([null, "a"], ["Zoë 🚀", 7])
  }
}

const recordArb: fc.Arbitrary<SyncRecord> = fc.record(
  Object.fromEntries(entity.fields.map((f) => [f.name, valuesFor(f.name, f.kind)])) as Record<
    string,
    fc.Arbitrary<SyncValue>
  >
)

/** A record derived from `from` with some fields changed (an edit: each field changes half of the time). */
const editOf = (from: SyncRecord) =>
  fc
    .record(
      Object.fromEntries(
        entity.fields.map((f) => [f.name, fc.option(valuesFor(f.name, f.kind), { nil: undefined, freq: 2 })])
      )
    )
    .map((changes) => {
      const out: Record<string, SyncValue> = { ...from }
      for (const [k, v] of Object.entries(changes)) if (v !== undefined) out[k] = v as SyncValue
      return out as SyncRecord
    })

const worldArb: fc.Arbitrary<World> = fc
  .record({ base: fc.option(recordArb, { nil: null }), other: recordArb, st: timeArb, wt: timeArb })
  .chain(({ base, other, st, wt }) =>
    // mostly both sides are edits of the base (the realistic case); sometimes unrelated records
    fc
      .record({ s: editOf(base ?? other), w: editOf(base ?? other), unrelated: fc.boolean() })
      .map(({ s, w, unrelated }) => ({
        base,
        source: { record: unrelated ? other : s, editedAt: st === null ? null : at(st) },
        workspace: side(w, wt)
      }))
  )

const run = (world: World, policy: MergePolicy) =>
  planSync(entity, world.base, world.source, world.workspace, policy)

describe("planSync laws (fast-check)", () => {
  it("validates exactly when the merge pushes, the record Neon holds after the push", () => {
    checkLaw(worldArb, { numRuns: 1000 }, (world, policy) => {
      const result = merge(entity, world.base, world.source, world.workspace, policy)
      const plan = run(world, policy)
      if (Object.keys(result.toSource).length === 0) {
        assert.deepStrictEqual(plan, { ...result, validation: null })
      } else {
        assert.deepStrictEqual(
          plan.validation,
          validate(entity, { ...world.source.record, ...result.toSource })
        )
        assert.deepStrictEqual(plan.conflicts, result.conflicts)
        assert.deepStrictEqual(plan.pending, result.pending)
      }
    })
  })

  it("idempotent: re-planning the written state writes nothing", () => {
    checkLaw(worldArb, { numRuns: 1000 }, (world, policy) => {
      assert.strictEqual(rerunWritesNothing(run, world, policy).validation, null)
    })
  })

  it("convergent: the writes leave both sides equal to the new base, except pending workspace edits", () => {
    checkLaw(worldArb, { numRuns: 1000 }, (world, policy) => {
      const plan = run(world, policy)
      const after = applied(world, plan)
      for (const field of entity.fields) {
        const name = field.name
        assert.isTrue(
          sameValue(after.source.record[name] ?? null, plan.newBase[name] ?? null),
          `Neon ${name}`
        )
        if (!plan.pending.includes(name)) {
          assert.isTrue(sameValue(after.workspace.record[name] ?? null, plan.newBase[name] ?? null), name)
        }
      }
      // a workspace that is not written is not stamped
      if (Object.keys(plan.toWorkspace).length === 0) assert.strictEqual(plan.workspaceUpdatedAt, null)
    })
  })

  it("what a push writes on Neon is what validating the new base says", () => {
    checkLaw(worldArb, { numRuns: 1000 }, (world, policy) => {
      const plan = run(world, policy)
      if (plan.validation === null) return
      const written = validationFields(plan.validation)
      for (const [field, value] of Object.entries(written)) {
        assert.deepStrictEqual(plan.newBase[field], value, field)
      }
      assert.deepStrictEqual(validationFields(validate(entity, plan.newBase)), written)
    })
  })
})
