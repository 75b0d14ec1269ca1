/**
 * Whether a process runs, as the owners of pid files ask it: a running process (this one, a child) runs; a
 * child that exited, and a pid no process can have, do not; a process of another user runs too, though this
 * one may not signal it (`EPERM`).
 */
import { spawn } from "node:child_process"
import { statSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { processAlive } from "../src/ProcessAlive.ts"

/** Above the largest `pid_max` Linux allows (2^22): no process has it. */
const impossiblePid = 2 ** 22 + 1

/** A child that runs until killed, and a way to wait for its exit (after which Node has reaped it). */
const sleeper = () => {
  const child = spawn("/bin/sh", ["-c", "while :; do sleep 1; done"], { stdio: "ignore" })
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  return { pid: child.pid!, kill: () => child.kill("SIGKILL"), exited }
}

/**
 * `processAlive` of each of `pids`, asked by a process of the user `nobody`: a child of this one (root) that
 * loads the module, then drops to that user before it asks.
 */
const askedAsNobody = (pids: ReadonlyArray<number>) =>
  new Promise<Array<boolean>>((resolve, reject) => {
    const module = fileURLToPath(new URL("../src/ProcessAlive.ts", import.meta.url))
    const script = `import { processAlive } from ${JSON.stringify(module)}
      process.setgid(65534); process.setuid(65534)
      if (process.getuid() !== 65534) throw new Error("still root")
      process.stdout.write(JSON.stringify(${JSON.stringify(pids)}.map(processAlive)))`
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    let err = ""
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()))
    child.on("error", reject)
    child.on("exit", (code) =>
      code === 0 ? resolve(JSON.parse(out) as Array<boolean>) : reject(new Error(`exit ${code}: ${err}`))
    )
  })

describe("processAlive", () => {
  it("a running process runs: this one, and a child until it is killed and gone", async () => {
    assert.isTrue(processAlive(process.pid))
    const child = sleeper()
    try {
      assert.isTrue(processAlive(child.pid))
    } finally {
      child.kill()
    }
    await child.exited
    assert.isFalse(processAlive(child.pid))
  })

  it("a pid no process has does not run", () => {
    assert.isFalse(processAlive(impossiblePid))
  })

  it("a process of another user runs, though it may not be signalled (EPERM)", async () => {
    if (process.getuid?.() === 0) {
      // asked by nobody: this root process is foreign to it, the impossible pid still gone
      assert.deepStrictEqual(await askedAsNobody([process.pid, impossiblePid]), [true, false])
    } else {
      // init belongs to root here
      assert.notStrictEqual(statSync("/proc/1").uid, process.getuid?.())
      assert.isTrue(processAlive(1))
    }
  })
})
