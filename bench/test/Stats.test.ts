import { assert, describe, it } from "@effect/vitest"
import { distribution, median, percentile, perSecond, ratio, round } from "../src/Stats.ts"

describe("Stats", () => {
  it("takes nearest-rank percentiles", () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1)
    assert.strictEqual(percentile(sorted, 50), 50)
    assert.strictEqual(percentile(sorted, 99), 99)
    assert.strictEqual(percentile(sorted, 100), 100)
    assert.strictEqual(percentile([7], 1), 7)
    assert.isNull(percentile([], 50))
  })

  it("summarises samples in any order", () => {
    const d = distribution([5, 1, 4, 2, 3])
    assert.deepStrictEqual(d, { count: 5, p50: 3, p90: 5, p99: 5, max: 5, mean: 3 })
    assert.isNull(distribution([]).p50)
  })

  it("never produces NaN or Infinity", () => {
    assert.isNull(perSecond(10, 0))
    assert.strictEqual(perSecond(10, 500), 20)
    assert.isNull(ratio(1, 0))
    assert.isNull(ratio(null, 2))
    assert.strictEqual(ratio(3, 2), 1.5)
    assert.isNull(round(Number.NaN))
    assert.strictEqual(round(1.23456, 3), 1.235)
  })

  it("takes the median of odd and even counts", () => {
    assert.strictEqual(median([3, 1, 2]), 2)
    assert.strictEqual(median([4, 1, 2, 3]), 2.5)
    assert.isNull(median([]))
  })
})
