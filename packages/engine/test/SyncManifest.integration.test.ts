/**
 * Core's sync manifest against what the engine really does: every column it lists for a source or target
 * table exists in the migrated schema of its side with that type and nullability (and it lists every column
 * there is), its field mappings join existing columns, and its push-back fields are exactly the Neon columns
 * a real push changes when every enriched field and the re-validation outcome change.
 */
import { assert, describe, layer } from "@effect/vitest"
import type { Entity } from "@enrich-sync/core"
import { Company, entities, Person, qualified, syncManifest } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import { applyKeys } from "../src/merge/MergeApply.ts"
import { engineFixture, onNeon, onWorkspace } from "./support/EngineFixture.ts"

/** The columns of a table as `information_schema` describes them: name to type and nullability. */
const columnsOf = (side: "neon" | "supabase", fullName: string) =>
  Effect.gen(function* () {
    const sql = `SELECT column_name, data_type, is_nullable = 'YES' AS nullable FROM information_schema.columns
        WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`
    const rows =
      side === "neon" ? yield* onNeon(sql, fullName.split(".")) : yield* onWorkspace(sql, fullName.split("."))
    return new Map(
      rows.map(
        (r) => [String(r.column_name), { type: String(r.data_type), nullable: r.nullable === true }] as const
      )
    )
  })

/** Values every shared field of a record takes before (Neon) and after (the workspace's enrichment). */
const enrichment: {
  readonly [entity: string]: {
    readonly before: Record<string, unknown>
    readonly after: Record<string, unknown>
  }
} = {
  company: {
    before: {
      company_name: "Acme Old",
      domain: null,
      industry: "Mining",
      employee_count: 12,
      website: null,
      phone: "(412) 555-0100",
      address: "1 Old Road",
      city: "Pittsburgh",
      state: "PA",
      zip: "15201"
    },
    after: {
      company_name: "Acme Holdings",
      domain: "acme-holdings.com",
      industry: "Software",
      employee_count: 250,
      website: "https://acme-holdings.com",
      phone: "(304) 555-0199",
      address: "243 High Street",
      city: "Morgantown",
      state: "WV",
      zip: "26505"
    }
  },
  people: {
    before: {
      full_name: "J. Doe",
      first_name: "J.",
      last_name: "Doe",
      email: null,
      phone: "(412) 555-0100",
      title: "Clerk",
      company_name: "Acme Old",
      company_unique_id: "04.04.01.01.00101.101",
      linkedin_url: null,
      city: "Pittsburgh",
      state: "PA"
    },
    after: {
      full_name: "Jane Doe",
      first_name: "Jane",
      last_name: "Doen",
      email: "jane.doe@acme-holdings.com",
      phone: "(304) 555-0199",
      title: "County Administrator",
      company_name: "Acme Holdings",
      company_unique_id: "04.04.01.01.00102.102",
      linkedin_url: "https://www.linkedin.com/in/jane-doe-123",
      city: "Morgantown",
      state: "WV"
    }
  }
}

const setClause = (values: Record<string, unknown>, from: number) =>
  Object.keys(values)
    .map((column, i) => `${column} = $${i + from}`)
    .join(", ")

/**
 * Pushes one record whose every enriched field, enrichment column and re-validation outcome changes; returns
 * the Neon columns whose value the push changed.
 */
const columnsAPushChanges = (entity: Entity) =>
  Effect.gen(function* () {
    const { before, after } = enrichment[entity.name]!
    const [row] = yield* onNeon(
      `SELECT ${entity.key} AS key FROM ${qualified(entity.sourceTable)} ORDER BY id LIMIT 1`
    )
    const key = String(row?.key)
    // Neon's record before: known values, no enrichment, FAILED with an error and a warning
    yield* onNeon(
      `UPDATE ${qualified(entity.sourceTable)} SET ${setClause(before, 2)}, enrichment_status = NULL, enriched_by = NULL,
              enriched_at = NULL, validation_status = 'FAILED', reason_code = 'EMPTY_WEBSITE',
              validation_errors = '{"website": "empty or blank"}', validation_warnings = '{"phone": "an old warning"}',
              updated_at = '2001-01-01'
        WHERE ${entity.key} = $1`,
      [key, ...Object.values(before)]
    )
    yield* applyKeys(entity, [{ key }])
    // the enricher's edit: every shared field, marked complete (pushable)
    yield* onWorkspace(
      `UPDATE ${qualified(entity.workspaceTable)} SET ${setClause(after, 2)}, enrichment_status = 'complete',
              enriched_by = 'enricher@example.com', enriched_at = '2030-01-02 03:04:05'
        WHERE ${entity.key} = $1`,
      [key, ...Object.values(after)]
    )
    const read = Effect.map(
      onNeon(`SELECT to_jsonb(t) AS row FROM ${qualified(entity.sourceTable)} t WHERE ${entity.key} = $1`, [
        key
      ]),
      (rows) => rows[0]?.row as Record<string, unknown>
    )
    const old = yield* read
    const stats = yield* applyKeys(entity, [{ key }])
    assert.strictEqual(stats.pushed, 1)
    const now = yield* read
    assert.strictEqual(
      now.validation_status,
      "PASSED",
      `the enriched ${entity.label} passes: ${JSON.stringify(now)}`
    )
    return Object.keys(now)
      .filter((column) => JSON.stringify(now[column]) !== JSON.stringify(old[column]))
      .sort()
  })

describe("the sync manifest against the migrated schemas and a real push", () => {
  layer(engineFixture({ seed: { companies: 3, people: 3 } }))((it) => {
    it.effect("every column of every table it lists exists with its type and nullability, and no other", () =>
      Effect.gen(function* () {
        const tables = [
          ...Object.values(syncManifest.source_tables),
          ...Object.values(syncManifest.target_tables)
        ]
        assert.strictEqual(tables.length, entities.length * 2)
        for (const table of tables) {
          const actual = yield* columnsOf(table.database, table.full_name)
          assert.isAbove(actual.size, 0, `${table.full_name} exists`)
          for (const [column, field] of Object.entries(table.fields)) {
            assert.deepStrictEqual(
              actual.get(column),
              { type: field.type, nullable: field.nullable },
              `${table.full_name}.${column}`
            )
          }
          assert.deepStrictEqual(
            [...actual.keys()],
            Object.keys(table.fields),
            `${table.full_name}: every column`
          )
          assert.property(table.fields, table.unique_key)
          assert.property(table.fields, table.primary_key)
        }
        for (const entity of entities) {
          const mapping =
            syncManifest.field_mappings[`${entity.sourceTable.name}_to_${entity.workspaceTable.name}`]!
          const source = syncManifest.source_tables[entity.sourceTable.name]!
          const target = syncManifest.target_tables[entity.workspaceTable.name]!
          for (const [from, to] of Object.entries(mapping)) {
            assert.property(source.fields, from)
            assert.property(target.fields, to)
          }
        }
      })
    )

    it.effect("the push-back fields are exactly the Neon columns a push writes", () =>
      Effect.gen(function* () {
        for (const entity of [Company, Person]) {
          const changed = yield* columnsAPushChanges(entity)
          assert.deepStrictEqual(
            changed,
            [...syncManifest.push_back_fields[entity.name]!].sort(),
            entity.name
          )
        }
      })
    )
  })
})
