/**
 * The checks that need no server: a Neon `-pooler` URL is refused before connecting, with the direct
 * host in the message and never the password.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { directHostUrl } from "../src/Preflight.ts"
import { ensureSlot } from "../src/Slot.ts"

// a plainly fake password, built at run time
const password = `${"FAKE".repeat(2)}-pw`

describe("directHostUrl", () => {
  it("removes -pooler from the first label of a Neon host", () => {
    assert.strictEqual(
      directHostUrl(
        "postgresql://owner:pw@ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech/neondb?sslmode=require"
      ),
      "postgresql://owner:pw@ep-cool-darkness-123456.us-east-2.aws.neon.tech/neondb?sslmode=require"
    )
  })

  it("leaves direct hosts and other labels alone", () => {
    assert.isNull(
      directHostUrl("postgresql://owner:pw@ep-cool-darkness-123456.us-east-2.aws.neon.tech/neondb")
    )
    assert.isNull(directHostUrl("postgresql://owner:pw@db.example-pooler.com/neondb"))
    assert.isNull(directHostUrl("not a url"))
  })
})

describe("ensureSlot on a pooler URL", () => {
  it.effect("fails with PoolerUrl, naming the direct host, without connecting or printing the password", () =>
    Effect.gen(function* () {
      const error = yield* ensureSlot({
        // an unresolvable host: the check must come before any connection attempt
        url: Redacted.make(
          `postgresql://owner:${password}@ep-nowhere-000000-pooler.invalid/neondb?sslmode=require`
        ),
        tables: [{ schema: "marketing", name: "company_invalid", key: "company_unique_id" }]
      }).pipe(Effect.flip)
      assert.strictEqual(error.reason, "PoolerUrl")
      assert.isFalse(error.retryable)
      assert.include(error.message, "NEON_REPLICATION_URL")
      assert.include(error.message, "@ep-nowhere-000000.invalid/neondb")
      assert.notInclude(error.message, password)
    })
  )
})
