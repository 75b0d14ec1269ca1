/**
 * A command's `--help`: its description, then its examples, each a command line and what it does.
 */
import { Command } from "effect/cli"

/** An example of a command: the command line, and what it does. */
export type Example = readonly [commandLine: string, does: string]

/** Gives a command its description and examples. */
export const withHelp =
  (description: string, ...examples: ReadonlyArray<Example>) =>
  <const Name extends string, Input, E, R, ContextInput>(
    self: Command.Command<Name, Input, ContextInput, E, R>
  ): Command.Command<Name, Input, ContextInput, E, R> =>
    self.pipe(
      Command.withDescription(description),
      Command.withExamples(examples.map(([command, does]) => ({ command, description: does })))
    )
