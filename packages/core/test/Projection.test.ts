import { assert, describe, it } from "@effect/vitest"
import { Company } from "../src/Company.ts"
import { Person } from "../src/Person.ts"
import { emptyRecord, projectBase, projectSource, projectWorkspace } from "../src/Projection.ts"

describe("projection", () => {
  const sourceRow = {
    id: 7,
    company_unique_id: " 04.04.01.01.00101.101 ",
    company_name: "\u00a0Monongalia County\t",
    domain: "",
    industry: null,
    employee_count: 120,
    website: "   ",
    phone: "(304) 555-0101",
    address: null,
    city: "Morgantown",
    state: "WV",
    zip: "26505",
    validation_status: "FAILED",
    reason_code: "EMPTY_WEBSITE",
    validation_errors: { website: "empty or blank" },
    validation_warnings: null,
    batch_id: "INTAKE-20251107-163209-b26be042",
    enrichment_status: null,
    enriched_at: null,
    enriched_by: null,
    updated_at: "2025-11-07 16:32:09"
  }

  it("projects a Neon row: trims, empty is null, a NULL status is pending, id is neon_id", () => {
    const r = projectSource(Company, sourceRow)
    assert.strictEqual(r.company_unique_id, "04.04.01.01.00101.101")
    assert.strictEqual(r.company_name, "Monongalia County")
    assert.strictEqual(r.domain, null)
    assert.strictEqual(r.website, null)
    assert.strictEqual(r.enrichment_status, "pending")
    assert.strictEqual(r.neon_id, 7)
    assert.deepStrictEqual(r.validation_errors, { website: "empty or blank" })
    assert.strictEqual(r.batch_id, "INTAKE-20251107-163209-b26be042")
    assert.deepStrictEqual(
      Object.keys(r),
      Company.fields.map((f) => f.name)
    )
  })

  it("projects the same record from the workspace row the guide's pull query makes of it", () => {
    const workspaceRow = {
      neon_id: 7,
      company_unique_id: "04.04.01.01.00101.101",
      source_batch_id: "INTAKE-20251107-163209-b26be042",
      company_name: "Monongalia County",
      domain: null,
      industry: "",
      employee_count: 120,
      website: null,
      phone: "(304) 555-0101",
      address: "",
      city: "Morgantown ",
      state: "WV",
      zip: "26505",
      original_validation_errors: { website: "empty or blank" },
      original_validation_warnings: null,
      reason_code: "EMPTY_WEBSITE",
      validation_status: "FAILED",
      enrichment_status: " Pending ",
      enriched_at: null,
      enriched_by: null,
      enrichment_notes: "ignored: workspace-only"
    }
    assert.deepStrictEqual(projectWorkspace(Company, workspaceRow), projectSource(Company, sourceRow))
  })

  it("re-reads a stored base, ignoring keys that are not fields", () => {
    const r = projectSource(Company, sourceRow)
    assert.deepStrictEqual(projectBase(Company, { ...r, stray: 1 }), r)
    assert.strictEqual(projectBase(Company, null), null)
  })

  it("covers every field of both entities from both sides", () => {
    for (const entity of [Company, Person]) {
      const source = projectSource(entity, {})
      const workspace = projectWorkspace(entity, {})
      assert.deepStrictEqual(source, workspace)
      assert.strictEqual(Object.keys(source).length, entity.fields.length)
    }
  })

  it("builds records from a fresh empty record of the entity", () => {
    const empty = emptyRecord(Company)
    assert.deepStrictEqual(
      Object.keys(empty),
      Company.fields.map((f) => f.name)
    )
    assert.isTrue(Object.values(empty).every((v) => v === null))
    empty.city = "changed"
    assert.strictEqual(emptyRecord(Company).city, null)
  })

  it("lower-cases only ASCII letters of a status (Unicode case mapping differs between JS and Postgres)", () => {
    const r = projectSource(Company, { enrichment_status: " COMPLETE İ\u00c9 " })
    assert.strictEqual(r.enrichment_status, "complete İ\u00c9")
  })
})
