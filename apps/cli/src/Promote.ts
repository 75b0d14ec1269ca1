/**
 * `enrich-sync promote`, stage 5: moves PASSED rows from the Neon invalid tables to the master tables with
 * the engine's `promoteEntity` (a JSON-lines backup of every promoted row is written and synced first; the
 * workspace rows are marked promoted, never deleted).
 *
 * Which rows: the ids of `--passed-ids-file F` (`-` for standard input), else the ids on standard input
 * when it is a pipe or a file (`enrich-sync revalidate | enrich-sync promote`), else every PASSED row.
 *
 * Invariants: the ids are read and checked in full before anything connects or writes, so an ids file
 * with a bad line promotes nothing; an id is promoted only if its row is PASSED (the engine checks again
 * under lock), every other id is listed with the reason.
 */
import type { Entity } from "@enrich-sync/core"
import { qualified } from "@enrich-sync/core"
import type {
  BackupError,
  DatabaseError,
  PromoteReport,
  SkippedKey,
  SourceDatabase,
  WorkspaceDatabase
} from "@enrich-sync/engine"
import { promoteEntity } from "@enrich-sync/engine"
import { Command, Flag } from "effect/cli"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { withHelp } from "./CommandHelp.ts"
import * as Flags from "./CommonFlags.ts"
import { readIdsFile, readIdsStdin, stdinCarriesInput, stdinName } from "./IdsFile.ts"
import { formatTable, Output } from "./Output.ts"
import { withBothSides } from "./Preflight.ts"
import { withProgress } from "./Progress.ts"

/** Options of a promotion run. */
export interface PromoteRunOptions {
  readonly entities: ReadonlyArray<Entity>
  /** the ids to promote; absent: every PASSED row */
  readonly ids?: ReadonlyArray<string>
  readonly batchSize?: number
  readonly dryRun: boolean
  readonly backupDir?: string
}

/** What a promotion run did over its entities. */
export interface PromoteRun {
  readonly ids: number | null
  readonly entities: ReadonlyArray<PromoteReport>
  readonly promoted: number
  /** the ids not promoted by any entity, with the reason */
  readonly skipped: ReadonlyArray<SkippedKey>
  readonly backupFiles: ReadonlyArray<string>
}

const notFound = (reason: string) => reason.startsWith("not in ")

/**
 * Merges the skipped ids of the entities: an id given to every entity is promoted by at most one, and is
 * "not in" the others' tables; it is reported only if no entity promoted it, with the most telling reason.
 */
export const mergeSkipped = (
  entities: ReadonlyArray<Entity>,
  reports: ReadonlyArray<PromoteReport>,
  ids: ReadonlyArray<string> | null
): ReadonlyArray<SkippedKey> => {
  if (ids === null || reports.length <= 1) return reports.flatMap((r) => r.skipped)
  const byKey = new Map<string, Array<SkippedKey>>()
  for (const report of reports) {
    for (const s of report.skipped) byKey.set(s.key, [...(byKey.get(s.key) ?? []), s])
  }
  const tables = entities.map((e) => qualified(e.sourceTable)).join(" nor ")
  const merged: Array<SkippedKey> = []
  for (const [key, list] of byKey) {
    // skipped by fewer entities than there are: one of them promoted it
    if (list.length < reports.length) continue
    const telling = list.filter((s) => !notFound(s.reason))
    merged.push({
      key,
      reason: telling.length > 0 ? telling.map((s) => s.reason).join("; ") : `not in ${tables}`,
      ...(telling.some((s) => s.unpushedEdits === true) ? { unpushedEdits: true as const } : {})
    })
  }
  return merged
}

/** Promotes the entities, one after the other (the schema is checked by the caller). */
export const runPromote = ({
  entities,
  ...options
}: PromoteRunOptions): Effect.Effect<
  PromoteRun,
  DatabaseError | BackupError,
  SourceDatabase | WorkspaceDatabase | Output
> =>
  withProgress((onProgress) =>
    Effect.forEach(entities, (entity) => promoteEntity(entity, { ...options, onProgress }))
  ).pipe(
    Effect.map((reports) => ({
      ids: options.ids === undefined ? null : options.ids.length,
      entities: reports,
      promoted: reports.reduce((n, r) => n + r.promoted, 0),
      skipped: mergeSkipped(entities, reports, options.ids ?? null),
      backupFiles: reports.flatMap((r) => (r.backupFile === null ? [] : [r.backupFile]))
    }))
  )

/** The human summary of a promotion. */
export const renderPromote = (run: PromoteRun, source: string, dryRun: boolean): string => {
  const rows: Array<Array<string | number>> = [
    ["entity", "promoted", "updated in master", "still invalid", "workspace marked"]
  ]
  for (const r of run.entities)
    rows.push([r.entity, r.promoted, r.updatedInMaster, r.stillInvalid, r.workspaceMarked])
  const lines = [
    `Promote to the master tables (${source})${dryRun ? " (dry run: nothing was written, no backup made)" : ""}`,
    formatTable(rows),
    `${dryRun ? "Would promote" : "Promoted"}: ${run.promoted.toLocaleString("en-US")}`
  ]
  for (const file of run.backupFiles) lines.push(`Backup of the promoted rows: ${file}`)
  lines.push(...notPromotedLines(run))
  return lines.join("\n")
}

/** The ids a promotion left out, with the reason: the first 20, then how many more. */
export const notPromotedLines = (run: PromoteRun): ReadonlyArray<string> =>
  run.skipped.length === 0
    ? []
    : [
        `Not promoted (${run.skipped.length}):`,
        ...run.skipped.slice(0, 20).map((s) => `  ${s.key}  ${s.reason}`),
        ...(run.skipped.length > 20 ? [`  ... and ${run.skipped.length - 20} more (see --json)`] : [])
      ]

/** `--passed-ids-file F` (`-`: standard input). */
export const passedIdsInput = Flag.String("passed-ids-file").pipe(
  Flag.withDescription(
    "promote only the ids in this file, one Barton ID per line (- reads standard input); default: the ids on standard input when it is a pipe, else every PASSED row"
  ),
  Flag.withMetavar("FILE"),
  Flag.optional
)

/** The ids to promote and where they came from (read and checked in full), or none for every PASSED row. */
const readIds = (file: Option.Option<string>) =>
  Effect.gen(function* () {
    if (Option.isSome(file)) {
      if (file.value === "-")
        return { ids: Option.some(yield* readIdsStdin), source: `ids from ${stdinName}` }
      return { ids: Option.some(yield* readIdsFile(file.value)), source: `ids from ${file.value}` }
    }
    if (yield* stdinCarriesInput)
      return { ids: Option.some(yield* readIdsStdin), source: `ids from ${stdinName}` }
    return { ids: Option.none<ReadonlyArray<string>>(), source: "every PASSED row" }
  })

/** The `promote` command. */
export const promoteCommand = Command.make(
  "promote",
  {
    entity: Flags.entity,
    passedIdsFile: passedIdsInput,
    backupDir: Flags.backupDir,
    batchSize: Flags.batchSize(Flags.defaultBatchSize.promote),
    dryRun: Flags.dryRun,
    json: Flags.json
  },
  Effect.fn(function* ({ entity, passedIdsFile, backupDir, batchSize, dryRun, json }) {
    const output = yield* Output
    yield* output.begin("promote", { json })
    const { ids, source } = yield* readIds(passedIdsFile)
    const run = yield* withBothSides(() =>
      runPromote({
        entities: Flags.selectEntities(entity),
        ...(Option.isSome(ids) ? { ids: ids.value } : {}),
        ...Flags.backupDirOption(backupDir),
        ...Flags.batchOption(batchSize, Flags.defaultBatchSize.promote),
        dryRun
      })
    )
    yield* output.result({ dryRun, idsFrom: source, ...run })
    yield* output.print(renderPromote(run, source, dryRun))
  })
).pipe(
  withHelp(
    "Stage 5: move PASSED rows to the master tables (backup first; a row whose workspace edits are not pushed yet is left out, with the reason; workspace rows are marked promoted, not deleted)",
    ["enrich-sync promote --passed-ids-file passed.txt", "promote the ids revalidate wrote"],
    ["enrich-sync revalidate | enrich-sync promote", "re-validate and promote what passed"],
    ["enrich-sync promote --dry-run", "show what promoting every PASSED row would do"]
  )
)
