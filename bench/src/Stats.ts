/**
 * The arithmetic of the bench's figures: percentiles, rates, ratios and rounding.
 *
 * Invariant: pure functions; a figure that cannot be computed (no samples, zero time) is `null`, never
 * `NaN` or `Infinity`, so the JSON output stays valid and says plainly what is missing.
 */

/** Rounds to `digits` decimals (null stays null). */
export const round = (value: number | null, digits = 2): number | null => {
  if (value === null || !Number.isFinite(value)) return null
  const factor = 10 ** digits
  return Math.round(value * factor) / factor
}

/** `count` per second over `ms` milliseconds; null when no time passed. */
export const perSecond = (count: number, ms: number): number | null => (ms > 0 ? (count * 1000) / ms : null)

/** `a / b`; null when either is missing or `b` is zero. */
export const ratio = (a: number | null, b: number | null): number | null =>
  a === null || b === null || b === 0 ? null : a / b

/**
 * The `p`-th percentile (0 < p <= 100) of `sorted` (ascending) by the nearest-rank method: the smallest
 * sample such that at least p% of the samples are at or below it. Null for no samples.
 */
export const percentile = (sorted: ReadonlyArray<number>, p: number): number | null => {
  if (sorted.length === 0) return null
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!
}

/** The distribution of latency samples (milliseconds): count, p50, p90, p99, max, mean. */
export interface Distribution {
  readonly count: number
  readonly p50: number | null
  readonly p90: number | null
  readonly p99: number | null
  readonly max: number | null
  readonly mean: number | null
}

/** Summarises samples (any order). */
export const distribution = (samples: ReadonlyArray<number>, digits = 2): Distribution => {
  const sorted = [...samples].sort((a, b) => a - b)
  const sum = sorted.reduce((s, x) => s + x, 0)
  return {
    count: sorted.length,
    p50: round(percentile(sorted, 50), digits),
    p90: round(percentile(sorted, 90), digits),
    p99: round(percentile(sorted, 99), digits),
    max: round(sorted.length === 0 ? null : sorted[sorted.length - 1]!, digits),
    mean: round(sorted.length === 0 ? null : sum / sorted.length, digits)
  }
}

/** The median of a few measurements (for repeated baselines); null for none. */
export const median = (values: ReadonlyArray<number>): number | null => {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
