/**
 * The enrichment status of a record and the only ways it may move.
 *
 * ```
 *   pending ──> in_progress ──> complete
 *      │            │   ▲
 *      │            ▼   │ (re-open)
 *      └──────────> failed ──> complete (re-open and complete at once)
 * ```
 *
 * Invariant: the merge never lets a status move backwards, so a stale `pending` from one side never
 * overwrites `complete` on the other, whatever the times say. Values outside the lifecycle (typed by hand
 * in the workspace) are not protected: moves into or out of them are allowed and decided by the times.
 */

/** The statuses of the sync guide. */
export const enrichmentStatuses = ["pending", "in_progress", "complete", "failed"] as const
export type EnrichmentStatus = (typeof enrichmentStatuses)[number]

/** Whether `value` is one of the guide's statuses. */
export const isEnrichmentStatus = (value: string): value is EnrichmentStatus =>
  (enrichmentStatuses as ReadonlyArray<string>).includes(value)

/** The forward moves, besides staying put: from each status, where it may go. */
export const transitions: { readonly [From in EnrichmentStatus]: ReadonlyArray<EnrichmentStatus> } = {
  pending: ["in_progress", "complete", "failed"],
  in_progress: ["complete", "failed"],
  complete: [],
  failed: ["in_progress", "complete"]
}

/** Whether a status may move from `from` to `to` (staying put is always allowed). */
export const canMove = (from: string, to: string): boolean => {
  if (from === to) return true
  if (!isEnrichmentStatus(from) || !isEnrichmentStatus(to)) return true
  return transitions[from].includes(to)
}

/** The default statuses whose workspace edits are pushed to Neon (the guide pushes `complete` rows). */
export const defaultPushOn: ReadonlyArray<string> = ["complete"]
