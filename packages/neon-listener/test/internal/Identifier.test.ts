/**
 * Identifiers go into DDL double-quoted with their quotes doubled, so a configured name is taken literally
 * (case, dots, spaces, quotes) and can never end the identifier early; a table is `"schema"."name"`.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import { qualified, quote } from "../../src/internal/Identifier.ts"

/** Reads one quoted identifier back as Postgres does, or null when `sql` is not exactly one. */
const unquote = (sql: string): string | null => {
  const match = /^"((?:[^"]|"")*)"$/.exec(sql)
  return match === null ? null : match[1]!.replaceAll('""', '"')
}

describe("quote", () => {
  it("double-quotes a name, keeping its case and characters", () => {
    assert.strictEqual(quote("company_invalid"), '"company_invalid"')
    assert.strictEqual(quote("enrich_sync"), '"enrich_sync"')
    assert.strictEqual(quote("Enrich Sync"), '"Enrich Sync"')
    assert.strictEqual(quote("neondb_owner"), '"neondb_owner"')
    assert.strictEqual(quote("my.publication"), '"my.publication"')
    assert.strictEqual(quote("zoë"), '"zoë"')
    assert.strictEqual(quote(""), '""')
  })

  it("doubles every quote inside the name, so the name cannot end the identifier", () => {
    assert.strictEqual(quote('a"b'), '"a""b"')
    assert.strictEqual(quote('"'), '""""')
    assert.strictEqual(quote('""x""'), '"""""x"""""')
    assert.strictEqual(
      quote('pub"; DROP TABLE marketing.company_invalid; --'),
      '"pub""; DROP TABLE marketing.company_invalid; --"'
    )
  })

  it("property: any name reads back as itself, as one identifier", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('"', "a", "Z", ".", " ", ";", "é", "'") }), (name) => {
        assert.strictEqual(unquote(quote(name)), name)
      }),
      { numRuns: 1000 }
    )
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (name) => {
        assert.strictEqual(unquote(quote(name)), name)
      }),
      { numRuns: 300 }
    )
  })
})

describe("qualified", () => {
  it("writes a table as its quoted schema, a dot, and its quoted name", () => {
    assert.strictEqual(
      qualified({ schema: "marketing", name: "company_invalid" }),
      '"marketing"."company_invalid"'
    )
    assert.strictEqual(
      qualified({ schema: "public", name: "Company Needs Enrichment" }),
      '"public"."Company Needs Enrichment"'
    )
    // a dot inside a name belongs to the name
    assert.strictEqual(qualified({ schema: "a.b", name: "c" }), '"a.b"."c"')
    assert.strictEqual(qualified({ schema: 'we"ird', name: 't"' }), '"we""ird"."t"""')
  })

  it("property: splits back into the same schema and name", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('"', "a", ".", " ") }),
        fc.string({ unit: fc.constantFrom('"', "b", ".", " ") }),
        (schema, name) => {
          const sql = qualified({ schema, name })
          const match = /^("(?:[^"]|"")*")\.("(?:[^"]|"")*")$/.exec(sql)
          assert.isNotNull(match, sql)
          assert.strictEqual(unquote(match![1]!), schema)
          assert.strictEqual(unquote(match![2]!), name)
        }
      ),
      { numRuns: 1000 }
    )
  })
})
