import { assert, describe, it } from "@effect/vitest"
import { lagSeries, lagSlope, summariseLag } from "../src/Lag.ts"

describe("Lag", () => {
  it("is the age of the oldest committed transaction not yet applied", () => {
    const commits = [100, 200, 300, 400]
    const series = lagSeries(commits, [
      { at: 50, applied: 0 }, // nothing committed yet
      { at: 250, applied: 0 }, // two committed, none applied: the first is 150 ms old
      { at: 250, applied: 1 }, // the second is 50 ms old
      { at: 350, applied: 3 }, // everything committed is applied
      { at: 450, applied: 3 } // the fourth is 50 ms old
    ])
    assert.deepStrictEqual(
      series.map((p) => p.lagMs),
      [0, 150, 50, 0, 50]
    )
  })

  it("finds a growing lag, and a steady one", () => {
    // a daemon applying 90% of 1,000 transactions/s: after t s it is 0.1 t s behind
    const commits = Array.from({ length: 10_000 }, (_, i) => i)
    const behind = Array.from({ length: 100 }, (_, i) => ({
      at: i * 100,
      applied: Math.floor(i * 100 * 0.9)
    }))
    const growing = summariseLag(lagSeries(commits, behind), 0, 9900)
    // 0.1 s of lag per s = 6 s per minute
    assert.approximately(growing.trendSecondsPerMinute!, 6, 0.1)
    assert.isAbove(growing.maxSecondHalfSeconds!, 0.5)
    const steady = Array.from({ length: 100 }, (_, i) => ({
      at: i * 100,
      applied: Math.max(0, i * 100 - 30)
    }))
    const kept = summariseLag(lagSeries(commits, steady), 0, 9900)
    assert.approximately(kept.trendSecondsPerMinute!, 0, 0.05)
    assert.isAtMost(kept.maxSeconds!, 0.031)
  })

  it("has no slope for fewer than two points", () => {
    assert.isNull(lagSlope([{ at: 1, lagMs: 5 }]))
    assert.isNull(lagSlope([]))
  })
})
