/**
 * A speed target and whether a measured figure meets it, as it appears in the JSON output:
 * `{ "value": 0.62, "target": ">= 0.5", "pass": true }`; and what a part that could not run reports
 * instead: `{ "error": "...", "pass": false }`.
 *
 * Invariant: a figure that could not be measured (`null`) never passes.
 */

/** A figure against its target. */
export interface Target {
  readonly value: number | null
  /** the target as text: `>= 0.5`, `< 10` */
  readonly target: string
  readonly pass: boolean
  /** how the target was derived, when it is not a plain number (`2 round trips of 20.4 ms + 10 ms`) */
  readonly basis?: string
}

/** The figure must be at least `min`. */
export const atLeast = (value: number | null, min: number): Target => ({
  value,
  target: `>= ${min}`,
  pass: value !== null && value >= min
})

/** The figure must be at most `max` (`basis`: how `max` was derived, when it was). */
export const atMost = (value: number | null, max: number, basis?: string): Target => ({
  value,
  target: `<= ${max}`,
  pass: value !== null && value <= max,
  ...(basis === undefined ? {} : { basis })
})

/** The figure must be below `max`. */
export const below = (value: number | null, max: number): Target => ({
  value,
  target: `< ${max}`,
  pass: value !== null && value < max
})

/** Whether every target of a record passes (an empty record passes nothing). */
export const allPass = (targets: Readonly<Record<string, Target>>): boolean => {
  const list = Object.values(targets)
  return list.length > 0 && list.every((t) => t.pass)
}

/** What a part of the bench that failed reports in place of its figures: why, and `pass: false`. */
export const failedPart = (error: unknown) => ({
  error: error instanceof Error ? error.message : String(error),
  pass: false
})
