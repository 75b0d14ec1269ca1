/**
 * One daemon per embedded data folder: `syncd.pid` in the folder names the daemon that uses it.
 *
 * Invariant: while a daemon holds the lock, a second daemon started on the same folder fails at once,
 * naming the folder and the pid that holds it; a lock left by a daemon that died (its pid no longer runs)
 * is taken over. The lock file is created exclusively (`O_EXCL`), so two daemons starting at the same
 * moment cannot both win (only two taking over the same stale lock in the same instant could). Nothing in
 * the folder is ever removed but the lock file itself.
 */
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs"
import { join } from "node:path"
import { processAlive } from "@enrich-sync/embedded"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

/** Another running daemon uses the data folder. */
export class DataDirInUse extends Schema.TaggedError<DataDirInUse>()("DataDirInUse", {
  dataDir: Schema.String,
  pid: Schema.Number
}) {
  override get message(): string {
    return `the embedded data folder ${this.dataDir} is in use by another syncd (pid ${this.pid}); stop that daemon first (kill ${this.pid}), or set ENRICH_SYNC_DATA_DIR to another folder for a second demo`
  }
}

const holder = (file: string): number | null => {
  try {
    const pid = Number.parseInt(readFileSync(file, "utf8").trim(), 10)
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null
  } catch {
    return null
  }
}

/** The pid of the running daemon that holds the lock of `dataDir`, if any. */
export const holderOf = (dataDir: string): number | null => {
  const pid = holder(join(dataDir, "syncd.pid"))
  return pid !== null && processAlive(pid) ? pid : null
}

/** Takes the lock of `dataDir` (creating the folder) or fails with `DataDirInUse`. */
const acquire = (dataDir: string): Effect.Effect<string, DataDirInUse> =>
  Effect.suspend(() => {
    mkdirSync(dataDir, { recursive: true })
    const file = join(dataDir, "syncd.pid")
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const fd = openSync(file, "wx", 0o644)
        try {
          writeSync(fd, `${process.pid}\n`)
        } finally {
          closeSync(fd)
        }
        return Effect.succeed(file)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error
      }
      const pid = holder(file)
      if (pid !== null && pid !== process.pid && processAlive(pid)) {
        return Effect.fail(new DataDirInUse({ dataDir, pid }))
      }
      // left by a daemon that is gone (or half written by one starting this instant: then the retry sees it)
      try {
        unlinkSync(file)
      } catch {}
    }
    const pid = holder(file)
    return Effect.fail(new DataDirInUse({ dataDir, pid: pid ?? 0 }))
  })

/** Holds the lock of the embedded data folder `dataDir` for the scope. */
export const lockDataDir = (dataDir: string) =>
  Effect.acquireRelease(acquire(dataDir), (file) =>
    Effect.sync(() => {
      if (holder(file) === process.pid) {
        try {
          unlinkSync(file)
        } catch {}
      }
    })
  )
