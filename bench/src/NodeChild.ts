/**
 * Runs a Node program of this repo as a child process and measures it: wall time, peak resident memory
 * (from `getrusage` through the `PeakRss.js` preload, and from `/proc` samples), CPU time, stdout, and the
 * tail of stderr.
 *
 * Invariant: a child started here never outlives the bench: `kill()` (called by the scope that owns it)
 * sends SIGTERM, then SIGKILL after a grace period, and waits for the exit.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { readFileSync, rmSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { type RssSampler, sampleRss } from "./RssSampler.ts"

/** The repository root (bench/src/../..). */
export const repoRoot = fileURLToPath(new URL("../../", import.meta.url))

const preload = new URL("./PeakRss.js", import.meta.url).href

/** What a finished child did. */
export interface ChildResult {
  readonly exitCode: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  /** the last 4 KB of stderr */
  readonly stderrTail: string
  readonly wallMs: number
  /** getrusage maxrss at exit (MB), null when the preload could not report it */
  readonly maxRssMb: number | null
  /** the largest VmRSS/VmHWM sampled from /proc (MB) */
  readonly sampledMaxRssMb: number
  readonly cpuMs: number | null
}

/** A running child. */
export interface RunningChild {
  readonly pid: number
  readonly process: ChildProcess
  readonly sampler: RssSampler
  /** resolves when the child exits */
  readonly done: Promise<ChildResult>
  /** SIGTERM, then SIGKILL after `graceMs` (default 10 s); resolves when it has exited */
  readonly kill: (graceMs?: number) => Promise<ChildResult>
  /** stdout lines as they come */
  readonly onLine: (f: (line: string) => void) => void
}

/** Options of a child. */
export interface ChildOptions {
  /** the script and its arguments, relative to the repo root */
  readonly args: ReadonlyArray<string>
  readonly env: Readonly<Record<string, string>>
  readonly cwd: string
  /** where the preload writes the peak memory (a file in a temporary folder) */
  readonly reportFile: string
  /** extra flags for node itself (e.g. `--cpu-prof`) */
  readonly nodeFlags?: ReadonlyArray<string>
}

/** Starts `node --import PeakRss.js <args>` with the environment of this process plus `env`. */
export const startNodeChild = (options: ChildOptions): RunningChild => {
  rmSync(options.reportFile, { force: true })
  const started = performance.now()
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeFlags ?? []),
      "--import",
      preload,
      ...options.args.map((a) => (/\.(ts|js)$/.test(a) ? join(repoRoot, a) : a))
    ],
    {
      cwd: options.cwd,
      env: { ...process.env, ...options.env, BENCH_PEAK_RSS_FILE: options.reportFile, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"]
    }
  )
  const pid = child.pid ?? -1
  const sampler = sampleRss(pid)
  let stdout = ""
  let stderr = ""
  let partial = ""
  const lineListeners: Array<(line: string) => void> = []
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    // a long-lived child (the daemon) logs for minutes: keep the last 4 MB
    stdout = stdout.length > 4 * 1024 * 1024 ? (stdout + chunk).slice(-2 * 1024 * 1024) : stdout + chunk
    if (lineListeners.length === 0) return
    partial += chunk
    const lines = partial.split("\n")
    partial = lines.pop() ?? ""
    for (const line of lines) for (const f of lineListeners) f(line)
  })
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-4096)
  })
  const done = new Promise<ChildResult>((resolve) => {
    child.once("exit", (code, signal) => {
      const wallMs = performance.now() - started
      sampler.stop()
      let report: { maxRssKb?: number; userCpuMs?: number; systemCpuMs?: number } = {}
      try {
        report = JSON.parse(readFileSync(options.reportFile, "utf8"))
      } catch {
        // killed hard: no report
      }
      // let the pipes drain
      setImmediate(() =>
        resolve({
          exitCode: code,
          signal,
          stdout,
          stderrTail: stderr,
          wallMs,
          maxRssMb: report.maxRssKb === undefined ? null : Math.round((report.maxRssKb / 1024) * 10) / 10,
          sampledMaxRssMb: sampler.peaks().maxRssMb,
          cpuMs:
            report.userCpuMs === undefined || report.systemCpuMs === undefined
              ? null
              : Math.round(report.userCpuMs + report.systemCpuMs)
        })
      )
    })
  })
  const kill = async (graceMs = 10_000): Promise<ChildResult> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM")
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs)
      const result = await done
      clearTimeout(timer)
      return result
    }
    return done
  }
  return { pid, process: child, sampler, done, kill, onLine: (f) => lineListeners.push(f) }
}

/** A child for the scope: started on acquisition, killed (and awaited) when the scope closes. */
export const scopedNodeChild = (options: ChildOptions): Effect.Effect<RunningChild, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => startNodeChild(options)),
    (child) => Effect.promise(() => child.kill(5_000))
  )

/** Runs a child to its end; interrupting the effect kills the child. */
export const runNodeChild = (options: ChildOptions): Effect.Effect<ChildResult> =>
  Effect.scoped(Effect.flatMap(scopedNodeChild(options), (child) => Effect.promise(() => child.done)))

/**
 * A command as the root package.json's script `name` runs it (`pnpm start`, `pnpm enrich-sync`): its node
 * flags (the heap sizing the program is meant to run with) and its script.
 */
export const scriptCommand = (
  name: string
): { readonly nodeFlags: ReadonlyArray<string>; readonly script: string } => {
  const text: string = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")).scripts[name]
  const [node, ...rest] = text.split(/\s+/)
  const script = rest.at(-1)
  if (node !== "node" || script === undefined || !/\.(ts|js)$/.test(script))
    throw new Error(`the ${name} script is not \`node [flags] <script>\`: ${text}`)
  return { nodeFlags: rest.slice(0, -1), script }
}
