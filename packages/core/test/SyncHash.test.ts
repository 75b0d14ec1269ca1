import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import { compareCodePoints } from "../src/Entity.ts"
import { canonicalJson, md5, syncHash } from "../src/SyncHash.ts"

describe("canonicalJson", () => {
  it.each([
    [{ b: 1, a: [true, null, "x"] }, '{"a":[true,null,"x"],"b":1}'],
    [{ "é": 1, z: 2, Z: 3 }, '{"Z":3,"z":2,"é":1}'],
    // U+FF5E (BMP, high) sorts before U+1F600 (astral) by code point, although its UTF-16 unit is larger
    [{ "\u{1F600}": 1, "\uff5e": 2 }, '{"～":2,"😀":1}'],
    [-0, "0"],
    [1e21, "1e+21"],
    [1e-7, "1e-7"],
    [123456789012345680000, "123456789012345680000"],
    [0.1 + 0.2, "0.30000000000000004"],
    ["tab\there \"quoted\" \\ \u0001 \u2028", '"tab\\there \\"quoted\\" \\\\ \\u0001 \u2028"'],
    [null, "null"],
    [{ nested: { y: [], x: {} } }, '{"nested":{"x":{},"y":[]}}']
  ])("%j", (value, expected) => {
    assert.strictEqual(canonicalJson(value), expected)
  })

  it("is stable under a JSON round trip and ignores key order", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value)
        assert.strictEqual(canonicalJson(JSON.parse(text)), text)
        if (value !== null && typeof value === "object" && !Array.isArray(value)) {
          const reversed = Object.fromEntries(Object.entries(value).reverse())
          assert.strictEqual(canonicalJson(reversed), text)
        }
      }),
      { numRuns: 1000 }
    )
  })

  it("sorts keys by code point", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), fc.string({ unit: "grapheme" }), (a, b) => {
        const byBytes = Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"))
        assert.strictEqual(Math.sign(compareCodePoints(a, b)), byBytes)
      }),
      { numRuns: 2000 }
    )
  })
})

describe("syncHash", () => {
  it("is the md5 of the canonical JSON", () => {
    assert.strictEqual(md5(""), "d41d8cd98f00b204e9800998ecf8427e")
    assert.strictEqual(syncHash({ b: null, a: "x" }), md5('{"a":"x","b":null}'))
  })
})
