/**
 * The confirmed position never passes a delivered, unacknowledged transaction, only moves forward, and
 * catches up with everything delivered or passed once the consumer has acknowledged it.
 */
import { assert, describe, it } from "@effect/vitest"
import { maxOf } from "@enrich-sync/core"
import * as fc from "fast-check"
import { AckTracker } from "../../src/internal/AckTracker.ts"

type Op =
  | { readonly _tag: "deliver"; readonly gap: number }
  | { readonly _tag: "pass"; readonly gap: number }
  | { readonly _tag: "ack"; readonly pick: number; readonly exact: boolean; readonly offset: number }

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ _tag: fc.constant("deliver" as const), gap: fc.integer({ min: -2, max: 50 }) }),
  fc.record({ _tag: fc.constant("pass" as const), gap: fc.integer({ min: -2, max: 50 }) }),
  fc.record({
    _tag: fc.constant("ack" as const),
    pick: fc.nat(),
    exact: fc.boolean(),
    offset: fc.integer({ min: -5, max: 60 })
  })
)

describe("AckTracker", () => {
  it("confirms a delivered transaction only once it is acknowledged", () => {
    const t = new AckTracker(100n)
    t.deliver(200n)
    assert.strictEqual(t.confirmed, 100n)
    assert.isFalse(t.pass(250n), "a keepalive behind an unacknowledged transaction is held")
    assert.strictEqual(t.confirmed, 100n)
    assert.strictEqual(t.ack(200n), "advanced")
    assert.strictEqual(t.confirmed, 250n, "the held keepalive is confirmed with it")
    assert.isTrue(t.pass(300n), "an idle keepalive is confirmed at once")
    assert.strictEqual(t.confirmed, 300n)
  })

  it("ignores stale and future acknowledgements", () => {
    const t = new AckTracker(100n)
    t.deliver(200n)
    t.deliver(300n)
    assert.strictEqual(t.ack(400n), "beyond")
    assert.strictEqual(t.confirmed, 100n)
    assert.strictEqual(t.ack(200n), "advanced")
    assert.strictEqual(t.ack(150n), "stale")
    assert.strictEqual(t.ack(200n), "stale")
    assert.strictEqual(t.confirmed, 200n)
    assert.strictEqual(t.waiting, 1)
    assert.strictEqual(
      t.ack(250n),
      "held",
      "a position inside an unacknowledged transaction confirms nothing more"
    )
    assert.strictEqual(t.confirmed, 200n)
    assert.strictEqual(t.ack(300n), "advanced")
    assert.strictEqual(t.waiting, 0)
  })

  it("an acknowledgement of a later transaction covers the earlier ones", () => {
    const t = new AckTracker(0n)
    for (const p of [10n, 20n, 30n]) t.deliver(p)
    t.pass(35n)
    assert.strictEqual(t.ack(30n), "advanced")
    assert.strictEqual(t.confirmed, 35n)
  })

  it("reset starts over on a new slot", () => {
    const t = new AckTracker(1000n)
    t.deliver(2000n)
    t.reset(500n)
    assert.strictEqual(t.confirmed, 500n)
    assert.strictEqual(t.last, 500n)
    assert.strictEqual(t.ack(2000n), "beyond", "an acknowledgement meant for the old slot is not applied")
    assert.strictEqual(t.confirmed, 500n)
  })

  it("property: never confirms past an unacknowledged delivered transaction; monotonic; catches up", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 1n << 40n }), fc.array(op, { maxLength: 120 }), (start, ops) => {
        const t = new AckTracker(start)
        const delivered: Array<bigint> = []
        const passed: Array<bigint> = []
        let last = start
        let maxAck = start
        let previous = t.confirmed
        for (const o of ops) {
          if (o._tag === "deliver" || o._tag === "pass") {
            const position = last + BigInt(o.gap)
            if (o._tag === "deliver") t.deliver(position)
            else t.pass(position)
            if (position > last) {
              ;(o._tag === "deliver" ? delivered : passed).push(position)
              last = position
            }
          } else {
            const pool = [start, ...delivered, ...passed]
            const base = pool[o.pick % pool.length]!
            const position = o.exact ? base : base + BigInt(o.offset)
            const outcome = t.ack(position)
            if (position <= last && position > maxAck) maxAck = position
            assert.strictEqual(outcome === "beyond", position > last && position > previous)
          }
          const confirmed = t.confirmed
          assert.isTrue(confirmed >= previous, "monotonic")
          assert.isTrue(confirmed <= last, "never past what was delivered or passed")
          for (const d of delivered) {
            if (d > maxAck) assert.isTrue(confirmed < d, `confirmed ${confirmed} passed unacknowledged ${d}`)
          }
          // Liveness: the latest registered position that no unacknowledged delivery precedes.
          const firstWaiting = delivered.find((d) => d > maxAck)
          const candidates = [start, ...delivered, ...passed].filter(
            (p) => firstWaiting === undefined || p < firstWaiting
          )
          const expected = candidates.reduce(maxOf, start)
          assert.strictEqual(confirmed, expected)
          assert.strictEqual(t.last, last)
          assert.strictEqual(t.waiting, delivered.filter((d) => d > maxAck).length)
          previous = confirmed
        }
      }),
      { numRuns: 300 }
    )
  })
})
