/**
 * Runs one CLI stage (`node apps/cli/bin/enrich-sync.js <command> --entity company --json`) as a child process
 * against the bench's databases (through the run's links), and reads its one JSON result and its process figures (wall time, peak
 * RSS, CPU time). When the CLI cannot run at all (no JSON result: it does not load), the same stage runs
 * through the engine in `EngineStage.ts`, and the run says so.
 *
 * Invariant: a stage's child is killed if the bench is interrupted while it runs.
 */

import { join } from "node:path"
import * as Effect from "effect/Effect"
import { type CpuReading, type CpuSubjects, startCpuMeter } from "./CpuMeter.ts"
import { type ProfileSummary, profileFlags, summariseProfile } from "./CpuProfile.ts"
import { type LinkDelta, type Links, linkDelta } from "./Links.ts"
import { type ChildResult, runNodeChild } from "./NodeChild.ts"
import { type Program, programCommand } from "./Program.ts"
import { phaseStatements, resetPhaseStatements, type StatementFigure } from "./StatementStats.ts"
import { round } from "./Stats.ts"

/** Where a stage runs. */
export interface StageContext {
  /** the run's round trip (0: loopback, no links) */
  readonly rttMs: number
  /** the databases, directly (the bench's own set-up and checks) */
  readonly neonUrl: string
  readonly workspaceUrl: string
  /** the same databases through the run's links (what the programs under test get) */
  readonly linked: { readonly neonUrl: string; readonly workspaceUrl: string }
  /** a temporary working folder (no `.env`; promote's backups go here) */
  readonly workDir: string
  /** the servers whose CPU time is measured around each stage */
  readonly subjects: Omit<CpuSubjects, "child">
  /** profile the stage's process (`--profile`) */
  readonly profile: boolean
  /** the CLI measured: the package's bundle or the sources */
  readonly program: Program
  /** the run's links (what they carried during each stage is reported) */
  readonly links: Links
}

/** A CLI stage. */
export type Stage = "backfill" | "verify" | "promote"

/** A stage's run. */
export interface StageRun {
  /** `cli`, or `engine-script` when the CLI could not run */
  readonly runner: "cli" | "engine-script"
  readonly command: string
  /** the JSON result said `ok: true` and the process exited 0 */
  readonly ok: boolean
  readonly result: Record<string, unknown> | null
  /** wall time of the process, start-up included */
  readonly processSeconds: number | null
  /** the larger of getrusage's maxrss and the /proc samples (MB) */
  readonly peakRssMb: number
  readonly cpuSeconds: number | null
  /** why the CLI was not used, or what failed */
  readonly problem: string | null
  /** CPU seconds of the stage's process and of each server while it ran */
  readonly cpu: CpuReading
  /** the hottest functions of the stage's process (with `--profile`) */
  readonly profile: ProfileSummary | null
  /** what each link carried while it ran (exchanges: requests that followed a reply), null without links */
  readonly links: LinkDelta | null
  /** the statements with the most execution time on each side while it ran */
  readonly statements: {
    readonly neon: ReadonlyArray<StatementFigure> | null
    readonly workspace: ReadonlyArray<StatementFigure> | null
  } | null
}

const parseResult = (stdout: string): Record<string, unknown> | null => {
  const lines = stdout.split("\n").filter((l) => l.trim().startsWith("{"))
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      return JSON.parse(lines[i]!) as Record<string, unknown>
    } catch {
      // not JSON: keep looking
    }
  }
  return null
}

/** The CLI as `pnpm enrich-sync` runs it (its node flags), from the package's bundle or the sources. */
const cliCommand = (context: StageContext) => programCommand("enrich-sync", context.program)

const cliArgs = (stage: Stage, context: StageContext): ReadonlyArray<string> => [
  cliCommand(context).script,
  stage,
  "--entity",
  "company",
  "--json",
  ...(stage === "promote" ? ["--backup-dir", join(context.workDir, "backups")] : [])
]

/** A reading with the (exited) child's CPU time from its own getrusage, which /proc no longer has. */
const withChildCpu = (cpu: CpuReading, childSeconds: number | null): CpuReading => ({
  ...cpu,
  childSeconds: childSeconds === null ? null : round(childSeconds, 2),
  otherProcessesSeconds: Math.max(0, round(cpu.otherProcessesSeconds - (childSeconds ?? 0), 2) ?? 0)
})

const toRun = (
  runner: StageRun["runner"],
  command: string,
  child: ChildResult,
  problem: string | null,
  cpu: CpuReading
): StageRun => {
  const result = parseResult(child.stdout)
  const ok = child.exitCode === 0 && result?.ok === true
  const failure = ok
    ? null
    : `exit ${child.exitCode ?? child.signal}: ${(result?.error as { message?: string } | undefined)?.message ?? child.stderrTail.trim().split("\n").slice(-3).join(" | ")}`
  return {
    runner,
    command,
    ok,
    result,
    processSeconds: round(child.wallMs / 1000, 3),
    peakRssMb: Math.max(child.maxRssMb ?? 0, child.sampledMaxRssMb),
    cpuSeconds: child.cpuMs === null ? null : round(child.cpuMs / 1000, 2),
    problem: [problem, failure].filter((p) => p !== null).join("; ") || null,
    cpu: withChildCpu(cpu, child.cpuMs === null ? null : child.cpuMs / 1000),
    statements: null,
    profile: null,
    links: null
  }
}

let runs = 0

/** Runs `stage` through the CLI (or, when the CLI does not load, through the engine). */
export const runStage = (stage: Stage, context: StageContext): Effect.Effect<StageRun> =>
  Effect.gen(function* () {
    const env = {
      NEON_DATABASE_URL: context.linked.neonUrl,
      SUPABASE_DATABASE_URL: context.linked.workspaceUrl
    }
    const reportFile = join(context.workDir, `${stage}.rss.json`)
    const args = cliArgs(stage, context)
    yield* Effect.promise(() => resetPhaseStatements(context.neonUrl, context.workspaceUrl))
    const linksBefore = yield* Effect.promise(() => context.links.stats())
    const meter = startCpuMeter(context.subjects)
    const profileDir = join(context.workDir, "profiles", `${stage}-${++runs}`)
    const nodeFlags = [...cliCommand(context).nodeFlags, ...(context.profile ? profileFlags(profileDir) : [])]
    const cli = yield* runNodeChild({ args, env, cwd: context.workDir, reportFile, nodeFlags })
    const cpu = meter.read()
    const links = linkDelta(linksBefore, yield* Effect.promise(() => context.links.stats()))
    const statements = yield* Effect.promise(() => phaseStatements(context.neonUrl, context.workspaceUrl))
    const profile = context.profile ? summariseProfile(profileDir) : null
    const run = {
      ...toRun("cli", `enrich-sync ${args.slice(1).join(" ")}`, cli, null, cpu),
      statements,
      profile,
      links
    }
    if (run.result !== null) return run
    const fallbackMeter = startCpuMeter(context.subjects)
    const fallback = yield* runNodeChild({
      args: [
        "bench/src/EngineStage.ts",
        stage,
        ...(stage === "promote" ? [join(context.workDir, "backups")] : [])
      ],
      env,
      cwd: context.workDir,
      reportFile
    })
    return toRun(
      "engine-script",
      `node bench/src/EngineStage.ts ${stage}`,
      fallback,
      `the CLI printed no JSON result (${run.problem ?? "no output"}), so the engine ran the stage in a child script`,
      fallbackMeter.read()
    )
  })
