/**
 * `enrich-sync push`, stage 3: merges the workspace rows whose enrichment status is pushable (default
 * `complete`, see `--push-on`) and whose edits are not on Neon yet, with the engine's `pushEntity`
 * (compare-and-swap on both sides, re-validated and logged to `shq_validation_log` on Neon).
 *
 * Invariant: a re-run with no new edits writes nothing; `--dry-run` writes nothing and lists what it would
 * push.
 */
import type { Entity, MergePolicy } from "@enrich-sync/core"
import type { DatabaseError, PushReport, SourceDatabase, WorkspaceDatabase } from "@enrich-sync/engine"
import { pushEntity } from "@enrich-sync/engine"
import { Command } from "effect/cli"
import * as Effect from "effect/Effect"
import { withHelp } from "./CommandHelp.ts"
import * as Flags from "./CommonFlags.ts"
import { mergeCounts, wouldWrite } from "./MergeSummary.ts"
import { formatSeconds, formatTable, Output } from "./Output.ts"
import { withBothSides } from "./Preflight.ts"
import { withProgress } from "./Progress.ts"

/** Options of a push run. */
export interface PushRunOptions {
  readonly entities: ReadonlyArray<Entity>
  readonly batchSize?: number
  readonly dryRun: boolean
  readonly policy: MergePolicy
}

/** Pushes the entities, one after the other (the schema is checked by the caller). */
export const runPush = ({
  entities,
  ...options
}: PushRunOptions): Effect.Effect<
  ReadonlyArray<PushReport>,
  DatabaseError,
  SourceDatabase | WorkspaceDatabase | Output
> =>
  withProgress((onProgress) =>
    Effect.forEach(entities, (entity) => pushEntity(entity, { ...options, onProgress }))
  )

/** The human summary of a push. */
export const renderPush = (
  reports: ReadonlyArray<PushReport>,
  dryRun: boolean,
  policy: MergePolicy
): string => {
  const rows: Array<Array<string | number>> = [
    ["entity", "to push", "pushed", "conflicts", "time", "details"]
  ]
  for (const r of reports) {
    rows.push([
      r.entity,
      r.candidates,
      r.merge?.pushed ?? 0,
      r.merge?.conflicts ?? 0,
      formatSeconds(r.durationMs),
      r.candidates === 0 ? "nothing to push" : mergeCounts(r.merge)
    ])
  }
  const statuses = policy.pushOn.join(", ")
  const title = `Push workspace -> Neon (rows with enrichment_status ${statuses})${dryRun ? " (dry run: nothing was written)" : ""}`
  return [title, formatTable(rows), ...wouldWrite(reports, dryRun)].join("\n")
}

/** The `push` command. */
export const pushCommand = Command.make(
  "push",
  {
    entity: Flags.entity,
    batchSize: Flags.batchSize(Flags.defaultBatchSize.push),
    dryRun: Flags.dryRun,
    json: Flags.json,
    pushOn: Flags.pushOn
  },
  Effect.fn(function* ({ entity, batchSize, dryRun, json, pushOn }) {
    const output = yield* Output
    yield* output.begin("push", { json })
    const { reports, policy } = yield* withBothSides(
      (policy) =>
        runPush({
          entities: Flags.selectEntities(entity),
          ...Flags.batchOption(batchSize, Flags.defaultBatchSize.push),
          dryRun,
          policy
        }).pipe(Effect.map((reports) => ({ reports, policy }))),
      pushOn
    )
    yield* output.result({ dryRun, pushOn: policy.pushOn, entities: reports })
    yield* output.print(renderPush(reports, dryRun, policy))
  })
).pipe(
  withHelp(
    "Stage 3: push enriched workspace rows (enrichment_status complete) back to the Neon invalid tables",
    ["enrich-sync push", "push every complete row with edits Neon has not seen"],
    ["enrich-sync push --dry-run --entity company", "list the company rows a push would write"]
  )
)
