import { assert, describe, it } from "@effect/vitest"
import { allPass, atLeast, atMost, below } from "../src/Target.ts"

describe("Target", () => {
  it("passes a figure at or above a minimum", () => {
    assert.deepStrictEqual(atLeast(0.5, 0.5), { value: 0.5, target: ">= 0.5", pass: true })
    assert.strictEqual(atLeast(0.49, 0.5).pass, false)
  })

  it("passes a figure strictly below a maximum", () => {
    assert.strictEqual(below(9.99, 10).pass, true)
    assert.deepStrictEqual(below(10, 10), { value: 10, target: "< 10", pass: false })
  })

  it("passes a figure at or below a maximum, saying how the maximum was derived", () => {
    assert.deepStrictEqual(atMost(50, 50, "2 round trips of 20 ms + 10 ms"), {
      value: 50,
      target: "<= 50",
      pass: true,
      basis: "2 round trips of 20 ms + 10 ms"
    })
    assert.strictEqual(atMost(50.01, 50).pass, false)
    assert.isFalse("basis" in atMost(1, 2))
  })

  it("never passes a figure that could not be measured", () => {
    assert.strictEqual(atLeast(null, 0).pass, false)
    assert.strictEqual(below(null, 100).pass, false)
    assert.strictEqual(atMost(null, 100).pass, false)
  })

  it("needs every target of a record, and at least one", () => {
    assert.strictEqual(allPass({ a: atLeast(1, 0), b: below(1, 2) }), true)
    assert.strictEqual(allPass({ a: atLeast(1, 0), b: below(3, 2) }), false)
    assert.strictEqual(allPass({}), false)
  })
})
