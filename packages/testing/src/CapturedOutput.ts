/**
 * What an effect writes on the process's stdout and stderr, captured instead of printed: the tests of what
 * the CLI prints and of the redacting logger read it write by write. The original `write` functions are put
 * back when the effect ends, however it ends.
 */
import * as Effect from "effect/Effect"

/** The process's two output streams. */
export type OutputStream = "stdout" | "stderr"

/** What was written on each stream, one entry per write (a chunk of bytes decoded as UTF-8). */
export type CapturedOutput = { readonly [S in OutputStream]: Array<string> }

/** Runs `effect` with stdout and stderr captured (one entry per write), and returns what was written. */
export const capturingOutput = <A, E, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<CapturedOutput, E, R> =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const written: CapturedOutput = { stdout: [], stderr: [] }
      const original = { stdout: process.stdout.write, stderr: process.stderr.write }
      for (const stream of ["stdout", "stderr"] as const) {
        process[stream].write = ((chunk: string | Uint8Array) => {
          written[stream].push(typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk))
          return true
        }) as typeof process.stdout.write
      }
      return { written, original }
    }),
    ({ written }) => Effect.as(effect, written),
    ({ original }) =>
      Effect.sync(() => {
        process.stdout.write = original.stdout
        process.stderr.write = original.stderr
      })
  )
