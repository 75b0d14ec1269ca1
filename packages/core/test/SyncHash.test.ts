import { createHash } from "node:crypto"
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import { jsonNull, jsonNumber, parseJsonb } from "../src/Jsonb.ts"
import { canonicalJson, canonicalRecordJson, compareJsonbKeys, md5, syncHash } from "../src/SyncHash.ts"

describe("canonicalJson", () => {
  it.each([
    [{ b: 1, a: [true, null, "x"] }, '{"a": [true, null, "x"], "b": 1}'],
    // jsonb order: shorter keys (in UTF-8 bytes) first, then by bytes
    [{ é: 1, z: 2, Z: 3, aa: 4 }, '{"Z": 3, "z": 2, "aa": 4, "é": 1}'],
    [{ "\u{1F600}": 1, "\uff5e": 2 }, '{"～": 2, "😀": 1}'],
    // numbers as jsonb prints them
    [-0, "0"],
    [1e21, "1000000000000000000000"],
    [1e-7, "0.0000001"],
    [123456789012345680000, "123456789012345680000"],
    [0.1 + 0.2, "0.30000000000000004"],
    [jsonNumber("2.50"), "2.50"],
    [[jsonNumber("12345678901234567890123"), jsonNumber("1e2")], "[12345678901234567890123, 100]"],
    [jsonNull, "null"],
    ['tab\there "quoted" \\ \u0001 \u2028', '"tab\\there \\"quoted\\" \\\\ \\u0001 \u2028"'],
    [null, "null"],
    [{ nested: { y: [], x: {} } }, '{"nested": {"x": {}, "y": []}}']
  ])("%j", (value, expected) => {
    assert.strictEqual(canonicalJson(value), expected)
  })

  it("is stable under a JSON round trip and ignores key order", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value)
        assert.strictEqual(canonicalJson(parseJsonb(text)), text)
        if (value !== null && typeof value === "object" && !Array.isArray(value)) {
          const reversed = Object.fromEntries(Object.entries(value).reverse())
          assert.strictEqual(canonicalJson(reversed), text)
        }
      }),
      { numRuns: 1000 }
    )
  })

  it("writes every string as JSON.stringify does (most are quoted without escaping)", () => {
    const special = fc.constantFrom(
      '"',
      "\\",
      "\u0000",
      "\u001f",
      "\u007f",
      "\u2028",
      "\ud800",
      "\udfff",
      "😀",
      "é"
    )
    const text = fc.oneof(
      fc.string({ unit: "binary" }),
      fc.string({ unit: fc.oneof(special, fc.string({ unit: "grapheme", maxLength: 1 })) })
    )
    fc.assert(
      fc.property(text, (s) => {
        assert.strictEqual(canonicalJson(s), JSON.stringify(s))
      }),
      { numRuns: 3000 }
    )
  })

  it("leaves out members whose value is undefined, as JSON does", () => {
    const member = fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined })
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 4 }), member, { maxKeys: 6 }), (value) => {
        assert.strictEqual(canonicalJson(value), canonicalJson(JSON.parse(JSON.stringify(value))))
      }),
      { numRuns: 1000 }
    )
  })

  it("orders keys as jsonb does: by UTF-8 length, then bytes", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), fc.string({ unit: "grapheme" }), (a, b) => {
        const x = Buffer.from(a, "utf8")
        const y = Buffer.from(b, "utf8")
        const expected = x.length !== y.length ? Math.sign(x.length - y.length) : Buffer.compare(x, y)
        assert.strictEqual(Math.sign(compareJsonbKeys(a, b)), expected)
      }),
      { numRuns: 2000 }
    )
  })
})

describe("syncHash", () => {
  it("is the md5 of the record's canonical JSON, which leaves out SQL NULL and keeps JSON null", () => {
    assert.strictEqual(md5(""), "d41d8cd98f00b204e9800998ecf8427e")
    assert.strictEqual(syncHash({ b: null, a: "x" }), md5('{"a": "x"}'))
    assert.strictEqual(syncHash({ b: jsonNull, a: "x" }), md5('{"a": "x", "b": null}'))
    assert.strictEqual(canonicalRecordJson({ c: { d: null }, b: null }), '{"c": {"d": null}}')
    assert.strictEqual(canonicalRecordJson({ b: null }), "{}")
  })

  it("md5 hashes the UTF-8 of any string as a streaming hash does (lone surrogates too)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary" }), fc.string({ unit: "grapheme" })), (s) => {
        assert.strictEqual(md5(s), createHash("md5").update(s, "utf8").digest("hex"))
      }),
      { numRuns: 2000 }
    )
  })
})

describe("compareCodePoints", () => {
  it("orders as UTF-8 bytes do", async () => {
    const { compareCodePoints } = await import("../src/Entity.ts")
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), fc.string({ unit: "binary" }), (a, b) => {
        const x = Buffer.from(a, "utf8")
        const y = Buffer.from(b, "utf8")
        // lone surrogates become U+FFFD in UTF-8; compare only well-formed strings
        fc.pre(!/\p{Surrogate}/u.test(a) && !/\p{Surrogate}/u.test(b))
        assert.strictEqual(Math.sign(compareCodePoints(a, b)), Buffer.compare(x, y))
      }),
      { numRuns: 3000 }
    )
  })
})

describe("recordJson", () => {
  it("is canonicalRecordJson for an entity's records, faster", async () => {
    const { Company } = await import("../src/Company.ts")
    const { Person } = await import("../src/Person.ts")
    const { recordJson, recordHash } = await import("../src/SyncHash.ts")
    for (const entity of [Company, Person]) {
      const record = fc.record(
        Object.fromEntries(
          entity.fields.map((f) => [
            f.name,
            fc.oneof(
              fc.constant(null),
              fc.constant(jsonNull),
              fc.string(),
              fc.integer(),
              fc.jsonValue({ maxDepth: 2 }),
              fc.constantFrom("2.50", "1e400", "-0.0").map(jsonNumber)
            )
          ])
        )
      )
      fc.assert(
        fc.property(record, (r) => {
          assert.strictEqual(recordJson(entity, r as never), canonicalRecordJson(r as never))
          assert.strictEqual(recordHash(entity, r as never), syncHash(r as never))
        }),
        { numRuns: 500 }
      )
    }
  })
})

describe("sameValue", () => {
  it("agrees with comparing canonical JSON", async () => {
    const { sameValue } = await import("../src/SyncHash.ts")
    const value = fc.jsonValue({ maxDepth: 3 })
    fc.assert(
      fc.property(value, value, fc.boolean(), (a, b, copy) => {
        const other = copy ? JSON.parse(JSON.stringify(a)) : b
        assert.strictEqual(sameValue(a, other), canonicalJson(a) === canonicalJson(other))
      }),
      { numRuns: 3000 }
    )
  })

  it("compares numbers by their canonical text, and SQL NULL apart from JSON null", async () => {
    const { sameValue } = await import("../src/SyncHash.ts")
    assert.isTrue(sameValue(jsonNumber("2.50"), jsonNumber("2.50")))
    assert.isFalse(sameValue(jsonNumber("2.50"), 2.5))
    assert.isFalse(sameValue(jsonNumber("2.50"), jsonNumber("2.5")))
    assert.isTrue(sameValue([{ a: jsonNumber("1e2") }], [{ a: 100 }]))
    assert.isFalse(sameValue(jsonNumber("12345678901234567890123"), 1.2345678901234568e22))
    assert.isFalse(sameValue(jsonNull, null))
    assert.isFalse(sameValue(null, jsonNull))
    assert.isTrue(sameValue(jsonNull, parseJsonb("null")))
    assert.isFalse(sameValue(jsonNumber("2.50"), "2.50"))
    assert.isFalse(sameValue(1, {}))
  })

  it("agrees with comparing canonical JSON when members are undefined (absent in JSON)", async () => {
    const { sameValue } = await import("../src/SyncHash.ts")
    const member = fc.option(fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 2 })), { nil: undefined })
    const object = fc.dictionary(fc.constantFrom("a", "b", "c"), member, { maxKeys: 3 })
    fc.assert(
      fc.property(object, object, (a, b) => {
        assert.strictEqual(sameValue(a, b), canonicalJson(a) === canonicalJson(b))
      }),
      { numRuns: 3000 }
    )
  })
})
