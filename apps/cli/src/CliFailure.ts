/**
 * A failure of the command itself (not of a database): bad configuration, a bad ids file, a usage error.
 *
 * Invariant: `message` is one line that names the problem and says how to fix it (`<problem>; <fix>`), and
 * `exitCode` is 2 for usage errors (flags) and 1 for everything else.
 */
import * as Schema from "effect/Schema"

/** Why the command could not run. */
export const CliFailureReason = Schema.Literals([
  /** missing or malformed environment variables */
  "Configuration",
  /** a bad ids file or standard input */
  "Input",
  /** flags the command does not accept, or bad flag values */
  "Usage",
  /** writing a file failed (ids file, backup) */
  "Output"
])
export type CliFailureReason = typeof CliFailureReason.Type

/** A failure of the command, with the exit code it ends the process with. */
export class CliFailure extends Schema.TaggedError<CliFailure>()("CliFailure", {
  reason: CliFailureReason,
  /** one line: the problem and the fix */
  message: Schema.String
}) {
  /** 2 for usage errors, 1 otherwise */
  get exitCode(): number {
    return this.reason === "Usage" ? 2 : 1
  }
}
