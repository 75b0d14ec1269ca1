/**
 * The configuration's defaults, and the clear errors for values that cannot work.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Redacted from "effect/Redacted"
import { defaults, resolveConfig } from "../src/NeonListenerConfig.ts"
import { NeonListenerError } from "../src/NeonListenerError.ts"

// a plainly fake password, built at run time
const password = `${"FAKE".repeat(2)}-pw`
const url = Redacted.make(
  `postgresql://owner:${password}@ep-cool-123.us-east-2.aws.neon.tech/neondb?sslmode=require`
)
const tables = [{ schema: "marketing", name: "company_invalid", key: "company_unique_id" }]

describe("resolveConfig", () => {
  it("fills in the defaults", () => {
    const config = resolveConfig({ url, tables })
    assert.notInstanceOf(config, NeonListenerError)
    if (config instanceof NeonListenerError) return
    assert.strictEqual(config.slot, "enrich_sync")
    assert.strictEqual(config.publication, "enrich_sync_source")
    assert.strictEqual(config.maxChunkChanges, 5000)
    assert.strictEqual(Duration.toMillis(config.heartbeatInterval), 10_000)
    assert.strictEqual(Duration.toMillis(config.reconnectBase), 100)
    assert.strictEqual(Duration.toMillis(config.reconnectCap), 30_000)
    assert.strictEqual(config.bufferChunks, defaults.bufferChunks)
  })

  it("takes durations in any Duration form", () => {
    const config = resolveConfig({ url, tables, heartbeatInterval: "250 millis", slotBusyTimeout: 1500 })
    if (config instanceof NeonListenerError) return assert.fail(config.message)
    assert.strictEqual(Duration.toMillis(config.heartbeatInterval), 250)
    assert.strictEqual(Duration.toMillis(config.slotBusyTimeout), 1500)
  })

  it("rejects what cannot work, naming it, without the password", () => {
    const cases: ReadonlyArray<[Parameters<typeof resolveConfig>[0], RegExp]> = [
      [{ url, tables, slot: "Enrich-Sync" }, /slot name "Enrich-Sync" is not valid/],
      [{ url, tables, publication: "a;drop" }, /publication name/],
      [{ url, tables: [] }, /at least one table/],
      [{ url: Redacted.make(`not a url ${password}`), tables }, /not a valid postgresql:\/\/ URL/],
      [{ url, tables, maxChunkChanges: 0 }, /maxChunkChanges/],
      [{ url, tables, bufferChunks: 1.5 }, /bufferChunks/],
      [{ url, tables, heartbeatInterval: 0 }, /heartbeatInterval must be a positive duration/]
    ]
    for (const [input, message] of cases) {
      const result = resolveConfig(input)
      assert.instanceOf(result, NeonListenerError)
      if (!(result instanceof NeonListenerError)) continue
      assert.strictEqual(result.reason, "Configuration")
      assert.isFalse(result.retryable)
      assert.match(result.message, message)
      assert.notInclude(result.message, password)
    }
  })
})
