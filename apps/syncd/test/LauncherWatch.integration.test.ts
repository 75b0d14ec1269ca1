/**
 * A daemon started by a package manager stops when that package manager is killed (a supervisor's
 * SIGKILL after its stop timeout): through a stand-in launcher (`node` -> `sh -c` -> the daemon, as pnpm
 * runs scripts), and through `pnpm start` itself on the embedded default. And a second daemon on a data
 * folder in use says so at once, with the pid, starting nothing.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { eventually, startDaemon } from "./support/DaemonProcess.ts"
import { freshDatabases } from "./support/Databases.ts"

const root = fileURLToPath(new URL("../../..", import.meta.url))
const syncdBin = join(root, "apps/cli/bin/syncd.js")

const running = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Collects a child's output; resolves `exited` with its code. */
const watch = (child: ChildProcess) => {
  let text = ""
  child.stdout?.on("data", (c: Buffer) => {
    text += c.toString()
  })
  child.stderr?.on("data", (c: Buffer) => {
    text += c.toString()
  })
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()))
  return { output: () => text, exited }
}

/** The pid of the daemon, read from `ps` as the child of the launcher's shell. */
const daemonPid = async (launcher: number): Promise<number> => {
  let pid = 0
  await eventually("the daemon runs under the launcher's shell", async () => {
    const ps = spawn("ps", ["-eo", "pid=,ppid=,args="])
    const out = await new Promise<string>((resolve) => {
      let text = ""
      ps.stdout.on("data", (c: Buffer) => {
        text += c.toString()
      })
      ps.on("exit", () => resolve(text))
    })
    const rows = out
      .split("\n")
      .map((l) => l.trim().split(/\s+/))
      .map(([p, pp, ...args]) => ({ pid: Number(p), ppid: Number(pp), args: args.join(" ") }))
    const shells = rows.filter((r) => r.ppid === launcher).map((r) => r.pid)
    const daemon = rows.find((r) => shells.includes(r.ppid) && r.args.includes("syncd.js"))
    pid = daemon?.pid ?? 0
    return pid !== 0
  })
  return pid
}

describe("syncd and the process that launched it", () => {
  it("stops when the package manager that started it is killed with SIGKILL", async () => {
    const dbs = await freshDatabases()
    try {
      // what pnpm does: a script under `sh -c`, with npm_lifecycle_event set
      const launcher = spawn(
        process.execPath,
        [
          "-e",
          `require("node:child_process").spawn("sh", ["-c", ${JSON.stringify(`exec_me=1; "${process.execPath}" "${syncdBin}"`)}], { stdio: "inherit" }); setInterval(() => {}, 1000)`
        ],
        {
          env: {
            PATH: process.env.PATH ?? "",
            HOME: process.env.HOME ?? "",
            npm_lifecycle_event: "start",
            NEON_DATABASE_URL: dbs.neonUrl,
            SUPABASE_DATABASE_URL: dbs.workspaceUrl,
            ENRICH_SYNC_SLOT: "launcher_watch",
            ENRICH_SYNC_ANTI_ENTROPY_MINUTES: "0"
          },
          stdio: ["ignore", "pipe", "pipe"]
        }
      )
      const out = watch(launcher)
      const pid = await daemonPid(launcher.pid!)
      await eventually("the daemon is live", async () => out.output().includes("syncd live"), 60_000)
      launcher.kill("SIGKILL")
      await eventually("the daemon stopped", async () => !running(pid), 20_000)
      assert.include(out.output(), "the package manager that started syncd")
    } finally {
      await dbs.drop()
    }
  })

  /**
   * Runs `pnpm start` on the embedded default in a fresh data folder (in a process group of its own), hands
   * `stop` the launcher once the daemon is live, then waits until the daemon and both embedded servers are
   * gone; returns everything pnpm printed.
   */
  const pnpmStartThen = async (stop: (pnpm: ChildProcess) => void): Promise<string> => {
    const dataDir = mkdtempSync(join(tmpdir(), "syncd-pnpm-start-"))
    // the servers run as the postgres user, who must be able to enter the folder
    chmodSync(dataDir, 0o755)
    try {
      const pnpm = spawn("pnpm", ["start"], {
        cwd: root,
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ENRICH_SYNC_DATA_DIR: dataDir },
        stdio: ["ignore", "pipe", "pipe"],
        detached: true
      })
      const out = watch(pnpm)
      await eventually("the demo daemon is live", async () => out.output().includes("syncd live"), 90_000)
      const pid = Number(readFileSync(join(dataDir, "syncd.pid"), "utf8"))
      const postmasters = ["neon", "workspace"].map((name) =>
        Number(readFileSync(join(dataDir, name, "postmaster.pid"), "utf8").split("\n")[0])
      )
      stop(pnpm)
      await eventually("the daemon stopped", async () => !running(pid), 30_000)
      await eventually("both embedded servers stopped", async () => !postmasters.some(running), 30_000)
      return out.output()
    } finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
  }

  it("`pnpm start` killed with SIGKILL leaves no daemon and no embedded server running", async () => {
    await pnpmStartThen((pnpm) => pnpm.kill("SIGKILL"))
  }, 180_000)

  it("`pnpm start` stopped with SIGTERM (its whole process group, as Ctrl-C or a supervisor does) stops gracefully, not at once", async () => {
    const output = await pnpmStartThen((pnpm) => process.kill(-pnpm.pid!, "SIGTERM"))
    // pnpm leaves at once; the daemon's stop must not take that for a second signal
    assert.include(output, "stopping: finished")
    assert.notInclude(output, "again: stopping at once")
  }, 180_000)

  it("a second daemon on a data folder in use fails at once naming the pid, and starts nothing", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "syncd-in-use-"))
    const holder = spawn("sleep", ["60"], { stdio: "ignore" })
    try {
      writeFileSync(join(dataDir, "syncd.pid"), `${holder.pid}\n`)
      const started = Date.now()
      const second = startDaemon({ ENRICH_SYNC_DATA_DIR: dataDir })
      assert.strictEqual(await second.exited, 1)
      assert.isBelow(Date.now() - started, 20_000)
      const output = second.output()
      assert.include(output, `in use by another syncd (pid ${holder.pid})`)
      assert.notMatch(output, /remove|delete/i)
      assert.isFalse(existsSync(join(dataDir, "neon")), "no server was started")
    } finally {
      holder.kill("SIGKILL")
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})
