/**
 * `enrich-sync pipeline`: the guide's orchestrator. Backfill, then wait for the operator to enrich the
 * records in the workspace (on a terminal: until Enter; with `--no-wait`, or when standard input is not a
 * terminal: not at all), then push, re-validate, and promote exactly the ids that passed, with a summary
 * table at the end. `--dry-run` threads through every stage.
 *
 * Invariant: the stages run in order and each one finishes (commits) before the next starts; a failure stops
 * the pipeline at that stage, and what earlier stages committed stays (each stage is safe to re-run).
 */

import { createInterface } from "node:readline"
import type { BackfillReport, PushReport, RevalidateReport } from "@enrich-sync/engine"
import { Command, Flag } from "effect/cli"
import * as Effect from "effect/Effect"
import { renderBackfill, runBackfill } from "./Backfill.ts"
import { withHelp } from "./CommandHelp.ts"
import * as Flags from "./CommonFlags.ts"
import { formatTable, Output } from "./Output.ts"
import { withBothSides } from "./Preflight.ts"
import type { PromoteRun } from "./Promote.ts"
import { notPromotedLines, renderPromote, runPromote } from "./Promote.ts"
import { renderPush, runPush } from "./Push.ts"
import { renderRevalidate, runRevalidate } from "./Revalidate.ts"

/** The prompt shown while waiting for the operator. */
export const operatorPrompt = "Enrich the records in the workspace, then press Enter (Ctrl-C stops here)"

/** Waits for a line (Enter) or the end of standard input; interruptible. */
const waitForEnter = Effect.callback<void>((resume) => {
  const rl = createInterface({ input: process.stdin, terminal: false })
  const done = () => {
    rl.close()
    resume(Effect.void)
  }
  rl.once("line", done)
  rl.once("close", done)
  return Effect.sync(() => rl.close())
})

/** Waits for the operator when asked to and standard input is a terminal; says why it does not otherwise. */
const waitForOperator = (wait: boolean) =>
  Effect.gen(function* () {
    const output = yield* Output
    if (!wait) return "skipped (--no-wait)"
    if (process.stdin.isTTY !== true) {
      yield* output.note("standard input is not a terminal: continuing without waiting for the operator")
      return "skipped (no terminal)"
    }
    yield* output.note(operatorPrompt)
    yield* waitForEnter
    return "operator pressed Enter"
  })

const sum = <A>(items: ReadonlyArray<A>, f: (a: A) => number) => items.reduce((n, a) => n + f(a), 0)

/** The summary table of a pipeline run: one row per stage, one column per entity. */
export const renderPipelineSummary = (
  backfill: ReadonlyArray<BackfillReport>,
  push: ReadonlyArray<PushReport>,
  revalidate: ReadonlyArray<RevalidateReport>,
  promote: PromoteRun,
  dryRun: boolean
): string => {
  const entities = backfill.map((b) => b.entity)
  const cell = <A extends { readonly entity: string }>(items: ReadonlyArray<A>, f: (a: A) => string) =>
    entities.map((e) => {
      const item = items.find((i) => i.entity === e)
      return item === undefined ? "" : f(item)
    })
  const rows: Array<Array<string>> = [
    ["stage", ...entities],
    [
      "backfill",
      ...cell(backfill, (b) => {
        const inserted = b.copied + (b.merge?.inserted ?? 0)
        const updated = b.merge?.updated ?? 0
        return `${inserted} new, ${updated} updated`
      })
    ],
    [
      "push",
      ...cell(
        push,
        (p) => `${p.merge?.pushed ?? 0} pushed${p.merge?.conflicts ? `, ${p.merge.conflicts} conflicts` : ""}`
      )
    ],
    ["revalidate", ...cell(revalidate, (r) => `${r.passed} PASSED, ${r.failed} FAILED`)],
    ["promote", ...cell(promote.entities, (p) => `${p.promoted} promoted, ${p.stillInvalid} still invalid`)]
  ]
  const lines = [`Pipeline summary${dryRun ? " (dry run: nothing was written)" : ""}`, formatTable(rows)]
  lines.push(
    `Totals: pushed ${sum(push, (p) => p.merge?.pushed ?? 0)}, PASSED ${sum(revalidate, (r) => r.passed)}, FAILED ${sum(revalidate, (r) => r.failed)}, promoted ${promote.promoted}`
  )
  for (const file of promote.backupFiles) lines.push(`Backup of the promoted rows: ${file}`)
  lines.push(...notPromotedLines(promote))
  return lines.join("\n")
}

/** The `pipeline` command. */
export const pipelineCommand = Command.make(
  "pipeline",
  {
    entity: Flags.entity,
    noWait: Flag.Boolean("no-wait").pipe(
      Flag.withoutNegation,
      Flag.withDescription(
        "do not wait for the operator after the backfill: push, revalidate and promote at once (a run without a terminal does not wait either)"
      ),
      Flag.withDefault(false)
    ),
    all: Flag.Boolean("all").pipe(
      Flag.withDescription(
        "re-validate (and so promote) every row of the invalid tables, not only those with enrichment_status complete"
      ),
      Flag.withDefault(false)
    ),
    backupDir: Flags.backupDir,
    batchSize: Flags.pipelineBatchSize,
    dryRun: Flags.dryRun,
    json: Flags.json,
    pushOn: Flags.pushOn
  },
  Effect.fn(function* ({ entity, noWait, all, backupDir, batchSize, dryRun, json, pushOn }) {
    const output = yield* Output
    yield* output.begin("pipeline", { json })
    const entities = Flags.selectEntities(entity)
    const batch = (stage: keyof typeof Flags.defaultBatchSize) =>
      Flags.batchOption(batchSize, Flags.defaultBatchSize[stage])
    const result = yield* withBothSides(
      (policy) =>
        Effect.gen(function* () {
          const backfill = yield* runBackfill({ entities, ...batch("backfill"), dryRun, policy })
          yield* output.print(renderBackfill(backfill, dryRun))
          const waited = yield* waitForOperator(!noWait)
          const push = yield* runPush({ entities, ...batch("push"), dryRun, policy })
          yield* output.print(renderPush(push, dryRun, policy))
          const revalidate = yield* runRevalidate({
            entities,
            onlyEnriched: !all,
            ...batch("revalidate"),
            dryRun
          })
          yield* output.print(renderRevalidate(revalidate, !all, dryRun))
          const ids = revalidate.flatMap((r) => r.passedIds)
          const promote = yield* runPromote({
            entities,
            ids,
            ...batch("promote"),
            ...Flags.backupDirOption(backupDir),
            dryRun
          })
          yield* output.print(renderPromote(promote, "the ids that passed re-validation", dryRun))
          return { waited, policy, backfill, push, revalidate, promote }
        }),
      pushOn
    )
    yield* output.result({
      dryRun,
      waited: result.waited,
      pushOn: result.policy.pushOn,
      backfill: result.backfill,
      push: result.push,
      revalidate: result.revalidate,
      promote: result.promote
    })
    yield* output.print(
      `\n${renderPipelineSummary(result.backfill, result.push, result.revalidate, result.promote, dryRun)}`
    )
  })
).pipe(
  withHelp(
    "The whole pipeline: backfill, wait for the enrichment, push, revalidate, promote, then a summary",
    ["enrich-sync pipeline", "pull, wait for Enter, then push, revalidate and promote"],
    ["enrich-sync pipeline --no-wait --dry-run", "show what every stage would do"]
  )
)
