/**
 * The files the CLI writes (the manifest, ids files).
 *
 * Invariant: a written file appears complete or not at all (written beside its path, then renamed).
 */
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import { CliFailure } from "./CliFailure.ts"

/**
 * Writes `text` to `path` whole (a temporary file beside it, then a rename); fails with an `Output` failure
 * whose message `message` makes from the cause's.
 */
export const writeWholeFile = (
  path: string,
  text: string,
  message: (cause: string) => string
): Effect.Effect<void, CliFailure, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const temporary = `${path}.${process.pid}.tmp`
    yield* fs.writeFileString(temporary, text).pipe(
      Effect.andThen(fs.rename(temporary, path)),
      // a failed write or rename (onto a folder, say) leaves no partial temporary file behind
      Effect.onError(() => Effect.ignore(fs.remove(temporary))),
      // the message names the file asked for, not the temporary one
      Effect.mapError(
        (e) => new CliFailure({ reason: "Output", message: message(e.message.replaceAll(temporary, path)) })
      )
    )
  })
