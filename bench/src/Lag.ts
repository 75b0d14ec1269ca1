/**
 * How far the daemon is behind the writers, over time: from the writers' commit times and samples of how
 * many of their transactions the daemon has applied (its `/health` counter), the lag at each sample is the
 * age of the oldest transaction committed and not yet applied (0 when every committed one is applied).
 * The daemon applies Neon's transactions in commit order, so the n applied ones are the n first committed.
 *
 * Invariant: pure functions over the numbers given (times in ms on one clock); nothing is measured here.
 */
import { round } from "./Stats.ts"

/** What the daemon had applied at a moment: transactions of this run, counted from its start. */
export interface AppliedSample {
  readonly at: number
  readonly applied: number
}

/** The lag at a moment (ms). */
export interface LagPoint {
  readonly at: number
  readonly lagMs: number
}

/** How many of `sorted` are at or before `at`. */
const countUpTo = (sorted: ArrayLike<number>, at: number): number => {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (sorted[mid]! <= at) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** The lag at each sample, given the commit times in ascending order. */
export const lagSeries = (
  commitTimes: ArrayLike<number>,
  samples: ReadonlyArray<AppliedSample>
): Array<LagPoint> =>
  samples.map((s) => {
    const committed = countUpTo(commitTimes, s.at)
    return { at: s.at, lagMs: s.applied >= committed ? 0 : Math.max(0, s.at - commitTimes[s.applied]!) }
  })

/** The least-squares slope of the lag over `points` (ms of lag per second of run); null for under 2 points. */
export const lagSlope = (points: ReadonlyArray<LagPoint>): number | null => {
  if (points.length < 2) return null
  const n = points.length
  const meanX = points.reduce((s, p) => s + p.at, 0) / n
  const meanY = points.reduce((s, p) => s + p.lagMs, 0) / n
  let sxy = 0
  let sxx = 0
  for (const p of points) {
    sxy += (p.at - meanX) * (p.lagMs - meanY)
    sxx += (p.at - meanX) ** 2
  }
  return sxx === 0 ? null : (sxy / sxx) * 1000
}

/** A lag series summarised: at the end, its maximum, its mean per tenth of the run, its trend. */
export const summariseLag = (points: ReadonlyArray<LagPoint>, from: number, to: number) => {
  const inRun = points.filter((p) => p.at >= from && p.at <= to)
  const tenths = Array.from({ length: 10 }, (_, i) => {
    const a = from + ((to - from) * i) / 10
    const b = from + ((to - from) * (i + 1)) / 10
    const part = inRun.filter((p) => p.at >= a && p.at < b)
    return part.length === 0 ? null : round(part.reduce((s, p) => s + p.lagMs, 0) / part.length / 1000, 3)
  })
  const secondHalf = inRun.filter((p) => p.at >= (from + to) / 2)
  const slope = lagSlope(inRun)
  return {
    samples: inRun.length,
    maxSeconds: round(inRun.reduce((m, p) => Math.max(m, p.lagMs), 0) / 1000, 3),
    maxSecondHalfSeconds: round(secondHalf.reduce((m, p) => Math.max(m, p.lagMs), 0) / 1000, 3),
    meanSecondsByTenth: tenths,
    /** seconds of lag gained per minute of run (least squares over the run) */
    trendSecondsPerMinute: slope === null ? null : round((slope * 60) / 1000, 3)
  }
}
