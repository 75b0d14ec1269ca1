/**
 * The CLI stages of issue 3 on the seeded companies, in the order a user runs them: `backfill` into the
 * empty workspace, `backfill` again with nothing changed, `verify`, then `promote` of rows marked PASSED.
 * Each stage runs as a child process (see `StageRunner.ts`); its throughput comes from the engine's own
 * `durationMs` in the JSON result (the work of the stage), and the process' wall time (Node start-up and
 * connecting included) is reported beside it with the verdict it would give.
 *
 * The targets depend on the run's round trip: on loopback the raised ones of issue 14 (backfill at least
 * the raw COPY pipe, verify within 10x a `count(*)` of both tables, promote's peak RSS) beside issue 3's;
 * over a link, issue 14's WAN targets (backfill at least 0.8x the COPY pipe through the same links, verify
 * within 2x its own loopback time).
 *
 * Invariant: every figure carries its baseline, its ratio, its target and pass/fail; a stage that failed
 * reports why and fails its targets.
 */
import { Company, qualified } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import type { CopyBaseline } from "./CopyBaseline.ts"
import type { CountBaseline } from "./CountBaseline.ts"
import type { InsertBaseline } from "./InsertBaseline.ts"
import { withConnection } from "./Sql.ts"
import { runStage, type StageContext, type StageRun } from "./StageRunner.ts"
import { perSecond, ratio, round } from "./Stats.ts"
import { allPass, atLeast, atMost, below, type Target } from "./Target.ts"

type Json = Record<string, unknown>

const firstEntity = (run: StageRun): Json | null => {
  const entities = run.result?.entities
  return Array.isArray(entities) && entities.length > 0 ? (entities[0] as Json) : null
}

const stageSeconds = (report: Json | null): number | null =>
  typeof report?.durationMs === "number" ? report.durationMs / 1000 : null

const processFigures = (run: StageRun) => ({
  runner: run.runner,
  command: run.command,
  ok: run.ok,
  processSeconds: run.processSeconds,
  cpuSeconds: run.cpuSeconds,
  peakRssMb: run.peakRssMb,
  cpu: run.cpu,
  statements: run.statements,
  ...(run.links === null ? {} : { links: run.links }),
  ...(run.profile === null ? {} : { profile: run.profile }),
  ...(run.problem === null ? {} : { problem: run.problem })
})

/** CHECKPOINT on both servers, so no stage pays for the previous one's dirty buffers. */
export const settle = (context: StageContext) =>
  Effect.promise(() =>
    Promise.all(
      [context.neonUrl, context.workspaceUrl].map((url) =>
        withConnection(url, (sql) => sql.execute("CHECKPOINT"))
      )
    )
  )

/** The first backfill, into the empty workspace table, against both baselines. */
export const benchBackfill = (
  context: StageContext,
  rows: number,
  copy: CopyBaseline,
  insert: InsertBaseline
) =>
  Effect.gen(function* () {
    yield* settle(context)
    const run = yield* runStage("backfill", context)
    const report = firstEntity(run)
    const seconds = run.ok ? stageSeconds(report) : null
    const rowsPerSecond = seconds === null ? null : perSecond(rows, seconds * 1000)
    const processRowsPerSecond =
      run.ok && run.processSeconds !== null ? perSecond(rows, run.processSeconds * 1000) : null
    const targets: Record<string, Target> = {
      ratioToCopy: atLeast(round(ratio(rowsPerSecond, copy.rowsPerSecond), 3), context.rttMs === 0 ? 1 : 0.8),
      ratioToInsert: atLeast(round(ratio(rowsPerSecond, insert.rowsPerSecond), 1), 30),
      peakRssMb: below(run.ok ? run.peakRssMb : null, 300)
    }
    return {
      seconds: round(seconds, 3),
      rowsPerSecond: round(rowsPerSecond, 0),
      path: report?.path ?? null,
      copied: report?.copied ?? null,
      baselineCopyRowsPerSecond: copy.rowsPerSecond,
      ratioToCopy: targets.ratioToCopy!.value,
      baselineInsertRowsPerSecond: insert.rowsPerSecond,
      baselineInsertSampleRows: insert.sampleRows,
      ratioToInsert: targets.ratioToInsert!.value,
      // the ceiling of ratioToInsert on these servers: what the raw COPY pipe itself reaches
      copyBaselineToInsertBaseline: round(ratio(copy.rowsPerSecond, insert.rowsPerSecond), 1),
      peakRssMb: run.peakRssMb,
      processRowsPerSecond: round(processRowsPerSecond, 0),
      processRatioToCopy: round(ratio(processRowsPerSecond, copy.rowsPerSecond), 3),
      process: processFigures(run),
      targets,
      pass: allPass(targets)
    }
  })

/** The second backfill with nothing changed on Neon, against the first. */
export const benchSecondBackfill = (context: StageContext, firstSeconds: number | null) =>
  Effect.gen(function* () {
    yield* settle(context)
    const run = yield* runStage("backfill", context)
    const report = firstEntity(run)
    const seconds = run.ok ? stageSeconds(report) : null
    const targets = { speedupOverFirst: atLeast(round(ratio(firstSeconds, seconds), 2), 3) }
    return {
      seconds: round(seconds, 3),
      firstBackfillSeconds: round(firstSeconds, 3),
      speedupOverFirst: targets.speedupOverFirst.value,
      path: report?.path ?? null,
      candidates: report?.candidates ?? null,
      unchanged: report?.unchanged ?? null,
      peakRssMb: run.peakRssMb,
      process: processFigures(run),
      targets,
      pass: allPass(targets)
    }
  })

/**
 * `verify` of both sides (rows per side as seeded), against `count(*)` of both tables through the same
 * links and, over a link, against its own loopback time (`loopbackSeconds`, null when the run had none).
 */
export const benchVerify = (
  context: StageContext,
  rows: number,
  count: CountBaseline,
  loopbackSeconds: number | null
) =>
  Effect.gen(function* () {
    yield* settle(context)
    const run = yield* runStage("verify", context)
    const report = (firstEntity(run)?.report ?? null) as Json | null
    const seconds = run.ok ? stageSeconds(report) : null
    const ratioToCount = round(ratio(seconds, count.seconds), 1)
    const ratioToLoopback = round(ratio(seconds, loopbackSeconds), 2)
    const targets: Record<string, Target> =
      context.rttMs === 0
        ? { seconds: below(round(seconds, 3), 10), ratioToCount: atMost(ratioToCount, 10) }
        : loopbackSeconds === null
          ? {}
          : { ratioToLoopback: atMost(ratioToLoopback, 2) }
    return {
      seconds: round(seconds, 3),
      rowsPerSide: rows,
      baselineCountSeconds: count.seconds,
      countBaseline: count,
      ratioToCount,
      loopbackSeconds,
      ratioToLoopback,
      ...(Object.keys(targets).length === 0
        ? {
            note: "no loopback run in this bench (--rtt without 0): the target of 2x the loopback time has nothing to compare with"
          }
        : {}),
      neonRows: report?.neonRows ?? null,
      workspaceRows: report?.workspaceRows ?? null,
      inSync: report?.inSync ?? null,
      differingBuckets: report?.differingBuckets ?? null,
      processPass: run.processSeconds !== null && run.processSeconds < 10,
      peakRssMb: run.peakRssMb,
      process: processFigures(run),
      targets,
      pass: (Object.keys(targets).length === 0 || allPass(targets)) && report?.inSync === true
    }
  })

/** Marks `count` Neon rows PASSED with one UPDATE, then `promote`s them. */
export const benchPromote = (context: StageContext, count: number) =>
  Effect.gen(function* () {
    const marked = yield* Effect.promise(() =>
      withConnection(context.neonUrl, async (sql) => {
        const started = performance.now()
        const n = await sql.execute(
          `UPDATE ${qualified(Company.sourceTable)} SET validation_status = 'PASSED' WHERE id <= $1`,
          [count]
        )
        return { rows: n, seconds: round((performance.now() - started) / 1000, 3) }
      })
    )
    yield* settle(context)
    const run = yield* runStage("promote", context)
    const report = firstEntity(run)
    const seconds = run.ok ? stageSeconds(report) : null
    const promoted = typeof report?.promoted === "number" ? report.promoted : null
    const rowsPerSecond = promoted === null || seconds === null ? null : perSecond(promoted, seconds * 1000)
    const targets: Record<string, Target> = {
      rowsPerSecond: atLeast(round(rowsPerSecond, 0), 20_000),
      ...(context.rttMs === 0 ? { peakRssMb: below(run.ok ? run.peakRssMb : null, 200) } : {})
    }
    return {
      seconds: round(seconds, 3),
      markedPassed: marked.rows,
      markPassedSeconds: marked.seconds,
      promoted,
      rowsPerSecond: targets.rowsPerSecond!.value,
      workspaceMarked: report?.workspaceMarked ?? null,
      skipped: Array.isArray(report?.skipped) ? report.skipped.length : null,
      stillInvalid: report?.stillInvalid ?? null,
      peakRssMb: run.peakRssMb,
      process: processFigures(run),
      targets,
      pass: allPass(targets) && promoted === count
    }
  })
