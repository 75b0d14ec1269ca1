/**
 * Helpers of the tests that watch processes and folders: whether a process runs, and a temporary folder
 * the postgres user can enter, removed with the scope.
 */
import { chmod, mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Effect from "effect/Effect"

/** Whether process `pid` runs (and this process may signal it). */
export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** A new folder under the OS temp folder (mode 0755: the postgres user can enter it), removed with the scope. */
export const temporaryFolder = (prefix: string) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const dir = await mkdtemp(join(tmpdir(), `enrich-sync-${prefix}-`))
      await chmod(dir, 0o755)
      return dir
    }),
    (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
  )
