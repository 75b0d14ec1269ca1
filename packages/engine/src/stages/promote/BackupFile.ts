/**
 * A promotion's backup file: JSON lines, one object per promoted row with all its columns, in a folder of
 * its own, created new for every run (never overwriting one) and readable only by its owner.
 *
 * Invariant: `appendBackup` returns only once the lines are on disk (fsync'ed); a failed append leaves the
 * file as it was before it.
 */
import type { FileHandle } from "node:fs/promises"
import { mkdir, open, unlink } from "node:fs/promises"
import { join, resolve } from "node:path"
import type { Entity } from "@enrich-sync/core"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

/** The promotion backup could not be written: nothing of the batch was promoted. */
export class BackupError extends Schema.TaggedError<BackupError>()("BackupError", {
  /** the file or folder that could not be written */
  path: Schema.String,
  /** one line: what went wrong and how to fix it */
  message: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {}

/** The default folder of the backup files. */
export const defaultBackupDir = "./.enrich-sync/backups"

/** A run's backup file, created before its first batch (its path goes into every batch's log entries). */
export interface BackupFile {
  readonly path: string
  readonly handle: FileHandle
  /** bytes written and fsync'ed */
  size: number
}

const backupError = (path: string, doing: string, cause: unknown) => {
  const detail = cause instanceof Error ? cause.message : String(cause)
  return new BackupError({
    path,
    message: `cannot ${doing} the promotion backup ${path} (${detail}); nothing of this batch was promoted: make the folder writable by this user (permissions), free disk space, or choose another backup folder, then run promote again`,
    cause
  })
}

/** A file name's time stamp (`20251107T163209-123Z`) of epoch milliseconds. */
const fileStamp = (millis: number) => new Date(millis).toISOString().replace(/[-:]/g, "").replace(".", "-")

/** Creates the folder and a new backup file in it (never overwriting one), durable with its directory entry. */
export const createBackup = (entity: Entity, dir: string): Effect.Effect<BackupFile, BackupError> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => {
    const folder = resolve(dir)
    return Effect.tryPromise({
      try: async () => {
        await mkdir(folder, { recursive: true })
        const stamp = fileStamp(now)
        for (let n = 0; ; n++) {
          const path = join(folder, `${entity.name}-promote-${stamp}${n === 0 ? "" : `-${n}`}.jsonl`)
          try {
            const handle = await open(path, "wx+", 0o600)
            const directory = await open(folder, "r")
            await directory.sync().finally(() => directory.close())
            return { path, handle, size: 0 }
          } catch (error) {
            if ((error as { code?: string }).code !== "EEXIST") throw error
          }
        }
      },
      catch: (error) => backupError(folder, "create", error)
    })
  })

/** Appends rows (each a JSON object) as lines and fsyncs; on failure the file is cut back to what it held. */
export const appendBackup = (
  file: BackupFile,
  rows: ReadonlyArray<string>
): Effect.Effect<void, BackupError> =>
  Effect.tryPromise({
    try: async () => {
      const data = Buffer.from(`${rows.join("\n")}\n`, "utf8")
      const start = file.size
      try {
        await file.handle.write(data, 0, data.length, start)
        await file.handle.sync()
      } catch (error) {
        await file.handle.truncate(start).catch(() => undefined)
        throw error
      }
      file.size = start + data.length
    },
    catch: (error) => backupError(file.path, "write", error)
  })

/** Closes the file (at the end of the run, whatever happened). */
export const closeBackup = (file: BackupFile): Effect.Effect<void> =>
  Effect.promise(() => file.handle.close()).pipe(Effect.ignore)

/** Closes and removes a file that received nothing. */
export const removeBackup = (file: BackupFile): Effect.Effect<void> =>
  Effect.promise(() => file.handle.close().then(() => unlink(file.path))).pipe(Effect.ignore)
