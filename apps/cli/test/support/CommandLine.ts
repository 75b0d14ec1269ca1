/**
 * A command line parsed in-process by one command's own flags, without running the command: its handler is
 * replaced by one that keeps the parsed input, so nothing connects or writes. A usage error becomes the one
 * line the bin prints for it (`usageLine`), and `--help` the help document effect/cli would print. The
 * tests of a command's flags are tables: command lines and what each parses to, or is refused with.
 */

import * as NodeServices from "@effect/platform-node/NodeServices"
import { assert } from "@effect/vitest"
import * as Cause from "effect/Cause"
import { CliError, CliOutput, Command, type HelpDoc } from "effect/cli"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import { cliConfig, usageLine } from "../../src/Cli.ts"

/** What a command line came to: the command's parsed input, or the usage line (without `enrich-sync: `). */
export type Parsed<Input> = Result.Result<Input, string>

const run = <Name extends string, Input, ContextInput, E, R>(
  command: Command.Command<Name, Input, ContextInput, E, R>,
  args: ReadonlyArray<string>
) =>
  Effect.gen(function* () {
    const inputs: Array<Input> = []
    const helps: Array<HelpDoc.HelpDoc> = []
    const capture = Command.withHandler(command, (input: Input) => Effect.sync(() => void inputs.push(input)))
    // under a root named as the bin, so that command paths and usage lines read as the bin prints them
    const root = Command.make("enrich-sync").pipe(Command.withSubcommands([capture]))
    const presenter = CliOutput.layerPresenter({
      present: (event) => Effect.sync(() => void (event._tag === "Help" && helps.push(event.helpDoc)))
    })
    const exit = yield* Command.runWith(root, { version: "0.0.0", renderErrors: false })(args).pipe(
      Effect.provide(Layer.mergeAll(presenter, cliConfig, NodeServices.layer)),
      Effect.exit
    )
    return { exit, inputs, helps }
  })

/** Parses `args`, the words after `enrich-sync` (the command's name or alias first), with `command`'s flags. */
export const parseCommandLine = <Name extends string, Input, ContextInput, E, R>(
  command: Command.Command<Name, Input, ContextInput, E, R>,
  args: ReadonlyArray<string>
): Effect.Effect<Parsed<Input>> =>
  Effect.gen(function* () {
    const { exit, inputs } = yield* run(command, args)
    const [input] = inputs
    if (Exit.isSuccess(exit) && input !== undefined) return Result.succeed(input)
    const error = Exit.isFailure(exit) ? Option.getOrUndefined(Cause.findErrorOption(exit.cause)) : undefined
    if (CliError.isCliError(error) && error._tag === "ShowHelp" && error.errors.length > 0) {
      return Result.fail(usageLine(error.errors, error.commandPath))
    }
    return yield* Effect.die(new Error(`neither an input nor a usage error: ${String(exit)}`))
  })

/** The help document `enrich-sync <command> --help` prints. */
export const helpOf = <Name extends string, Input, ContextInput, E, R>(
  command: Command.Command<Name, Input, ContextInput, E, R>
): Effect.Effect<HelpDoc.HelpDoc> =>
  Effect.flatMap(run(command, [command.name, "--help"]), ({ helps }) => {
    const [help] = helps
    return help === undefined ? Effect.die(new Error("--help printed no help")) : Effect.succeed(help)
  })

/**
 * What `enrich-sync <command> ...args` parses to (`args` are the words after the command's name); a usage
 * error fails with the one line the bin prints for it.
 */
export const parseFlags = <Name extends string, Input, ContextInput, E, R>(
  command: Command.Command<Name, Input, ContextInput, E, R>,
  args: ReadonlyArray<string>
): Effect.Effect<Input, string> =>
  Effect.flatMap(parseCommandLine(command, [command.name, ...args]), (parsed) =>
    Result.isSuccess(parsed) ? Effect.succeed(parsed.success) : Effect.fail(parsed.failure)
  )

/**
 * Asserts what each command line of `cases` parses to with `command`'s flags (a line is the words after
 * `enrich-sync`, the command's name or alias first).
 */
export const assertParses = <Name extends string, Input, ContextInput, E, R>(
  command: Command.Command<Name, Input, ContextInput, E, R>,
  cases: ReadonlyArray<readonly [args: ReadonlyArray<string>, input: NoInfer<Input>]>
): Effect.Effect<void> =>
  Effect.gen(function* () {
    for (const [args, input] of cases) {
      assert.deepStrictEqual(yield* parseCommandLine(command, args), Result.succeed(input), args.join(" "))
    }
  })

/**
 * Asserts the usage line each command line of `cases` is refused with: the line of the case, then the hint
 * every such line ends in, to `enrich-sync <command> --help`.
 */
export const assertRefuses = <Name extends string, Input, ContextInput, E, R>(
  command: Command.Command<Name, Input, ContextInput, E, R>,
  cases: ReadonlyArray<readonly [args: ReadonlyArray<string>, line: string]>
): Effect.Effect<void> =>
  Effect.gen(function* () {
    const hint = `; run \`enrich-sync ${command.name} --help\` for its flags`
    for (const [args, line] of cases) {
      assert.deepStrictEqual(
        yield* parseCommandLine(command, args),
        Result.fail(`${line}${hint}`),
        args.join(" ")
      )
    }
  })

/** What `enrich-sync <command> --help` says of `flag` (its name without the dashes). */
export const flagHelp = <Name extends string, Input, ContextInput, E, R>(
  command: Command.Command<Name, Input, ContextInput, E, R>,
  flag: string
): Effect.Effect<string> =>
  Effect.map(helpOf(command), (help) => {
    const described = help.flags.find((f) => f.name === flag)
    assert.isDefined(described, `--${flag} is in the help`)
    return Option.getOrElse(described!.description, () => "")
  })
