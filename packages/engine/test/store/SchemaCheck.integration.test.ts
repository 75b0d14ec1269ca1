import { assert, describe, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { SourceDatabase, WorkspaceDatabase } from "../../src/store/Database.ts"
import { requireSchema, requireSchemas, schemaProblems } from "../../src/store/SchemaCheck.ts"
import { engineFixture, onNeon, onWorkspace } from "../support/EngineFixture.ts"

describe("the schema check", () => {
  layer(engineFixture())((it) => {
    it.effect("passes migrated sides, and names every difference with its fix", () =>
      Effect.gen(function* () {
        const source = yield* SourceDatabase
        const workspace = yield* WorkspaceDatabase
        assert.deepStrictEqual(yield* schemaProblems(source), [])
        yield* requireSchema(workspace)

        // a master table needs only its key, whatever else it has
        yield* onNeon(`ALTER TABLE marketing.company_master ADD COLUMN notes TEXT, DROP COLUMN industry`)
        assert.deepStrictEqual(yield* schemaProblems(source), [])

        yield* onNeon(`ALTER TABLE marketing.company_invalid ALTER COLUMN zip TYPE varchar(10)`)
        yield* onNeon(`DROP FUNCTION enrich_sync.people_source_hash`)
        assert.deepStrictEqual(yield* schemaProblems(source), [
          "marketing.company_invalid.zip is character varying(10), expected text",
          "function enrich_sync.people_source_hash is missing"
        ])
        const failure = yield* Effect.flip(requireSchema(source))
        assert.strictEqual(failure.reason, "Schema")
        assert.include(failure.message, "Neon is not ready for enrich-sync")
        assert.include(failure.message, "run `enrich-sync migrate` to create what is missing")
        assert.include(failure.message, "migrate never changes existing columns")

        yield* onWorkspace(`ALTER TABLE public.people_needs_enrichment DROP COLUMN sync_dirty CASCADE`)
        assert.deepStrictEqual(yield* schemaProblems(workspace), [
          "public.people_needs_enrichment.sync_dirty is missing (expected boolean)"
        ])

        // both sides at once: the differences of each under its name, then each fix once, in that order
        const both = yield* Effect.flip(requireSchemas)
        assert.deepInclude(both, { side: "source", reason: "Schema" })
        assert.strictEqual(
          both.message,
          "Neon is not ready for enrich-sync: marketing.company_invalid.zip is character varying(10), expected text; function enrich_sync.people_source_hash is missing; " +
            "the workspace (Supabase) is not ready for enrich-sync: public.people_needs_enrichment.sync_dirty is missing (expected boolean); " +
            "run `enrich-sync migrate` to create what is missing; then change the mistyped columns to the expected types (ALTER TABLE ... ALTER COLUMN ... TYPE ...): migrate never changes existing columns"
        )
      })
    )
  })
})
