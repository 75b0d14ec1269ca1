/**
 * `enrich-sync manifest` as a user runs it: offline (no URL set: every count absent, and it says why),
 * against two real migrated databases (every table counted, connections without passwords), to standard
 * output, as one JSON object, and its errors (a URL that is set but unreachable names --no-counts; a folder
 * that does not exist).
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, layer } from "@effect/vitest"
import type { SyncManifest } from "@enrich-sync/core"
import { syncManifest } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import { CliFixture, cliFixture, demoPulled } from "./support/CliFixture.ts"
import { assertFailure, assertSuccess, parseJson } from "./support/CliResult.ts"

const offline = { NEON_DATABASE_URL: undefined, SUPABASE_DATABASE_URL: undefined }

const readManifest = (path: string) => JSON.parse(readFileSync(path, "utf8")) as SyncManifest

describe("enrich-sync manifest", () => {
  layer(cliFixture("cli_manifest"), { timeout: 120_000 })((it) => {
    it.effect("offline: core's manifest with every count absent, saying which variables are not set", () =>
      Effect.gen(function* () {
        const cli = yield* CliFixture
        const result = assertSuccess(yield* cli.run(["manifest"], { env: offline }))
        assert.include(result.stdout, "Wrote sync_manifest.json")
        assert.include(
          result.stdout,
          "record counts absent: NEON_DATABASE_URL and SUPABASE_DATABASE_URL are not set"
        )
        const written = readManifest(join(cli.cwd, "sync_manifest.json"))
        assert.deepStrictEqual(
          { ...written, generated_by: syncManifest.generated_by },
          JSON.parse(JSON.stringify(syncManifest))
        )
        assert.match(written.generated_by, /^enrich-sync \d+\.\d+\.\d+/)
        assert.isNull(written.source_tables.company_invalid?.record_count)
        assert.isNull(written.connection.neon.url)
      })
    )

    it.effect("with both databases: every table counted, the connections named without their passwords", () =>
      Effect.gen(function* () {
        const cli = yield* demoPulled("--entity", "company")
        const result = assertSuccess(yield* cli.run(["manifest", "--out", "out.json"]))
        assert.include(result.stdout, "Wrote out.json")
        assert.include(result.stdout, "(124 records)")
        assert.notInclude(result.stdout, "absent")
        const manifest = readManifest(join(cli.cwd, "out.json"))
        assert.strictEqual(manifest.source_tables.company_invalid?.record_count, 119)
        assert.strictEqual(manifest.source_tables.people_invalid?.record_count, 5)
        assert.strictEqual(manifest.target_tables.company_needs_enrichment?.record_count, 119)
        assert.strictEqual(manifest.target_tables.people_needs_enrichment?.record_count, 0)
        assert.strictEqual(manifest.total_records, 124)
        const neon = new URL(cli.neon.url)
        assert.deepInclude(manifest.connection.neon, {
          variable: "NEON_DATABASE_URL",
          host: neon.hostname,
          port: Number(neon.port),
          database: neon.pathname.slice(1)
        })
        assert.include(String(manifest.connection.supabase.url), ":***@")
        const text = readFileSync(join(cli.cwd, "out.json"), "utf8")
        for (const secret of cli.secrets) assert.notInclude(text, secret)
      })
    )

    it.effect(
      "--no-counts, --out - and --json: no database read, the manifest on stdout, one JSON object",
      () =>
        Effect.gen(function* () {
          const cli = yield* CliFixture
          const piped = assertSuccess(yield* cli.run(["manifest", "--no-counts", "--out", "-"]))
          const manifest = JSON.parse(piped.stdout) as SyncManifest
          assert.isNull(manifest.total_records)
          assert.deepStrictEqual(manifest.push_back_fields, syncManifest.push_back_fields)
          assert.include(piped.stderr, "record counts absent: --no-counts")
          const json = parseJson(assertSuccess(yield* cli.run(["manifest", "--out", "-", "--json"])))
          assert.strictEqual(json.command, "manifest")
          assert.isNull(json.out)
          assert.strictEqual((json.manifest as SyncManifest).total_records, 124)
          assert.isNull(json.countsAbsent)
        })
    )

    it.effect("a URL that is set but unreachable fails and names --no-counts; a missing folder fails", () =>
      Effect.gen(function* () {
        const cli = yield* CliFixture
        const unreachable = yield* cli.run(["manifest"], {
          env: {
            NEON_DATABASE_URL: "postgresql://nobody:pw@127.0.0.1:9/none",
            SUPABASE_DATABASE_URL: undefined
          }
        })
        assertFailure(unreachable, 1, "Neon", "--no-counts")
        const folder = yield* cli.run(["manifest", "--no-counts", "--out", "no/such/folder/m.json"])
        assertFailure(folder, 1, "cannot write the manifest to no/such/folder/m.json")
      })
    )
  })
})
