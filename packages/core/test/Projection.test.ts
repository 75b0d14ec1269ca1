import { assert, describe, it } from "@effect/vitest"
import { Company } from "../src/Company.ts"
import { jsonNull, parseJsonb } from "../src/Jsonb.ts"
import { Person } from "../src/Person.ts"
import { emptyRecord, projectBase, projectSource, projectWorkspace, wireParsers } from "../src/Projection.ts"
import { canonicalRecordJson, recordJson } from "../src/SyncHash.ts"

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
    const stored = parseJsonb(canonicalRecordJson(r)) as object
    assert.deepStrictEqual(projectBase(Company, { ...stored, stray: 1 }), r)
    assert.strictEqual(projectBase(Company, null), null)
    // a base that is not a record is no base
    for (const stored of [jsonNull, [], "x", 1]) assert.strictEqual(projectBase(Company, stored), null)
  })

  it("keeps JSON as jsonb holds it: numbers exact, a JSON null apart from SQL NULL, in rows and bases", () => {
    const jsonb = wireParsers[3802]!
    const errors = '["a", {"b": [1, 2.50, 0.0000001, 12345678901234567890123]}]'
    const r = projectSource(Company, {
      ...sourceRow,
      validation_errors: jsonb(errors),
      validation_warnings: jsonb("null")
    })
    assert.strictEqual(r.validation_warnings, jsonNull)
    assert.include(recordJson(Company, r), `"validation_errors": ${errors}, `)
    assert.include(recordJson(Company, r), `"validation_warnings": null`)
    // SQL NULL leaves the field out of the record's JSON
    const withoutWarnings = projectSource(Company, { ...sourceRow, validation_warnings: null })
    assert.strictEqual(withoutWarnings.validation_warnings, null)
    assert.notInclude(recordJson(Company, withoutWarnings), "validation_warnings")
    // the stored base reads back both the same way
    for (const record of [r, withoutWarnings]) {
      const stored = jsonb(recordJson(Company, record))
      assert.deepStrictEqual(projectBase(Company, stored), record)
      assert.strictEqual(recordJson(Company, projectBase(Company, stored)!), recordJson(Company, record))
    }
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
