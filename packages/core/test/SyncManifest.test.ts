/**
 * The sync manifest in the quick reference's shape: the tables of both sides with typed fields and keys,
 * the field mapping of each pair, the push-back fields, the rules, the stages, the statuses; record counts
 * and connections only when a program adds them, never a password; the same object every time.
 */
import { assert, describe, it } from "@effect/vitest"
import { Company } from "../src/Company.ts"
import { enrichmentStatuses } from "../src/EnrichmentStatus.ts"
import { Person } from "../src/Person.ts"
import { buildSyncManifest, pushBackColumns, syncManifest } from "../src/SyncManifest.ts"
import { validationRules } from "../src/validation/index.ts"

describe("the sync manifest", () => {
  it("has the quick reference's keys and the tables of both sides, typed and keyed", () => {
    assert.deepStrictEqual(Object.keys(syncManifest.source_tables), ["company_invalid", "people_invalid"])
    assert.deepStrictEqual(Object.keys(syncManifest.target_tables), [
      "company_needs_enrichment",
      "people_needs_enrichment"
    ])
    const companies = syncManifest.source_tables.company_invalid!
    assert.strictEqual(companies.full_name, "marketing.company_invalid")
    assert.strictEqual(companies.unique_key, "company_unique_id")
    assert.strictEqual(companies.primary_key, "id")
    assert.isNull(companies.record_count)
    assert.deepStrictEqual(companies.fields.website, {
      type: "text",
      nullable: true,
      default: null,
      definition: "TEXT",
      added_by_enrich_sync: false
    })
    assert.deepInclude(companies.fields.validation_status!, { type: "text", default: "'FAILED'" })
    assert.deepInclude(companies.fields.company_unique_id!, { nullable: false })
    assert.deepInclude(companies.fields.enrichment_status!, { added_by_enrich_sync: true })
    assert.deepStrictEqual(
      Object.keys(syncManifest.target_tables.people_needs_enrichment!.fields),
      Person.workspaceColumns.map((c) => c.name)
    )
    assert.strictEqual(syncManifest.target_tables.company_needs_enrichment!.fields.sync_base?.type, "jsonb")
    assert.isNull(syncManifest.total_records)
  })

  it("maps each Neon column of the sync record to its workspace column, as the guide's pull query does", () => {
    const mapping = syncManifest.field_mappings.company_invalid_to_company_needs_enrichment!
    assert.strictEqual(mapping.id, "neon_id")
    assert.strictEqual(mapping.batch_id, "source_batch_id")
    assert.strictEqual(mapping.validation_errors, "original_validation_errors")
    assert.strictEqual(mapping.validation_warnings, "original_validation_warnings")
    assert.strictEqual(mapping.website, "website")
    assert.strictEqual(Object.keys(mapping).length, Company.fields.length)
    assert.isDefined(syncManifest.field_mappings.people_invalid_to_people_needs_enrichment)
  })

  it("lists the push-back fields, the rules, the stages and the statuses", () => {
    const company = syncManifest.push_back_fields.company!
    for (const field of ["website", "phone", "industry", "employee_count", "domain", "enrichment_status"])
      assert.include(company, field)
    for (const field of [
      "validation_errors",
      "validation_warnings",
      "enriched_by",
      "enriched_at",
      "updated_at"
    ])
      assert.include(company, field)
    for (const field of ["id", "company_unique_id", "batch_id", "created_at", "still_invalid"])
      assert.notInclude(company, field)
    assert.deepStrictEqual(syncManifest.push_back_fields.people, pushBackColumns(Person))
    assert.deepStrictEqual(syncManifest.validation_rules.company, validationRules(Company))
    assert.deepStrictEqual(
      syncManifest.workflow_stages.map((s) => s.name),
      ["pull", "enrich", "push", "revalidate", "promote"]
    )
    assert.deepStrictEqual(syncManifest.enrichment_status.values, enrichmentStatuses)
    assert.deepStrictEqual(syncManifest.enrichment_status.push_on, ["complete"])
    assert.deepStrictEqual(syncManifest.enrichment_status.transitions.complete, [])
  })

  it("carries what a program counted and its connections, never a password", () => {
    // plainly fake passwords, built at run time
    const neonPassword = ["FAKE", "neon", "pw"].join("-")
    const supabasePassword = ["FAKE", "supabase", "pw"].join("-")
    const manifest = buildSyncManifest({
      counts: {
        "marketing.company_invalid": 119,
        "marketing.people_invalid": 5,
        "public.company_needs_enrichment": 119
      },
      neonUrl: `postgresql://neondb_owner:${neonPassword}@ep-cool-1.us-east-2.aws.neon.tech/neondb?sslmode=require`,
      supabaseUrl: `postgresql://postgres:${supabasePassword}@db.example.supabase.co:5432/postgres`,
      generatedBy: "enrich-sync 0.1.0"
    })
    assert.strictEqual(manifest.source_tables.company_invalid?.record_count, 119)
    assert.strictEqual(manifest.target_tables.company_needs_enrichment?.record_count, 119)
    assert.isNull(manifest.target_tables.people_needs_enrichment?.record_count)
    assert.strictEqual(manifest.total_records, 124)
    assert.deepInclude(manifest.connection.neon, {
      variable: "NEON_DATABASE_URL",
      host: "ep-cool-1.us-east-2.aws.neon.tech",
      port: 5432,
      database: "neondb",
      user: "neondb_owner"
    })
    assert.strictEqual(
      manifest.connection.supabase.url,
      "postgresql://postgres:***@db.example.supabase.co:5432/postgres"
    )
    const text = JSON.stringify(manifest)
    assert.notInclude(text, neonPassword)
    assert.notInclude(text, supabasePassword)
    assert.strictEqual(manifest.generated_by, "enrich-sync 0.1.0")
  })

  it("is the same object every time (nothing from a clock or the environment)", () => {
    assert.strictEqual(JSON.stringify(buildSyncManifest()), JSON.stringify(syncManifest))
    assert.deepStrictEqual(syncManifest.connection.neon.url, null)
  })
})
