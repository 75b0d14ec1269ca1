/**
 * `enrich-sync backfill` (alias `pull`), stage 1: brings every Neon invalid row into the workspace with the
 * engine's `backfillEntity` (COPY into an empty table, else the merge of exactly what differs).
 *
 * Invariant: a re-run with nothing new on Neon writes nothing; `--dry-run` writes nothing and lists what it
 * would write.
 */
import type { Entity, MergePolicy } from "@enrich-sync/core"
import type { BackfillReport, DatabaseError, SourceDatabase, WorkspaceDatabase } from "@enrich-sync/engine"
import { backfillEntity } from "@enrich-sync/engine"
import { Command } from "effect/cli"
import * as Effect from "effect/Effect"
import { withHelp } from "./CommandHelp.ts"
import * as Flags from "./CommonFlags.ts"
import { mergeCounts, wouldWrite } from "./MergeSummary.ts"
import { formatSeconds, formatTable, Output } from "./Output.ts"
import { withBothSides } from "./Preflight.ts"
import { withProgress } from "./Progress.ts"

/** Options of a backfill run. */
export interface BackfillRunOptions {
  readonly entities: ReadonlyArray<Entity>
  readonly batchSize?: number
  readonly dryRun: boolean
  readonly policy: MergePolicy
}

/** Backfills the entities, one after the other (the schema is checked by the caller). */
export const runBackfill = ({
  entities,
  ...options
}: BackfillRunOptions): Effect.Effect<
  ReadonlyArray<BackfillReport>,
  DatabaseError,
  SourceDatabase | WorkspaceDatabase | Output
> =>
  withProgress((onProgress) =>
    Effect.forEach(entities, (entity) => backfillEntity(entity, { ...options, onProgress }))
  )

/** The human summary of a backfill. */
export const renderBackfill = (reports: ReadonlyArray<BackfillReport>, dryRun: boolean): string => {
  const rows: Array<Array<string | number>> = [
    ["entity", "Neon rows", "new", "updated", "unchanged", "time", "details"]
  ]
  for (const r of reports) {
    const { inserted = 0, updated = 0, unchanged = 0 } = r.merge ?? {}
    const details =
      r.path === "copy"
        ? "copied into the empty workspace table"
        : mergeCounts(r.merge === null ? null : { ...r.merge, inserted: 0, updated: 0 })
    rows.push([
      r.entity,
      r.sourceRows,
      r.copied + inserted,
      updated,
      r.unchanged + unchanged,
      formatSeconds(r.durationMs),
      details === "no changes" ? "" : details
    ])
  }
  const title = dryRun
    ? "Backfill Neon -> workspace (dry run: nothing was written)"
    : "Backfill Neon -> workspace"
  return [title, formatTable(rows), ...wouldWrite(reports, dryRun)].join("\n")
}

/** The `backfill` command. */
export const backfillCommand = Command.make(
  "backfill",
  {
    entity: Flags.entity,
    batchSize: Flags.batchSize(Flags.defaultBatchSize.backfill),
    dryRun: Flags.dryRun,
    json: Flags.json,
    pushOn: Flags.pushOn
  },
  Effect.fn(function* ({ entity, batchSize, dryRun, json, pushOn }) {
    const output = yield* Output
    yield* output.begin("backfill", { json })
    const reports = yield* withBothSides(
      (policy) =>
        runBackfill({
          entities: Flags.selectEntities(entity),
          ...Flags.batchOption(batchSize, Flags.defaultBatchSize.backfill),
          dryRun,
          policy
        }),
      pushOn
    )
    yield* output.result({ dryRun, entities: reports })
    yield* output.print(renderBackfill(reports, dryRun))
  })
).pipe(
  Command.withAlias("pull"),
  withHelp(
    "Stage 1: copy every Neon invalid row into the workspace (re-runs merge only what changed on Neon)",
    ["enrich-sync backfill", "pull both entities"],
    ["enrich-sync pull --entity company --dry-run", "show what a pull of companies would write"]
  )
)
