import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Redacted from "effect/Redacted"
import { realtimeEndpoint, resolveConfig } from "../src/SupabaseListenerConfig.ts"
import { SupabaseListenerError } from "../src/SupabaseListenerError.ts"

// a plainly fake key, built at run time
const key = `sb_secret_${"FAKE".repeat(4)}`
const tables = [{ schema: "public", name: "company_needs_enrichment", key: "company_unique_id" }]

describe("the Supabase listener's configuration", () => {
  it("derives the Realtime endpoint from the project URL", () => {
    assert.strictEqual(
      realtimeEndpoint("https://abcdefgh.supabase.co"),
      "wss://abcdefgh.supabase.co/realtime/v1"
    )
    assert.strictEqual(
      realtimeEndpoint("https://abcdefgh.supabase.co/"),
      "wss://abcdefgh.supabase.co/realtime/v1"
    )
    assert.strictEqual(realtimeEndpoint("http://127.0.0.1:54321"), "ws://127.0.0.1:54321/realtime/v1")
    assert.strictEqual(
      realtimeEndpoint(" HTTPS://Abcdefgh.Supabase.co "),
      "wss://abcdefgh.supabase.co/realtime/v1"
    )
    assert.strictEqual(realtimeEndpoint("http://[::1]:54321"), "ws://[::1]:54321/realtime/v1")
    assert.strictEqual(
      realtimeEndpoint("https://proxy.example/supabase/"),
      "wss://proxy.example/supabase/realtime/v1"
    )
  })

  it("takes nothing but an absolute http(s) URL with a host, without credentials, query or fragment", () => {
    for (const url of [
      "",
      "notaurl",
      "not a url",
      "abcdefgh.supabase.co",
      "localhost:54321",
      "ftp://x",
      "file:///etc/hosts",
      "mailto:someone@example.com",
      "postgres://postgres@db.abcdefgh.supabase.co:5432/postgres",
      "postgresql://db.abcdefgh.supabase.co:5432/postgres",
      "wss://abcdefgh.supabase.co/realtime/v1",
      "ws://127.0.0.1:4000",
      "http://",
      "https://",
      "https:abcdefgh.supabase.co",
      "http:/127.0.0.1:54321",
      "https://user:pw@abcdefgh.supabase.co",
      "https://abcdefgh.supabase.co?apikey=x",
      "https://abcdefgh.supabase.co?",
      "https://abcdefgh.supabase.co#top",
      "http://a b.example"
    ]) {
      assert.isNull(realtimeEndpoint(url), JSON.stringify(url))
    }
  })

  it("fills in the defaults", () => {
    const config = resolveConfig({ url: "https://abcdefgh.supabase.co", apiKey: Redacted.make(key), tables })
    if (config instanceof SupabaseListenerError) return assert.fail(config.message)
    assert.strictEqual(config.topic, "enrich-sync-workspace")
    assert.strictEqual(Duration.toMillis(config.reopenAfter), 1000)
    assert.strictEqual(Duration.toMillis(config.heartbeatInterval), 25_000)
    assert.isNull(config.dirtyColumn)
  })

  it("rejects what cannot work, naming it, never with the key", () => {
    const cases: ReadonlyArray<[Parameters<typeof resolveConfig>[0], RegExp]> = [
      [
        { url: `https://abcdefgh.supabase.co?apikey=${key}`, apiKey: Redacted.make(key), tables },
        /not a project URL/
      ],
      [{ url: "postgresql://x/y", apiKey: Redacted.make(key), tables }, /not a project URL/],
      [{ url: "notaurl", apiKey: Redacted.make(key), tables }, /use https:\/\/<project-ref>\.supabase\.co/],
      [{ url: "https://abcdefgh.supabase.co", apiKey: Redacted.make("  "), tables }, /API key is empty/],
      [{ url: "https://abcdefgh.supabase.co", apiKey: Redacted.make(key), tables: [] }, /at least one table/],
      [
        { url: "https://abcdefgh.supabase.co", apiKey: Redacted.make(key), tables, reopenAfter: 0 },
        /reopenAfter/
      ]
    ]
    for (const [input, message] of cases) {
      const result = resolveConfig(input)
      assert.instanceOf(result, SupabaseListenerError)
      if (!(result instanceof SupabaseListenerError)) continue
      assert.strictEqual(result.reason, "Configuration")
      assert.match(result.message, message)
      assert.notInclude(result.message, key)
    }
  })
})
