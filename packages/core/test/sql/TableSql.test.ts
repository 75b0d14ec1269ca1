import { assert, describe, it } from "@effect/vitest"
import type { Column, TableName } from "../../src/Entity.ts"
import { addColumnsSql, createTableSql } from "../../src/sql/TableSql.ts"

const table: TableName = { schema: "marketing", name: "company_invalid" }

const columns: ReadonlyArray<Column> = [
  { name: "id", definition: "bigserial PRIMARY KEY", type: "bigint" },
  { name: "company_name", definition: "text", type: "text" },
  { name: "sync_hash", definition: "text", type: "text", added: true },
  { name: "sync_base", definition: "jsonb", type: "jsonb", added: true, since: 1 },
  { name: "edited_at", definition: "timestamptz NOT NULL DEFAULT now()", type: "timestamp with time zone" },
  { name: "dirty", definition: "boolean NOT NULL DEFAULT false", type: "boolean", added: true, since: 2 },
  { name: "pushed_at", definition: "timestamptz", type: "timestamp with time zone", added: true, since: 2 },
  { name: "retries", definition: "int", type: "integer", added: true, since: 3 }
]

describe("table DDL", () => {
  it("creates the table with the columns that are not added, in order, one per line", () => {
    assert.strictEqual(
      createTableSql(table, columns),
      [
        "CREATE TABLE IF NOT EXISTS marketing.company_invalid (",
        "  id bigserial PRIMARY KEY,",
        "  company_name text,",
        "  edited_at timestamptz NOT NULL DEFAULT now()",
        ")"
      ].join("\n")
    )
  })

  it("adds, by default, the added columns of migration 1 (those without `since` too), one statement each", () => {
    assert.deepStrictEqual(addColumnsSql(table, columns), [
      "ALTER TABLE marketing.company_invalid ADD COLUMN IF NOT EXISTS sync_hash text",
      "ALTER TABLE marketing.company_invalid ADD COLUMN IF NOT EXISTS sync_base jsonb"
    ])
  })

  it("adds only the columns of the migration version asked for", () => {
    assert.deepStrictEqual(addColumnsSql(table, columns, 2), [
      "ALTER TABLE marketing.company_invalid ADD COLUMN IF NOT EXISTS dirty boolean NOT NULL DEFAULT false",
      "ALTER TABLE marketing.company_invalid ADD COLUMN IF NOT EXISTS pushed_at timestamptz"
    ])
    assert.deepStrictEqual(addColumnsSql(table, columns, 3), [
      "ALTER TABLE marketing.company_invalid ADD COLUMN IF NOT EXISTS retries int"
    ])
    assert.deepStrictEqual(addColumnsSql(table, columns, 4), [])
  })

  it("never adds a column of the table's definition, whatever its `since`", () => {
    const seedOnly: ReadonlyArray<Column> = [
      { name: "id", definition: "bigint", type: "bigint" },
      { name: "zip", definition: "text", type: "text", added: false, since: 1 }
    ]
    assert.deepStrictEqual(addColumnsSql(table, seedOnly), [])
    assert.include(createTableSql(table, seedOnly), "  zip text\n)")
  })

  it("quotes a table name that is not a plain lower-case identifier", () => {
    const odd: TableName = { schema: "Marketing", name: 'company "v2"' }
    assert.strictEqual(
      createTableSql(odd, columns.slice(0, 1)),
      'CREATE TABLE IF NOT EXISTS "Marketing"."company ""v2""" (\n  id bigserial PRIMARY KEY\n)'
    )
    assert.deepStrictEqual(addColumnsSql(odd, columns.slice(2, 3)), [
      'ALTER TABLE "Marketing"."company ""v2""" ADD COLUMN IF NOT EXISTS sync_hash text'
    ])
  })
})
