/**
 * Ids files (`--passed-ids-file`) and standard input: one Barton ID per line, blank lines and `#` comments
 * ignored (a `#` after an id starts a comment too).
 *
 * Invariants: a file is checked in full before anything uses it: any other line fails the whole read with
 * an error naming the file, the line number and the bad text; a written ids file appears complete or not
 * at all (written beside its path, then renamed).
 */

import { fstatSync } from "node:fs"
import { isBartonId } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Result from "effect/Result"
import { CliFailure } from "./CliFailure.ts"
import { writeWholeFile } from "./WholeFile.ts"

/** What stdin is called in messages. */
export const stdinName = "standard input"

const quote = (text: string) => JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text)

/** Parses the text of an ids file named `name`: the ids in order, each once, or the failure naming bad lines. */
export const parseIds = (text: string, name: string): Result.Result<ReadonlyArray<string>, CliFailure> => {
  const ids: Array<string> = []
  const seen = new Set<string>()
  const bad: Array<string> = []
  let badCount = 0
  text.split(/\r?\n/).forEach((raw, index) => {
    const hash = raw.indexOf("#")
    const line = (hash >= 0 ? raw.slice(0, hash) : raw).trim()
    if (line === "") return
    if (!isBartonId(line)) {
      badCount++
      if (bad.length < 3) bad.push(`${name}:${index + 1}: ${quote(line)}`)
      return
    }
    if (!seen.has(line)) {
      seen.add(line)
      ids.push(line)
    }
  })
  if (badCount === 0) return Result.succeed(ids)
  const more = badCount > bad.length ? ` (and ${badCount - bad.length} more)` : ""
  const verb = badCount === 1 ? "is not a Barton ID" : "are not Barton IDs"
  return Result.fail(
    new CliFailure({
      reason: "Input",
      message: `${bad.join(", ")}${more} ${verb} (NN.NN.NN.NN.NNNNN.NNN); fix or remove ${badCount === 1 ? "that line" : "those lines"} (one Barton ID per line; blank lines and # comments are ignored), nothing was changed`
    })
  )
}

/** Reads and checks the ids file at `path`. */
export const readIdsFile = (
  path: string
): Effect.Effect<ReadonlyArray<string>, CliFailure, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const text = yield* fs.readFileString(path).pipe(
      Effect.mapError(
        (e) =>
          new CliFailure({
            reason: "Input",
            message: `cannot read the ids file ${path} (${e.reason._tag === "NotFound" ? "no such file" : e.message}); check the path given to --passed-ids-file`
          })
      )
    )
    return yield* Effect.fromResult(parseIds(text, path))
  })

/** Reads and checks the ids on standard input (until it closes). */
export const readIdsStdin: Effect.Effect<ReadonlyArray<string>, CliFailure> = Effect.gen(function* () {
  const text = yield* Effect.tryPromise({
    try: async () => {
      const chunks: Array<Buffer> = []
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
      return Buffer.concat(chunks).toString("utf8")
    },
    catch: (e) =>
      new CliFailure({
        reason: "Input",
        message: `cannot read ids from ${stdinName} (${e instanceof Error ? e.message : String(e)}); pass them with --passed-ids-file instead`
      })
  })
  return yield* Effect.fromResult(parseIds(text, stdinName))
})

/**
 * Whether standard input carries data (a pipe, a redirected file or a socket), as opposed to a terminal,
 * `/dev/null` or nothing at all.
 */
export const stdinCarriesInput: Effect.Effect<boolean> = Effect.sync(() => {
  try {
    const stat = fstatSync(0)
    return stat.isFIFO() || stat.isFile() || stat.isSocket()
  } catch {
    return false
  }
})

/** Writes `ids` to `path`, one per line, atomically (a temporary file beside it, then a rename). */
export const writeIdsFile = (
  path: string,
  ids: ReadonlyArray<string>
): Effect.Effect<void, CliFailure, FileSystem.FileSystem> =>
  writeWholeFile(
    path,
    ids.map((id) => `${id}\n`).join(""),
    (cause) => `cannot write the ids file ${path} (${cause}); check that its folder exists and is writable`
  )
