import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
// by path: core cannot depend on @enrich-sync/testing (see PgText.ts)
import { jsonNumberToken } from "../../testing/src/PgText.ts"
import {
  isRawJson,
  type Json,
  jsonNull,
  jsonNumber,
  numberText,
  numericText,
  parseJsonb
} from "../src/Jsonb.ts"
import { canonicalJson } from "../src/SyncHash.ts"

/** JSON number tokens of any size and precision: long digit strings, fractions, exponents, zeros. */
const numberToken = jsonNumberToken()

describe("numericText", () => {
  // each as PostgreSQL prints `'<token>'::jsonb` (checked on 15 and 18)
  it.each([
    ["2.50", "2.50"],
    ["1e2", "100"],
    ["1E+2", "100"],
    ["1.5e1", "15"],
    ["1.55e1", "15.5"],
    ["-0", "0"],
    ["-0.0", "0.0"],
    ["-0e5", "0"],
    ["0e10", "0"],
    ["0.00e1", "0.0"],
    ["0.0000001", "0.0000001"],
    ["1e-7", "0.0000001"],
    ["12345678901234567890123", "12345678901234567890123"],
    ["1e-20", "0.00000000000000000001"],
    ["0.1e1", "1"],
    ["100e-2", "1.00"],
    ["1.0", "1.0"],
    ["-1.0e-3", "-0.0010"],
    ["5e-324", `0.${"0".repeat(323)}5`],
    ["1E400", `1${"0".repeat(400)}`]
  ])("%s prints %s", (token, printed) => {
    assert.strictEqual(numericText(token), printed)
  })

  it("refuses what Postgres's numeric cannot hold, and what is not a JSON number", () => {
    assert.strictEqual(numericText("1e131071").length, 131072)
    assert.throws(() => numericText("1e131072"), /outside what Postgres's numeric holds/)
    assert.strictEqual(numericText("1e-16383").length, 16385)
    assert.throws(() => numericText("1e-16384"), /outside/)
    assert.throws(() => numericText("0.1e-16383"), /outside/)
    assert.throws(() => numericText("1e1000000000000"), /outside/)
    for (const bad of ["", "-", "1.", ".5", "1e", "0x10", "NaN", "1_000"])
      assert.throws(() => numericText(bad), /not a JSON number/)
  })

  it("is the exact value with as many decimals as the token less its exponent", () => {
    fc.assert(
      fc.property(numberToken, (token) => {
        const text = numericText(token)
        // printed again, nothing moves
        assert.strictEqual(numericText(text), text)
        const [, fraction = ""] = text.split(".")
        const m = /(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$/.exec(token)!
        assert.strictEqual(fraction.length, Math.max(0, (m[1] ?? "").length - Number(m[2] ?? 0)))
        // the same value: scaled to integers, the digits agree
        const digits = (t: string) => {
          const [w, f = ""] = t.replace(/^-/, "").split(/[eE]/)[0]!.split(".")
          const e = Number(t.split(/[eE]/)[1] ?? 0)
          return { n: BigInt(w! + f), scale: f.length - e }
        }
        const a = digits(token)
        const b = digits(text)
        const shift = (x: { n: bigint; scale: number }, to: number) => x.n * 10n ** BigInt(to - x.scale)
        const to = Math.max(a.scale, b.scale)
        assert.strictEqual(shift(a, to), shift(b, to))
        assert.strictEqual(text.startsWith("-"), token.startsWith("-") && a.n !== 0n)
      }),
      { numRuns: 3000 }
    )
  })
})

describe("jsonNumber", () => {
  it("is a double exactly when the double loses nothing, else the canonical text kept raw", () => {
    for (const token of ["1", "-7", "1.5", "0.0000001", "1e21", "100", "9007199254740991", "0"]) {
      const n = jsonNumber(token)
      assert.strictEqual(typeof n, "number", token)
    }
    for (const token of ["2.50", "12345678901234567890123", "1.0", "9007199254740993", "0.10", "-0.0"]) {
      const n = jsonNumber(token)
      assert.isTrue(isRawJson(n), token)
      assert.strictEqual((n as { rawJSON: string }).rawJSON, numericText(token))
    }
    fc.assert(
      fc.property(numberToken, (token) => {
        assert.strictEqual(canonicalJson(jsonNumber(token)), numericText(token))
      }),
      { numRuns: 2000 }
    )
  })

  it("writes a double as jsonb prints what JSON.stringify sends of it", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (d) => {
        assert.strictEqual(numberText(d), numericText(JSON.stringify(d)))
        assert.strictEqual(Number(numberText(d)), d === 0 ? 0 : d)
      }),
      { numRuns: 3000 }
    )
    assert.strictEqual(numberText(Number.NaN), "null")
  })
})

describe("parseJsonb", () => {
  it("keeps every number as jsonb prints it, and a whole JSON null apart from SQL NULL", () => {
    const text = '["a", {"b": [1, 2.50, 0.0000001, 12345678901234567890123]}]'
    const value = parseJsonb(text)
    assert.strictEqual(canonicalJson(value), text)
    // JSON.stringify writes the raw numbers as they are (and 1e-7, which jsonb reads as 0.0000001)
    assert.strictEqual(JSON.stringify(value), '["a",{"b":[1,2.50,1e-7,12345678901234567890123]}]')
    assert.strictEqual(parseJsonb("null"), jsonNull)
    assert.strictEqual(parseJsonb(" null "), jsonNull)
    assert.strictEqual(canonicalJson(jsonNull), "null")
    assert.deepStrictEqual(parseJsonb('{"a": null, "b": "1: 2"}'), { a: null, b: "1: 2" })
    assert.throws(() => parseJsonb("{"))
  })

  it("reads each number as jsonNumber does, whether or not the text needs the exact parse", () => {
    // the exact parse, number by number
    const exact = (text: string) =>
      (JSON.parse as (t: string, r: (k: string, v: unknown, c: { source?: string }) => unknown) => unknown)(
        text,
        (_key, v, context) => (typeof v === "number" ? jsonNumber(context.source!) : v)
      )
    for (const text of [
      '{"employee_count": 42, "zip": "26505", "n": [0, -7, 123456789012345]}',
      "[ 1,\n 0 ]",
      '{"a": "x: 2.50", "b": 3}',
      "[-0]",
      "[0.0]",
      "[1e2]",
      "[2.50]",
      "[1234567890123456]",
      "[9007199254740993]"
    ]) {
      assert.deepStrictEqual(parseJsonb(text), exact(text) as Json, text)
    }
    assert.isTrue(
      Object.is((parseJsonb("[-0]") as ReadonlyArray<Json>)[0], 0),
      "-0 is read as jsonb prints it: 0"
    )
    // number tokens, and strings that may look like them inside
    const item = fc.oneof(
      fc.integer().map(String),
      fc.constantFrom("0", "-0", "0.0", "1e2", "2.50", "9007199254740993"),
      fc.string().map((text) => JSON.stringify(`: ${text}`))
    )
    fc.assert(
      fc.property(fc.array(item, { maxLength: 6 }), (items) => {
        const text = `[${items.join(", ")}]`
        assert.deepStrictEqual(parseJsonb(text), exact(text) as Json, text)
      }),
      { numRuns: 1000 }
    )
  })

  it("reads back the canonical text of any value, numbers of any size and precision", () => {
    const value = fc.letrec<{ value: unknown }>((tie) => ({
      value: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        fc.constant(null),
        fc.boolean(),
        fc.string(),
        numberToken.map(jsonNumber),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.array(tie("value"), { maxLength: 4 }),
        fc.dictionary(fc.string({ maxLength: 5 }), tie("value"), { maxKeys: 4 })
      )
    })).value
    fc.assert(
      fc.property(value, (v) => {
        const text = canonicalJson(v)
        assert.strictEqual(canonicalJson(parseJsonb(text)), text)
      }),
      { numRuns: 2000 }
    )
  })
})
