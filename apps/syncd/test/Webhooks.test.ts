/**
 * The webhook's pieces: the backoff doubles from 1 s and is capped at 5 minutes (jittered by +-25%), the
 * signature is the body's HMAC-SHA256 under the secret, and credentials written in the URL become Basic
 * auth (fetch refuses URLs that carry them).
 */
import { createHmac } from "node:crypto"
import { assert, describe, it } from "@effect/vitest"
import { retryDelayMs, signature, target } from "../src/Webhooks.ts"

describe("webhooks", () => {
  it("back off from 1 s, doubling, capped at 5 minutes, jittered by a quarter either way", () => {
    assert.strictEqual(retryDelayMs(1, 0.5), 1000)
    assert.strictEqual(retryDelayMs(2, 0.5), 2000)
    assert.strictEqual(retryDelayMs(5, 0.5), 16_000)
    assert.strictEqual(retryDelayMs(30, 0.5), 300_000)
    assert.strictEqual(retryDelayMs(1, 0), 750)
    assert.strictEqual(retryDelayMs(1, 1), 1250)
  })

  it("sign the body with the secret", () => {
    const body = '{"events":[]}'
    assert.strictEqual(
      signature("s3", body),
      `sha256=${createHmac("sha256", "s3").update(body).digest("hex")}`
    )
  })

  it("turn credentials in the URL into Basic auth", () => {
    assert.deepStrictEqual(target("https://hooks.example/x?a=1"), {
      url: "https://hooks.example/x?a=1",
      headers: {}
    })
    const t = target("https://us%40er:p%3Ass@hooks.example/x")
    assert.strictEqual(t.url, "https://hooks.example/x")
    assert.strictEqual(t.headers.authorization, `Basic ${Buffer.from("us@er:p:ss").toString("base64")}`)
  })
})
