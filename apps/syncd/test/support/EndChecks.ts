/**
 * The checks every randomized run and every fault case ends with, once the edits have stopped:
 * - both sides converge by themselves: equal by the test's own comparison and by `enrich-sync verify`;
 * - no value any writer wrote is lost (see `EditLog.lostValues`);
 * - a record deleted on Neon is kept in the workspace, marked `removed` (one inserted and deleted on Neon
 *   before it ever reached the workspace has no row there);
 * - no enrichment status ever moved backwards, on either side (the write audit saw every update);
 * - no echo: the engine's writes are bounded by a small multiple of the writers' row writes, and once both
 *   sides agree they stop (the audit and the daemon's counters stand still for `quietMs`).
 */
import { awaitConvergence, readConflicts } from "./Convergence.ts"
import type { EditLog } from "./EditLog.ts"
import { writeCounters } from "./HealthProbe.ts"
import { syncedTables } from "./SyncedTables.ts"
import { engineWriteCount, fieldHistory, readWriteAudit, statusRegressions } from "./WriteAudit.ts"

/** What the end checks found. */
export interface EndReport {
  /** every violation, each a sentence; empty when the run held */
  readonly problems: ReadonlyArray<string>
  /** the run in figures, for the test's message */
  readonly summary: string
  /** what happened to the values found lost, write by write on both sides (empty when none was) */
  readonly forensics: ReadonlyArray<string>
}

/**
 * The engine's row writes allowed per row written by the writers. A workspace edit of a complete row
 * costs a Neon write (the push, re-validated) and a workspace write (the agreed base), a Neon edit one
 * workspace write; restarts and retried merges may write a row again, once. An echo loop never stops.
 */
export const engineWritesPerEdit = 4

export const endChecks = async (options: {
  readonly neonUrl: string
  readonly workspaceUrl: string
  readonly log: EditLog
  /** the health port of the daemon running now, whose counters must stand still */
  readonly healthPort?: number
  readonly convergeWithinMs: number
  readonly quietMs: number
}): Promise<EndReport> => {
  const { neonUrl, workspaceUrl, log } = options
  const sides = await awaitConvergence(neonUrl, workspaceUrl, options.convergeWithinMs)
  const problems: Array<string> = []

  const conflicts = await readConflicts(workspaceUrl)
  const lost = log.lostValues(sides.records, conflicts)
  problems.push(...lost.map((p) => `lost: ${p.message}`))
  // what happened to each lost value, on both sides, for the failure message
  const forensics: Array<string> = []
  for (const l of lost.slice(0, 5)) {
    const table = syncedTables.find((t) => t.entity === l.entity)!
    forensics.push(
      `${l.entity} ${l.key} ${l.field}:`,
      "  the writers' edits:",
      ...log.history(l.entity, l.key, l.field).map((line) => `    ${line}`),
      "  the conflicts logged for the record:",
      ...conflicts
        .filter((c) => c.entity === l.entity && c.key === l.key)
        .map(
          (c) =>
            `    ${c.field}: ${c.winner} won (${c.reason}), Neon ${JSON.stringify(c.sourceValue)}, workspace ${JSON.stringify(c.workspaceValue)}; ${c.details}`
        ),
      "  every write of the field on both sides:",
      ...(await fieldHistory(neonUrl, workspaceUrl, table, l.key, l.field)).map((line) => `    ${line}`)
    )
  }
  // a both-changed conflict is between an edit of each side: one whose values the writers did not both write
  // is the engine's own (a push counted as a Neon edit, a stale read written back)
  const phantoms = log.phantomConflicts(conflicts)
  problems.push(...phantoms.map((p) => `phantom conflict: ${p}`))
  const countersBefore = options.healthPort === undefined ? null : await writeCounters(options.healthPort)
  const writesBefore = await engineWriteCount(neonUrl, workspaceUrl)
  await new Promise((r) => setTimeout(r, options.quietMs))
  const writesAfter = await engineWriteCount(neonUrl, workspaceUrl)
  const countersAfter = options.healthPort === undefined ? null : await writeCounters(options.healthPort)
  if (writesAfter !== writesBefore)
    problems.push(
      `echo: the engine wrote ${writesAfter - writesBefore} row(s) in the ${options.quietMs} ms after both sides agreed`
    )
  if (JSON.stringify(countersBefore) !== JSON.stringify(countersAfter))
    problems.push(
      `echo: the daemon's write counters moved after both sides agreed: ${JSON.stringify(countersBefore)} -> ${JSON.stringify(countersAfter)}`
    )

  const audit = await readWriteAudit(neonUrl, workspaceUrl)
  // a record the Neon editor inserted and deleted again before the engine ever wrote it into the workspace
  // (the daemon down, its slot dropped) has no workspace row to keep: nobody could have edited it there
  const workspaceInserts = new Set(
    audit
      .filter((w) => w.side === "workspace" && w.op === "INSERT")
      .map((w) => `${syncedTables.find((t) => t.workspaceTable.endsWith(w.tbl))?.entity} ${w.key}`)
  )
  for (const id of log.deleted) {
    const state = sides.workspaceRows.get(id)?.state
    if (state === undefined && log.insertedOnNeon(id) && !workspaceInserts.has(id)) continue
    if (state !== "removed")
      problems.push(`${id} was deleted on Neon; its workspace row is ${state ?? "gone"}, not removed`)
  }
  problems.push(...statusRegressions(audit).map((p) => `status moved backwards: ${p}`))
  const rowWrites = log.rowWrites()
  const engineWrites = audit.filter((w) => w.actor === "engine").length
  if (engineWrites > engineWritesPerEdit * rowWrites)
    problems.push(
      `the engine wrote ${engineWrites} rows for ${rowWrites} rows the writers wrote (more than ${engineWritesPerEdit} per edit)`
    )
  const others = audit.filter((w) => w.actor === "other")
  if (others.length > 0)
    problems.push(`${others.length} workspace write(s) by neither the engine nor a writer`)

  const bySide = (side: string) => log.edits.filter((e) => e.side === side).length
  const summary =
    `${rowWrites} row writes by the writers (${bySide("neon")} Neon and ${bySide("workspace")} workspace values, ` +
    `${log.deleted.size} deletes), ${conflicts.length} conflicts logged, ${engineWrites} engine row writes ` +
    `(${(engineWrites / Math.max(1, rowWrites)).toFixed(2)} per edit), ${sides.records.size} records, ` +
    `${phantoms.length} phantom conflict(s)${phantoms.length === 0 ? "" : ` (${phantoms[0]}${phantoms.length > 1 ? "; ..." : ""})`}`
  return { problems, summary, forensics }
}
