/**
 * `enrich-sync verify`: compares both sides with the engine's `verifyEntity` and prints what differs: rows
 * missing on either side, rows whose Neon projection changed since both sides last agreed, and rows with
 * workspace edits not synced yet. `--repair` runs the merge on exactly those keys, then compares again and
 * reports what is left (edits held back by the push policy stay unsynced by design).
 *
 * Invariant: without `--repair` nothing is written. The exit code is 0 whether or not differences are found
 * (they are the result, `inSync` in `--json`); it is non-zero only when the comparison itself fails.
 */
import type { Entity, MergePolicy } from "@enrich-sync/core"
import type {
  DatabaseError,
  KeyList,
  SourceDatabase,
  VerifyReport,
  WorkspaceDatabase
} from "@enrich-sync/engine"
import { verifyEntity } from "@enrich-sync/engine"
import { Command, Flag } from "effect/cli"
import * as Effect from "effect/Effect"
import { withHelp } from "./CommandHelp.ts"
import * as Flags from "./CommonFlags.ts"
import { mergeCounts } from "./MergeSummary.ts"
import { formatTable, Output } from "./Output.ts"
import { withBothSides } from "./Preflight.ts"
import { withProgress } from "./Progress.ts"

/** What verify found for one entity, and after a repair, what is left. */
export interface VerifyResult {
  readonly report: VerifyReport
  /** the comparison after the repair (only with `--repair`) */
  readonly after: VerifyReport | null
}

/** Options of a verify run. */
export interface VerifyRunOptions {
  readonly entities: ReadonlyArray<Entity>
  readonly repair: boolean
  readonly deep: boolean
  readonly batchSize?: number
  readonly policy: MergePolicy
}

/** Verifies (and repairs) the entities, one after the other (the schema is checked by the caller). */
export const runVerify = ({
  entities,
  repair,
  ...options
}: VerifyRunOptions): Effect.Effect<
  ReadonlyArray<VerifyResult>,
  DatabaseError,
  SourceDatabase | WorkspaceDatabase | Output
> =>
  withProgress((onProgress) =>
    Effect.forEach(entities, (entity) =>
      Effect.gen(function* () {
        const common = { ...options, onProgress }
        const report = yield* verifyEntity(entity, { ...common, repair })
        const after = repair && !report.inSync ? yield* verifyEntity(entity, common) : null
        return { report, after }
      })
    )
  )

/** [report field, long label, column header] */
const categories: ReadonlyArray<readonly [keyof VerifyReport & string, string, string]> = [
  ["missingInWorkspace", "missing in the workspace", "missing in workspace"],
  ["missingOnNeon", "missing on Neon", "missing on Neon"],
  ["neonChanged", "changed on Neon, not merged", "Neon changed"],
  ["unsyncedEdits", "unsynced workspace edits", "unsynced edits"],
  ["corruptBase", "corrupt sync base", "corrupt base"]
]

const list = (report: VerifyReport, field: string) => report[field as keyof VerifyReport] as KeyList

const differenceCount = (report: VerifyReport) =>
  categories.reduce((n, [field]) => n + list(report, field).count, 0)

/** The human summary of a verify. */
export const renderVerify = (results: ReadonlyArray<VerifyResult>, repair: boolean): string => {
  const rows: Array<Array<string | number>> = [
    ["entity", "Neon rows", "workspace rows", ...categories.map(([, , header]) => header), "in sync"]
  ]
  for (const { report } of results) {
    rows.push([
      report.entity,
      report.neonRows,
      report.workspaceRows,
      ...categories.map(([field]) => list(report, field).count),
      report.inSync ? "yes" : "no"
    ])
  }
  const lines = ["Verify Neon <-> workspace", formatTable(rows)]
  const differences: Array<Array<string>> = []
  for (const { report } of results) {
    for (const [field, label] of categories) {
      const keys = list(report, field)
      for (const key of keys.keys.slice(0, 50)) differences.push([report.entity, label, key])
      if (keys.count > Math.min(50, keys.keys.length)) {
        differences.push([
          report.entity,
          label,
          `... and ${keys.count - Math.min(50, keys.keys.length)} more`
        ])
      }
    }
  }
  if (differences.length > 0) lines.push("Differences:", formatTable(differences))
  if (repair) {
    for (const { report, after } of results) {
      if (report.repaired === null) continue
      const left = after === null ? 0 : differenceCount(after)
      lines.push(
        `Repaired ${report.entity}: ${mergeCounts(report.repaired)}${
          left > 0
            ? `; ${left} difference(s) left (${categories
                .filter(([field]) => after !== null && list(after, field).count > 0)
                .map(([field, label]) => `${list(after!, field).count} ${label}`)
                .join(", ")})`
            : "; now in sync"
        }`
      )
    }
  } else if (results.some((r) => !r.report.inSync)) {
    lines.push("Run `enrich-sync verify --repair` to merge exactly these keys.")
  }
  if (results.every((r) => r.report.inSync)) lines.push("Both sides are in sync.")
  return lines.join("\n")
}

/** The `verify` command. */
export const verifyCommand = Command.make(
  "verify",
  {
    entity: Flags.entity,
    repair: Flag.Boolean("repair").pipe(
      Flag.withDescription(
        "merge exactly the differing keys (inserts, Neon changes, pushes, promoted or removed rows)"
      ),
      Flag.withDefault(false)
    ),
    deep: Flag.Boolean("deep").pipe(
      Flag.withDescription(
        "compare every bucket by content (not row versions first) and re-hash every workspace row instead of trusting rows nobody touched since the last merge"
      ),
      Flag.withDefault(false)
    ),
    batchSize: Flags.batchSize(Flags.defaultBatchSize.verify),
    json: Flags.json,
    pushOn: Flags.pushOn
  },
  Effect.fn(function* ({ entity, repair, deep, batchSize, json, pushOn }) {
    const output = yield* Output
    yield* output.begin("verify", { json })
    const results = yield* withBothSides(
      (policy) =>
        runVerify({
          entities: Flags.selectEntities(entity),
          repair,
          deep,
          ...Flags.batchOption(batchSize, Flags.defaultBatchSize.verify),
          policy
        }),
      pushOn
    )
    const inSync = results.every((r) => (r.after ?? r.report).inSync)
    yield* output.result({ inSync, repair, entities: results })
    yield* output.print(renderVerify(results, repair))
  })
).pipe(
  withHelp(
    "Compare both sides and list what differs (missing rows either side, Neon changes not merged, unsynced workspace edits)",
    ["enrich-sync verify", "list the differences"],
    ["enrich-sync verify --repair", "merge exactly the differing keys"]
  )
)
