/**
 * The orphan guard without PostgreSQL: when its owner is killed (SIGKILL), the guard signals the process
 * named in `postmaster.pid` (SIGQUIT for a throw-away cluster, whose folder it then removes; SIGINT, a
 * fast shutdown, for a persistent one, whose folder stays); while the owner lives, it does nothing.
 */
import { spawn } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { isAlive, temporaryFolder } from "./support/Processes.ts"

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

/** A stand-in postmaster guarded in a fresh folder by an owner that is then killed; the signal it got. */
const orphaned = (mode: "persistent" | "throw-away") =>
  Effect.gen(function* () {
    const parent = yield* temporaryFolder("guard-test")
    const root = join(parent, "cluster")
    const { process: child, pid } = yield* owner(root, mode)
    yield* Effect.sleep("300 millis")
    assert.isTrue(isAlive(pid), "nothing happens while the owner lives")
    child.kill("SIGKILL")
    assert.isTrue(yield* eventually(() => !isAlive(pid)), "the stand-in postmaster was stopped")
    return { root, signal: readFileSync(join(parent, `${mode}.signal`), "utf8").trim() }
  })

describe("OrphanGuard", () => {
  it.live("a throw-away cluster's postmaster gets SIGQUIT when its owner dies, and its folder goes", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { root, signal } = yield* orphaned("throw-away")
        assert.strictEqual(signal, "QUIT")
        assert.isTrue(yield* eventually(() => !existsSync(root)))
      })
    )
  )

  it.live("a persistent cluster's postmaster gets SIGINT (a fast shutdown) and its folder stays", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { root, signal } = yield* orphaned("persistent")
        assert.strictEqual(signal, "INT")
        assert.isTrue(existsSync(join(root, "data")))
      })
    )
  )
})
