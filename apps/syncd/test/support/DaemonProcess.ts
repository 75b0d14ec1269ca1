/**
 * Runs the real daemon (`node apps/cli/bin/syncd.js`, the bin a user runs) as a child process for a test, with the given
 * environment, collecting what it prints; and small polling helpers for assertions on real databases.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import pg from "pg"

const main = fileURLToPath(new URL("../../../cli/bin/syncd.js", import.meta.url))

export interface DaemonProcess {
  readonly process: ChildProcess
  /** everything printed so far (stdout and stderr) */
  output(): string
  /** resolves when a line matches, rejects on exit or timeout */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>
  /** resolves with the exit code */
  exited: Promise<number | null>
  /** SIGTERM, then waits for the exit */
  stop(): Promise<number | null>
  /** SIGKILL, then waits for the exit */
  kill(): Promise<number | null>
}

/**
 * The daemons this test file started and has not stopped: a wait that times out shows what each printed
 * last (a daemon that exited or stopped applying says why there, not in the test's own message).
 */
const running = new Map<ChildProcess, { readonly output: () => string; readonly state: () => string }>()

/** The last lines each running daemon printed, for a failure's message ("" when none runs). */
export const daemonsLastWords = (lines = 40): string =>
  [...running.entries()]
    .map(
      ([child, d]) =>
        `\n--- syncd pid ${child.pid} (${d.state()}), its last ${lines} lines:\n${d
          .output()
          .split("\n")
          .slice(-lines - 1)
          .join("\n")}`
    )
    .join("")

/** Starts the daemon (`syncd [args]`) with exactly `env` (plus PATH and HOME), in `cwd`. */
export const startDaemon = (
  env: Record<string, string>,
  cwd?: string,
  args: ReadonlyArray<string> = []
): DaemonProcess => {
  const child = spawn(process.execPath, [main, ...args], {
    cwd: cwd ?? process.cwd(),
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let text = ""
  const waiters = new Set<() => void>()
  const onData = (chunk: Buffer) => {
    text += chunk.toString("utf8")
    for (const w of waiters) w()
  }
  child.stdout.on("data", onData)
  child.stderr.on("data", onData)
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  let done = false
  let exitCode: number | null = null
  running.set(child, {
    output: () => text,
    state: () => (done ? `exited with ${exitCode ?? "a signal"}` : "running")
  })
  void exited.then((code) => {
    done = true
    exitCode = code
    for (const w of waiters) w()
  })
  const waitFor = (pattern: RegExp, timeoutMs = 30_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const match = text.split("\n").find((line) => pattern.test(line))
        if (match !== undefined) {
          cleanup()
          resolve(match)
        } else if (done) {
          cleanup()
          reject(new Error(`the daemon exited before printing ${pattern}:\n${text}`))
        }
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(new Error(`timed out waiting for ${pattern}:\n${text}`))
      }, timeoutMs)
      const cleanup = () => {
        clearTimeout(timer)
        waiters.delete(check)
      }
      waiters.add(check)
      check()
    })
  return {
    process: child,
    output: () => text,
    waitFor,
    exited,
    stop: async () => {
      running.delete(child)
      if (!done) child.kill("SIGTERM")
      return exited
    },
    kill: async () => {
      running.delete(child)
      if (!done) child.kill("SIGKILL")
      return exited
    }
  }
}

/** Polls `check` until it returns true or the time is up (the error then shows the running daemons' last lines). */
export const eventually = async (
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 20_000
): Promise<void> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check()) return
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}${daemonsLastWords()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Runs one query on a database. */
export const query = async (url: string, sql: string, params: ReadonlyArray<unknown> = []) => {
  const client = new pg.Client({ connectionString: url })
  client.on("error", () => undefined)
  await client.connect()
  try {
    return (await client.query(sql, params as Array<unknown>)).rows
  } finally {
    await client.end()
  }
}

/** A check for `eventually`: the workspace's company row `key` exists and holds `expected` (column: value). */
export const workspaceCompanyHas =
  (workspaceUrl: string, key: string, expected: Readonly<Record<string, unknown>>) =>
  async (): Promise<boolean> => {
    const columns = Object.keys(expected)
    const [row] = await query(
      workspaceUrl,
      `SELECT ${columns.join(", ")} FROM company_needs_enrichment WHERE company_unique_id = $1`,
      [key]
    )
    return row !== undefined && columns.every((c) => row[c] === expected[c])
  }
