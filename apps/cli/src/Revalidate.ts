/**
 * `enrich-sync revalidate`, stage 4 on its own: runs the validation rules again on Neon (every row of the
 * invalid tables, or with `--only-enriched` those whose enrichment is `complete`, as the guide's
 * `revalidate-enriched`) with
 * the engine's `revalidateEntity`, prints PASSED / FAILED counts, and hands the PASSED ids on: to
 * `--passed-ids-file F`, or, when stdout is a pipe (and not `--json`), on stdout one per line so that
 * `enrich-sync revalidate | enrich-sync promote` works; the counts then go to stderr.
 *
 * Invariants: needs Neon only (SUPABASE_DATABASE_URL is not read); with `--dry-run` nothing is written,
 * not even the ids file, and no ids go down a pipe (they would be ids that were not marked PASSED).
 */
import type { Entity } from "@enrich-sync/core"
import type { DatabaseError, RevalidateReport, SourceDatabase } from "@enrich-sync/engine"
import { revalidateEntity } from "@enrich-sync/engine"
import { Command, Flag } from "effect/cli"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { commandLayer } from "./CliConfig.ts"
import { withHelp } from "./CommandHelp.ts"
import * as Flags from "./CommonFlags.ts"
import { writeIdsFile } from "./IdsFile.ts"
import { formatSeconds, formatTable, Output } from "./Output.ts"
import { requireSource } from "./Preflight.ts"
import { withProgress } from "./Progress.ts"

/** Options of a re-validation run. */
export interface RevalidateRunOptions {
  readonly entities: ReadonlyArray<Entity>
  /** only the rows whose enrichment is complete */
  readonly onlyEnriched: boolean
  readonly batchSize?: number
  readonly dryRun: boolean
}

/** Re-validates the entities, one after the other (the schema is checked by the caller). */
export const runRevalidate = ({
  entities,
  ...options
}: RevalidateRunOptions): Effect.Effect<
  ReadonlyArray<RevalidateReport>,
  DatabaseError,
  SourceDatabase | Output
> =>
  withProgress((onProgress) =>
    Effect.forEach(entities, (entity) => revalidateEntity(entity, { ...options, onProgress }))
  )

/** The human summary of a re-validation. */
export const renderRevalidate = (
  reports: ReadonlyArray<RevalidateReport>,
  onlyEnriched: boolean,
  dryRun: boolean
): string => {
  const rows: Array<Array<string | number>> = [["entity", "checked", "PASSED", "FAILED", "changed", "time"]]
  for (const r of reports) {
    rows.push([r.entity, r.checked, r.passed, r.failed, r.changed, formatSeconds(r.durationMs)])
  }
  const passed = reports.reduce((n, r) => n + r.passed, 0)
  const failed = reports.reduce((n, r) => n + r.failed, 0)
  const contended = reports.flatMap((r) => r.contended)
  const which = onlyEnriched ? "rows with enrichment_status complete" : "every row"
  return [
    `Re-validation on Neon (${which})${dryRun ? " (dry run: nothing was written)" : ""}`,
    formatTable(rows),
    `PASSED: ${passed.toLocaleString("en-US")}`,
    `FAILED: ${failed.toLocaleString("en-US")}${failed > 0 ? " (validation_errors still present: enrich them further)" : ""}`,
    ...(contended.length > 0
      ? [
          `Left as they were (edited during the run, re-run revalidate): ${contended.slice(0, 20).join(", ")}${contended.length > 20 ? ` ... and ${(contended.length - 20).toLocaleString("en-US")} more` : ""}`
        ]
      : [])
  ].join("\n")
}

/** `--only-enriched`: re-validate only the rows whose enrichment is complete. */
export const onlyEnrichedRows = Flag.Boolean("only-enriched").pipe(
  Flag.withDescription("re-validate only the rows whose enrichment_status is complete (default: every row)"),
  Flag.withDefault(false)
)

/** `--passed-ids-file F`. */
const passedIdsFile = Flag.String("passed-ids-file").pipe(
  Flag.withDescription("write the PASSED ids to this file, one per line (the input of `promote`)"),
  Flag.withMetavar("FILE"),
  Flag.optional
)

/** The `revalidate` command. */
export const revalidateCommand = Command.make(
  "revalidate",
  {
    entity: Flags.entity,
    onlyEnriched: onlyEnrichedRows,
    passedIdsFile,
    batchSize: Flags.batchSize(Flags.defaultBatchSize.revalidate),
    dryRun: Flags.dryRun,
    json: Flags.json
  },
  Effect.fn(function* ({ entity, onlyEnriched, passedIdsFile, batchSize, dryRun, json }) {
    const output = yield* Output
    yield* output.begin("revalidate", { json })
    const pipeIds = Option.isNone(passedIdsFile) && !json && !output.stdoutIsTerminal
    if (pipeIds) yield* output.useStdoutForData
    const reports = yield* Effect.gen(function* () {
      yield* requireSource
      return yield* runRevalidate({
        entities: Flags.selectEntities(entity),
        onlyEnriched,
        ...Flags.batchOption(batchSize, Flags.defaultBatchSize.revalidate),
        dryRun
      })
    }).pipe(Effect.provide(commandLayer("source")))
    const passedIds = reports.flatMap((r) => r.passedIds)
    let written: string | null = null
    if (Option.isSome(passedIdsFile) && !dryRun) {
      yield* writeIdsFile(passedIdsFile.value, passedIds)
      written = passedIdsFile.value
    }
    yield* output.result({
      dryRun,
      onlyEnriched,
      passed: passedIds.length,
      failed: reports.reduce((n, r) => n + r.failed, 0),
      passedIdsFile: written,
      entities: reports
    })
    yield* output.print(renderRevalidate(reports, onlyEnriched, dryRun))
    if (written !== null) yield* output.print(`PASSED ids written to ${written} (${passedIds.length})`)
    else if (Option.isSome(passedIdsFile))
      yield* output.print(`dry run: ${passedIdsFile.value} was not written`)
    if (pipeIds && !dryRun) yield* output.data(passedIds)
    else if (pipeIds) yield* output.print("dry run: the PASSED ids are not printed for a pipe")
  })
).pipe(
  withHelp(
    "Stage 4: run the validation rules again on Neon and print PASSED / FAILED counts (and the PASSED ids)",
    ["enrich-sync revalidate --passed-ids-file passed.txt", "write the PASSED ids to a file"],
    ["enrich-sync revalidate | enrich-sync promote", "promote exactly what passed"]
  )
)
