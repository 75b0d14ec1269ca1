/**
 * How the engine's merge-apply statistics are shown to a person: one line of counts, and (for dry runs)
 * the planned changes key by key, so `--dry-run` prints what it would write.
 */
import type { ApplyStats } from "@enrich-sync/engine"

/** The counts of a merge, `inserted 3, updated 1, ...` (only the non-zero ones; `no changes` otherwise). */
export const mergeCounts = (stats: ApplyStats | null): string => {
  if (stats === null) return "no changes"
  const parts: Array<string> = []
  const add = (n: number, label: string) => {
    if (n > 0) parts.push(`${label} ${n.toLocaleString("en-US")}`)
  }
  add(stats.inserted, "inserted")
  add(stats.updated, "updated")
  add(stats.pushed, "pushed")
  add(stats.conflicts, "conflicts")
  add(stats.promoted, "marked promoted")
  add(stats.removed, "marked removed")
  add(stats.contended.length, "left for the next run (busy)")
  return parts.length === 0 ? "no changes" : parts.join(", ")
}

const actionLabel: { readonly [A in ApplyStats["changes"][number]["action"]]: string } = {
  insert: "insert into the workspace",
  update: "update",
  push: "push to Neon",
  promote: "mark promoted",
  remove: "mark removed",
  reactivate: "reactivate"
}

/** The planned changes, one line each (at most `limit`, then how many more). */
export const plannedChanges = (
  entity: string,
  stats: ApplyStats | null,
  limit = 20
): ReadonlyArray<string> => {
  if (stats === null) return []
  const changes = stats.changes
  const lines = changes.slice(0, limit).map((c) => {
    const fields = [
      c.toSource.length > 0 ? `Neon: ${c.toSource.join(", ")}` : "",
      c.toWorkspace.length > 0 && c.action !== "insert" ? `workspace: ${c.toWorkspace.join(", ")}` : "",
      c.conflicts > 0 ? `${c.conflicts} conflict(s)` : ""
    ].filter((f) => f !== "")
    return `  ${entity} ${c.key}  ${actionLabel[c.action]}${fields.length > 0 ? ` (${fields.join("; ")})` : ""}`
  })
  const total = Math.max(stats.keys - stats.unchanged, changes.length)
  if (total > lines.length) lines.push(`  ... and ${(total - lines.length).toLocaleString("en-US")} more`)
  return lines
}

/** The `Would write:` section of a dry run's summary (the planned changes of every entity); none otherwise. */
export const wouldWrite = (
  reports: ReadonlyArray<{ readonly entity: string; readonly merge: ApplyStats | null }>,
  dryRun: boolean
): ReadonlyArray<string> => {
  const planned = dryRun ? reports.flatMap((r) => plannedChanges(r.entity, r.merge)) : []
  return planned.length > 0 ? ["Would write:", ...planned] : []
}
