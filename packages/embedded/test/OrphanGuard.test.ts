/**
 * The orphan guard without PostgreSQL: when its owner is killed (SIGKILL), the guard signals the process
 * named in `postmaster.pid` (SIGQUIT for a throw-away cluster, whose folder it then removes; SIGINT, a
 * fast shutdown, for a persistent one, whose folder stays); while the owner lives, it does nothing.
 */
import { spawn } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Polls `check` every 50 ms of real time for up to 15 s; whether it held. */
const eventually = (check: () => boolean) =>
  Effect.promise(async () => {
    for (let i = 0; i < 300 && !check(); i++) await new Promise((r) => setTimeout(r, 50))
    return check()
  })

/** Starts an owner process guarding a stand-in postmaster in `root`; the stand-in's pid once guarded. */
const owner = (root: string, mode: "persistent" | "throw-away") =>
  Effect.acquireRelease(
    Effect.promise(
      () =>
        new Promise<{ readonly process: ReturnType<typeof spawn>; readonly pid: number }>(
          (resolve, reject) => {
            const child = spawn(
              process.execPath,
              [fileURLToPath(new URL("./support/guard-owner.ts", import.meta.url)), root, mode],
              { stdio: ["ignore", "pipe", "inherit"] }
            )
            let out = ""
            child.stdout!.on("data", (chunk: Buffer) => {
              out += chunk.toString()
              if (out.includes("\n"))
                resolve({ process: child, pid: JSON.parse(out.slice(0, out.indexOf("\n"))).pid })
            })
            child.on("exit", (code) => reject(new Error(`the owner exited early (${code})`)))
          }
        )
    ),
    ({ process: child, pid }) =>
      Effect.sync(() => {
        child.kill("SIGKILL")
        if (isAlive(pid)) process.kill(pid, "SIGKILL")
      })
  )

const folder = Effect.acquireRelease(
  Effect.promise(() => mkdtemp(join(tmpdir(), "enrich-sync-guard-test-"))),
  (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
)

describe("OrphanGuard", () => {
  it.live("a throw-away cluster's postmaster gets SIGQUIT when its owner dies, and its folder goes", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const parent = yield* folder
        const root = join(parent, "cluster")
        const { process: child, pid } = yield* owner(root, "throw-away")
        yield* Effect.sleep("300 millis")
        assert.isTrue(isAlive(pid), "nothing happens while the owner lives")
        child.kill("SIGKILL")
        assert.isTrue(yield* eventually(() => !isAlive(pid)))
        assert.strictEqual(readFileSync(join(parent, "throw-away.signal"), "utf8").trim(), "QUIT")
        assert.isTrue(yield* eventually(() => !existsSync(root)))
      })
    )
  )

  it.live("a persistent cluster's postmaster gets SIGINT (a fast shutdown) and its folder stays", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const parent = yield* folder
        const root = join(parent, "cluster")
        const { process: child, pid } = yield* owner(root, "persistent")
        child.kill("SIGKILL")
        assert.isTrue(yield* eventually(() => !isAlive(pid)))
        assert.strictEqual(readFileSync(join(parent, "persistent.signal"), "utf8").trim(), "INT")
        assert.isTrue(existsSync(join(root, "data")))
      })
    )
  )
})
