/**
 * One daemon per embedded data folder: the lock names the pid that holds it, a lock left by a dead
 * process is taken over, and releasing removes only the lock file.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import { DataDirInUse, holderOf, lockDataDir } from "../src/DataDirLock.ts"

const withFolder =
  <A>(f: (dir: string) => Promise<A>) =>
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "syncd-lock-"))
    try {
      return await f(dir)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }

const sleeper = (): ChildProcess => spawn("sleep", ["30"], { stdio: "ignore" })

describe("DataDirLock", () => {
  it(
    "writes this process' pid, and removes only the lock file when released",
    withFolder(async (dir) => {
      writeFileSync(join(dir, "keep.txt"), "data")
      await Effect.runPromise(
        Effect.scoped(
          Effect.gen(function* () {
            yield* lockDataDir(dir)
            assert.strictEqual(readFileSync(join(dir, "syncd.pid"), "utf8").trim(), String(process.pid))
          })
        )
      )
      assert.isFalse(existsSync(join(dir, "syncd.pid")))
      assert.isTrue(existsSync(join(dir, "keep.txt")))
    })
  )

  it(
    "fails at once naming the folder and the pid of a running holder",
    withFolder(async (dir) => {
      const other = sleeper()
      try {
        writeFileSync(join(dir, "syncd.pid"), `${other.pid}\n`)
        const exit = await Effect.runPromiseExit(Effect.scoped(lockDataDir(dir)))
        const failure = Option.getOrUndefined(Exit.findErrorOption(exit))
        assert.instanceOf(failure, DataDirInUse)
        const message = failure.message
        assert.include(message, `pid ${other.pid}`)
        assert.include(message, dir)
        assert.notMatch(message, /remove|delete/i)
        assert.strictEqual(holderOf(dir), other.pid)
        assert.strictEqual(readFileSync(join(dir, "syncd.pid"), "utf8").trim(), String(other.pid))
      } finally {
        other.kill("SIGKILL")
      }
    })
  )

  it(
    "takes over a lock left by a process that is gone",
    withFolder(async (dir) => {
      const gone = sleeper()
      gone.kill("SIGKILL")
      await new Promise((resolve) => gone.on("exit", resolve))
      writeFileSync(join(dir, "syncd.pid"), `${gone.pid}\n`)
      assert.isNull(holderOf(dir))
      await Effect.runPromise(
        Effect.scoped(
          Effect.gen(function* () {
            yield* lockDataDir(dir)
            assert.strictEqual(holderOf(dir), process.pid)
          })
        )
      )
    })
  )
})
