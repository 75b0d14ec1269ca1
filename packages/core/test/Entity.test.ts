import { assert, describe, it } from "@effect/vitest"
import * as Schema from "effect/Schema"
import { Company, CompanyInvalidRow, CompanyMasterRow, CompanyWorkspaceRow } from "../src/Company.ts"
import { column, columns, type Entity, typedColumn } from "../src/Entity.ts"
import { Person, PersonInvalidRow, PersonMasterRow, PersonWorkspaceRow } from "../src/Person.ts"

const fieldNames = (schema: { readonly fields: object }) => Object.keys(schema.fields).sort()

describe("entities", () => {
  const cases: ReadonlyArray<
    readonly [Entity, { readonly fields: object }, { readonly fields: object }, { readonly fields: object }]
  > = [
    [Company, CompanyInvalidRow, CompanyWorkspaceRow, CompanyMasterRow],
    [Person, PersonInvalidRow, PersonWorkspaceRow, PersonMasterRow]
  ]
  for (const [entity, invalid, workspace, master] of cases) {
    it(`${entity.name}: the row schemas have exactly the columns of the tables`, () => {
      assert.deepStrictEqual(fieldNames(invalid), entity.sourceColumns.map((c) => c.name).sort())
      assert.deepStrictEqual(fieldNames(workspace), entity.workspaceColumns.map((c) => c.name).sort())
      assert.deepStrictEqual(fieldNames(master), entity.masterColumns.map((c) => c.name).sort())
    })

    it(`${entity.name}: every sync field maps to a column on each side, in canonical order, the key included`, () => {
      const names = entity.fields.map((f) => f.name)
      assert.include(names, entity.key)
      const sorted = [...names].sort((a, b) => a.length - b.length || (a < b ? -1 : 1))
      assert.deepStrictEqual(names, sorted)
      assert.strictEqual(new Set(entity.fields.map((f) => f.workspace)).size, names.length)
    })
  }

  it("decodes a demo-shaped workspace row", () => {
    const row = {
      id: 1,
      neon_id: 7,
      company_unique_id: "04.04.01.01.00101.101",
      source_batch_id: null,
      company_name: "Monongalia County Commission",
      domain: null,
      industry: null,
      employee_count: 12,
      website: null,
      phone: null,
      address: null,
      city: "Morgantown",
      state: "WV",
      zip: "26505",
      original_validation_errors: { website: "empty or blank" },
      original_validation_warnings: null,
      reason_code: "EMPTY_WEBSITE",
      enrichment_status: "pending",
      enrichment_notes: null,
      enriched_by: null,
      enriched_at: null,
      pulled_from_neon_at: "2025-11-07 16:32:09.123456",
      pushed_to_neon_at: null,
      last_sync_hash: "d41d8cd98f00b204e9800998ecf8427e",
      created_at: "2025-11-07 16:32:09",
      updated_at: "2025-11-07 16:32:09",
      sync_base: {},
      validation_status: "FAILED",
      sync_state: "active",
      sync_dirty: false,
      source_xmin: 812,
      promoted_at: null,
      removed_at: null,
      sync_xid: 7741
    }
    assert.deepStrictEqual(Schema.decodeUnknownSync(CompanyWorkspaceRow)(row) as unknown, row)
    assert.throws(() => Schema.decodeUnknownSync(CompanyWorkspaceRow)({ ...row, sync_state: "deleted" }))
  })
})

describe("columns", () => {
  it("keeps the order written and reads each type as format_type reports it from the definition", () => {
    const declared = columns({
      id: "BIGSERIAL PRIMARY KEY",
      status: "TEXT NOT NULL DEFAULT 'active'",
      seen_at: "TIMESTAMP DEFAULT now()",
      reviewed_at: "TIMESTAMPTZ",
      body: "JSONB",
      dirty: "BOOLEAN NOT NULL DEFAULT true",
      xmin: "BIGINT",
      count: "INTEGER",
      push_id: "UUID PRIMARY KEY"
    })
    assert.deepStrictEqual(
      declared.map((c) => [c.name, c.type]),
      [
        ["id", "bigint"],
        ["status", "text"],
        ["seen_at", "timestamp without time zone"],
        ["reviewed_at", "timestamp with time zone"],
        ["body", "jsonb"],
        ["dirty", "boolean"],
        ["xmin", "bigint"],
        ["count", "integer"],
        ["push_id", "uuid"]
      ]
    )
  })

  it("column is one of columns; typedColumn, kept for 0.1.0's callers, takes the type as given", () => {
    assert.deepStrictEqual(column("zip", "TEXT NOT NULL"), {
      name: "zip",
      definition: "TEXT NOT NULL",
      type: "text"
    })
    assert.deepStrictEqual(typedColumn("neon_id", "BIGINT", "bigint"), {
      name: "neon_id",
      definition: "BIGINT",
      type: "bigint"
    })
  })

  it("marks added columns with the migration that adds them, leaving the first migration implied", () => {
    assert.deepStrictEqual(columns({ a: "TEXT" }), [{ name: "a", definition: "TEXT", type: "text" }])
    assert.deepStrictEqual(columns({ a: "TEXT" }, { since: 1 }), [
      { name: "a", definition: "TEXT", type: "text", added: true }
    ])
    assert.deepStrictEqual(columns({ a: "JSONB NOT NULL" }, { since: 3 }), [
      { name: "a", definition: "JSONB NOT NULL", type: "jsonb", added: true, since: 3 }
    ])
  })
})
