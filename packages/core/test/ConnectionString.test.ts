/**
 * Connection strings keep libpq's meaning: `sslmode` is read as psql reads it, and nothing else changes.
 */
import { assert, describe, it } from "@effect/vitest"
import { libpqConnectionString } from "../src/ConnectionString.ts"

describe("libpqConnectionString", () => {
  it("asks pg to read sslmode as libpq does", () => {
    assert.strictEqual(
      libpqConnectionString("postgresql://u:p@db.example.supabase.co:5432/postgres?sslmode=require"),
      "postgresql://u:p@db.example.supabase.co:5432/postgres?sslmode=require&uselibpqcompat=true"
    )
  })

  describe("leaves strings without sslmode, with uselibpqcompat, or not URLs, as they are", () => {
    it.each([
      "postgresql://u:p@h/db",
      "postgresql://u:p@h/db?application_name=x",
      "postgresql://u:p@h/db?sslmode=require&uselibpqcompat=false",
      "not a url"
    ])("%s", (url) => {
      assert.strictEqual(libpqConnectionString(url), url)
    })
  })
})
