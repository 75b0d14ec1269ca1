/**
 * `enrich-sync status`: where the pipeline stands, per entity (one column each): Neon counts (invalid,
 * PASSED / FAILED, enriched, still invalid, master), workspace counts per sync state and per
 * `enrichment_status`, last pull and push, pending pushes, unsynced edits and conflicts (logged, and not
 * reviewed yet). Read-only.
 */
import { enrichmentStatuses } from "@enrich-sync/core"
import type { EntityStatus } from "@enrich-sync/engine"
import { entityStatus } from "@enrich-sync/engine"
import { Command } from "effect/cli"
import * as Effect from "effect/Effect"
import { withHelp } from "./CommandHelp.ts"
import * as Flags from "./CommonFlags.ts"
import { formatTable, Output } from "./Output.ts"
import { withBothSides } from "./Preflight.ts"

/** The human status table. */
export const renderStatus = (statuses: ReadonlyArray<EntityStatus>): string => {
  const known = enrichmentStatuses as ReadonlyArray<string>
  const others = [...new Set(statuses.flatMap((s) => Object.keys(s.workspace.byStatus)))].filter(
    (s) => !known.includes(s)
  )
  const row = (label: string, value: (s: EntityStatus) => string | number) => [label, ...statuses.map(value)]
  // stored as UTC, without a time zone
  const time = (t: string | null) => (t === null ? "never" : `${t.slice(0, 19)} UTC`)
  const rows: Array<Array<string | number>> = [
    ["", ...statuses.map((s) => s.entity)],
    row("Neon invalid rows", (s) => s.neon.invalid),
    row("  PASSED (to promote)", (s) => s.neon.passed),
    row("  FAILED / not validated", (s) => s.neon.failed),
    row("  enrichment complete", (s) => s.neon.enriched),
    row("  still invalid", (s) => s.neon.stillInvalid),
    row("Neon master rows", (s) => s.neon.master),
    row("Workspace rows", (s) => s.workspace.rows),
    row("  active", (s) => s.workspace.active),
    row("  promoted", (s) => s.workspace.promoted),
    row("  removed on Neon", (s) => s.workspace.removed),
    ...[...known, ...others].map((status) => row(`  ${status}`, (s) => s.workspace.byStatus[status] ?? 0)),
    row("Last pull", (s) => time(s.workspace.lastPull)),
    row("Last push", (s) => time(s.workspace.lastPush)),
    row("Pending pushes", (s) => s.workspace.pendingPushes),
    row("Edited since last sync", (s) => s.workspace.touched),
    row("Conflicts logged", (s) => s.conflicts),
    row("  unreviewed", (s) => s.unreviewedConflicts)
  ]
  const unreviewed = statuses.reduce((n, s) => n + s.unreviewedConflicts, 0)
  return [
    "Status",
    formatTable(rows),
    ...(unreviewed === 0 ? [] : [`${unreviewed} conflict(s) to review: enrich-sync conflicts --unreviewed`])
  ].join("\n")
}

/** The `status` command. */
export const statusCommand = Command.make(
  "status",
  { entity: Flags.entity, json: Flags.json, pushOn: Flags.pushOn },
  Effect.fn(function* ({ entity, json, pushOn }) {
    const output = yield* Output
    yield* output.begin("status", { json })
    const statuses = yield* withBothSides(
      (policy) => Effect.forEach(Flags.selectEntities(entity), (e) => entityStatus(e, policy)),
      pushOn
    )
    yield* output.result({ entities: statuses })
    yield* output.print(renderStatus(statuses))
  })
).pipe(
  withHelp(
    "Counts per side and per enrichment_status, last pull / push times, pending pushes and conflicts",
    ["enrich-sync status --json", "the status as JSON"]
  )
)
