/**
 * The flags most commands share (`--entity`, `--batch-size`, `--dry-run`, `--json`, `--push-on`, and
 * `--backup-dir` of `promote` and `pipeline`), defined once so every command spells and documents them the
 * same way.
 */
import type { Entity } from "@enrich-sync/core"
import { Company, enrichmentStatuses, Person } from "@enrich-sync/core"
import { Flag } from "effect/cli"
import * as Option from "effect/Option"
import { parsePushOn } from "./CliConfig.ts"

/** `--entity company|people|all` (default all). */
export const entity = Flag.Literals("entity", ["company", "people", "all"]).pipe(
  Flag.withDescription("which records (default all)"),
  Flag.withDefault("all")
)

/**
 * Each stage's batch size when `--batch-size` is not given, which its help states: the merge stages write
 * a batch in slices, re-validation and promotion in one statement (so larger batches pay off).
 */
export const defaultBatchSize = {
  backfill: 2000,
  push: 2000,
  verify: 2000,
  revalidate: 5000,
  promote: 5000
} as const

const batchSizeFlag = (description: string) =>
  Flag.Int("batch-size").pipe(
    Flag.withDescription(description),
    Flag.filterMap(
      (n) => (n >= 1 && n <= 1_000_000 ? Option.some(n) : Option.none()),
      (n) => `Expected a whole number from 1 to 1000000, got ${n}`
    ),
    Flag.optional
  )

/** `--batch-size N` of a one-stage command: records per batch, `defaultSize` when absent. */
export const batchSize = (defaultSize: number) =>
  batchSizeFlag(`records per batch (default ${defaultSize}); each batch commits on its own`)

/** `--batch-size N` of `pipeline`: one size for every stage, else each stage's own default. */
export const pipelineBatchSize = batchSizeFlag(
  `records per batch of every stage (default: each stage's own, ${defaultBatchSize.backfill} for backfill and push, ${defaultBatchSize.revalidate} for revalidate and promote); each batch commits on its own`
)

/** `--dry-run`: read and plan, print what would be written, write nothing. */
export const dryRun = Flag.Boolean("dry-run").pipe(
  Flag.withDescription("read and plan, print what would be written, write nothing"),
  Flag.withDefault(false)
)

/** `--json`: one JSON object on stdout. */
export const json = Flag.Boolean("json").pipe(
  Flag.withDescription("print one machine-readable JSON object on stdout (progress and logs stay on stderr)"),
  Flag.withDefault(false)
)

/** `--push-on complete,...`: which enrichment statuses push workspace edits to Neon. */
export const pushOn = Flag.String("push-on").pipe(
  Flag.withDescription(
    `comma list of enrichment statuses whose workspace edits are pushed (${enrichmentStatuses.join(", ")}; default ENRICH_SYNC_PUSH_ON, else complete)`
  ),
  Flag.filterMap(
    (text) => Option.fromNullishOr(parsePushOn(text)),
    (text) => `Expected a comma list of ${enrichmentStatuses.join(", ")}, got "${text}"`
  ),
  Flag.optional
)

/** `--backup-dir DIR`: where promote's backups go (the engine's default when absent). */
export const backupDir = Flag.String("backup-dir").pipe(
  Flag.withDescription("folder of the JSON-lines backups of promoted rows (default ./.enrich-sync/backups)"),
  Flag.withMetavar("DIR"),
  Flag.optional
)

/** The entities an `--entity` value selects. */
export const selectEntities = (value: "company" | "people" | "all"): ReadonlyArray<Entity> =>
  value === "company" ? [Company] : value === "people" ? [Person] : [Company, Person]

/** `{ batchSize }`: the flag's value when it was given, else `defaultSize` (the one its help states). */
export const batchOption = (
  value: Option.Option<number>,
  defaultSize: number
): { readonly batchSize: number } => ({ batchSize: Option.getOrElse(value, () => defaultSize) })

/** `{ backupDir }` when the flag was given, `{}` otherwise (for `exactOptionalPropertyTypes`). */
export const backupDirOption = (value: Option.Option<string>): { readonly backupDir?: string } =>
  Option.isSome(value) ? { backupDir: value.value } : {}
