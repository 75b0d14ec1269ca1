/**
 * Positions parse from every text form Postgres and pg-logical-replication print, print the way Postgres
 * prints `pg_lsn`, and order like `pg_lsn` does (the unsigned 64-bit value: high half, then low half).
 */
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import { formatLsn, isLsnText, type Lsn, maxLsn, maxOf, parseLsn, zeroLsn } from "../src/Lsn.ts"

const half = fc.integer({ min: 0, max: 0xffff_ffff })
const halves = fc.tuple(half, half)
const lsn = fc.bigInt({ min: 0n, max: maxLsn })

const hex = (n: number) => n.toString(16)
/** The forms seen in the wild: Postgres' (unpadded, upper case), the library's message fields (padded). */
const unpadded = ([hi, lo]: readonly [number, number]) => `${hex(hi).toUpperCase()}/${hex(lo).toUpperCase()}`
const padded = ([hi, lo]: readonly [number, number]) =>
  `${hex(hi).padStart(8, "0").toUpperCase()}/${hex(lo).padStart(8, "0").toUpperCase()}`

/** pg_lsn's order, stated as Postgres defines it on the two halves (`lsn_cmp` on the uint64). */
const postgresCompare = (a: readonly [number, number], b: readonly [number, number]) =>
  a[0] !== b[0] ? Math.sign(a[0] - b[0]) : Math.sign(a[1] - b[1])

describe("Lsn", () => {
  it("parses and prints known values", () => {
    assert.strictEqual(parseLsn("16/B374D848"), 0x16_b374_d848n)
    assert.strictEqual(parseLsn("00000016/B374D848"), 0x16_b374_d848n)
    assert.strictEqual(parseLsn("0/0"), zeroLsn)
    assert.strictEqual(parseLsn("ffffffff/ffffffff"), maxLsn)
    assert.strictEqual(formatLsn(0x16_b374_d848n), "16/B374D848")
    assert.strictEqual(formatLsn(zeroLsn), "0/0")
    assert.strictEqual(formatLsn(0x1_0000_0000n), "1/0")
    assert.strictEqual(formatLsn(maxLsn), "FFFFFFFF/FFFFFFFF")
  })

  it("rejects what is not a pg_lsn", () => {
    for (const bad of [
      "",
      "16",
      "/1",
      "1/",
      "1/2/3",
      "G/0",
      "123456789/0",
      "0/123456789",
      " 0/0",
      "-1/0",
      "0x1/0"
    ]) {
      assert.isFalse(isLsnText(bad), bad)
      assert.throws(() => parseLsn(bad), RangeError)
    }
    assert.throws(() => formatLsn(-1n), RangeError)
    assert.throws(() => formatLsn(maxLsn + 1n), RangeError)
  })

  it("round-trips: format then parse is the identity, and format is canonical", () => {
    fc.assert(
      fc.property(lsn, (value) => {
        const text = formatLsn(value)
        assert.strictEqual(parseLsn(text), value)
        assert.match(text, /^(0|[1-9A-F][0-9A-F]{0,7})\/(0|[1-9A-F][0-9A-F]{0,7})$/)
        assert.strictEqual(formatLsn(parseLsn(text.toLowerCase())), text)
      })
    )
  })

  it("padded and unpadded forms of the same position parse equal", () => {
    fc.assert(
      fc.property(halves, (h) => {
        assert.strictEqual(parseLsn(padded(h)), parseLsn(unpadded(h)))
        assert.strictEqual(formatLsn(parseLsn(padded(h))), unpadded(h))
      })
    )
  })

  it("bigint order agrees with Postgres' pg_lsn order, where string order does not", () => {
    fc.assert(
      fc.property(halves, halves, (a, b) => {
        const expected = postgresCompare(a, b)
        const x: Lsn = parseLsn(unpadded(a))
        const y: Lsn = parseLsn(padded(b))
        assert.strictEqual(x < y ? -1 : x > y ? 1 : 0, expected)
        assert.strictEqual(maxOf(x, y), expected >= 0 ? x : y)
      })
    )
    // The trap that R5 warns about: "9/0" > "10/0" as strings.
    assert.isTrue("9/0" > "10/0")
    assert.isTrue(parseLsn("9/0") < parseLsn("10/0"))
  })
})
