import { assert, describe, it } from "@effect/vitest"
import { makeRedactor, redactPatterns, redactUrl, urlPassword } from "../src/Redaction.ts"

// Plainly fake secrets, shaped like the real ones (a Neon password is `npg_` and letters and digits).
const neonPassword = `npg_${"FAKE".repeat(4)}`
const neonUrl = `postgresql://neondb_owner:${neonPassword}@ep-example-1.us-east-2.aws.neon.tech/neondb?sslmode=require`
// a percent-encoded password (`@` inside it), as a Supabase URL carries one
const supabasePassword = `${"FAKE".repeat(2)}%40pw`
const supabaseUrl = `postgres://postgres:${supabasePassword}@db.example.supabase.co:5432/postgres`
// a password of no particular shape
const plainPassword = ["FAKE", "plain", "pw"].join("-")

describe("redaction", () => {
  it.each([
    [neonUrl, neonPassword],
    [supabaseUrl, supabasePassword],
    [`connect failed: postgres://u:${plainPassword}@localhost:5432/x`, plainPassword],
    [
      "wss://x.supabase.co/realtime/v1/websocket?apikey=eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.sig&vsn=2.0.0",
      "eyJhbGciOi"
    ],
    ["SUPABASE_API_KEY=sb_secret_abcdefgh12345", "abcdefgh12345"],
    [`password=${plainPassword} host=localhost`, plainPassword]
  ])("hides the secret in %s", (text, secret) => {
    assert.notInclude(redactPatterns(text), secret)
  })

  it("keeps JSON text whole: a URL without a password, then an email, is not taken for a URL's credentials", () => {
    const line = JSON.stringify({
      website: "https://monongaliacounty.com",
      enriched_by: "enricher@example.com"
    })
    assert.strictEqual(redactPatterns(line), line)
    const logfmt = `website="https://monongaliacounty.com" enriched_by="enricher@example.com"`
    assert.strictEqual(redactPatterns(logfmt), logfmt)
    // and a URL with a password, in JSON, still loses it
    assert.notInclude(
      redactPatterns(JSON.stringify({ url: neonUrl, by: "enricher@example.com" })),
      neonPassword
    )
  })

  it("keeps what is not secret", () => {
    assert.strictEqual(
      redactUrl(neonUrl),
      "postgresql://neondb_owner:***@ep-example-1.us-east-2.aws.neon.tech/neondb?sslmode=require"
    )
  })

  it("scrubs configured secrets wherever they appear", () => {
    const password = urlPassword("postgres://u:plain%20word%21@h/db")
    assert.strictEqual(password, "plain word!")
    const redact = makeRedactor([password!])
    assert.strictEqual(
      redact("auth failed with plain word! and plain%20word%21"),
      "auth failed with *** and ***"
    )
  })

  it("scrubs a secret with quotes or backslashes once a log line has quoted it, as JSON or inside JSON", () => {
    const password = urlPassword(`postgresql://u:${encodeURIComponent('pa"ss\\word99')}@h/db`)!
    assert.strictEqual(password, 'pa"ss\\word99')
    const redact = makeRedactor([password])
    const message = `login failed with ${password}`
    for (const line of [
      message,
      JSON.stringify({ msg: message }),
      `level=info message=${JSON.stringify(message)}`,
      JSON.stringify({ msg: "failed", cause: JSON.stringify({ error: message }) })
    ]) {
      const out = redact(line)
      assert.include(out, "***", line)
      // the password's own characters, in whatever escaping the line gave them
      assert.notInclude(out, "word99", line)
    }
  })
})
