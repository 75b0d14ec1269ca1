/**
 * The flag tests of the stage commands (backfill, push, revalidate), which test their flags alike: command
 * lines with what each parses to, the stage's default batch size as `--help` states it, and command lines
 * with the usage line each is refused with. Backfill and push take the same five flags (--entity,
 * --batch-size, --dry-run, --json, --push-on), so one table of their lines, `mergeStageFlags`, serves both.
 */
import { assert, describe, it } from "@effect/vitest"
import type { Command } from "effect/cli"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { assertParses, assertRefuses, flagHelp } from "./CommandLine.ts"

/** A command line's words after the command's name. */
type Args = ReadonlyArray<string>

/** `line`, written as typed, split into its words (for a line none of whose values holds a space). */
export const words = (line: string): Args => line.split(" ")

/** A stage command's flags as its tests tabulate them. */
export interface StageFlags<Input> {
  /** command lines and what each parses to, the bare command (the defaults) first */
  readonly parses: ReadonlyArray<readonly [args: Args, input: Input]>
  /** command lines and the usage line each is refused with */
  readonly refuses: ReadonlyArray<readonly [args: Args, line: string]>
  /** the stage's default batch size, which the help of --batch-size states */
  readonly defaultBatchSize: number
  /** the names the command answers to, each of which parses every line of `parses` (default: its name) */
  readonly names?: ReadonlyArray<string>
}

/** Tests `command`'s flags by the table `flags`. */
export const testStageFlags = <Name extends string, Input, ContextInput, E, R>(
  command: Command.Command<Name, Input, ContextInput, E, R>,
  flags: StageFlags<NoInfer<Input>>
) =>
  describe(`${command.name}'s flags`, () => {
    it.effect("parse to the defaults when absent, and every value they take, under each name", () =>
      assertParses(
        command,
        (flags.names ?? [command.name]).flatMap((name) =>
          flags.parses.map(([args, input]) => [[name, ...args], input] as const)
        )
      )
    )

    it.effect("state the stage's default batch size in the help", () =>
      Effect.map(flagHelp(command, "batch-size"), (help) =>
        assert.include(help, `(default ${flags.defaultBatchSize})`)
      )
    )

    it.effect("reject a bad value, or a flag the command lacks, with one line naming the flag", () =>
      assertRefuses(
        command,
        flags.refuses.map(([args, line]) => [[command.name, ...args], line] as const)
      )
    )
  })

/** What backfill's and push's flags parse to. */
interface MergeStageInput {
  readonly entity: "company" | "people" | "all"
  readonly batchSize: Option.Option<number>
  readonly dryRun: boolean
  readonly json: boolean
  readonly pushOn: Option.Option<ReadonlyArray<string>>
}

/** The command lines of backfill's and push's flags (each states its own default batch size). */
export const mergeStageFlags: Omit<StageFlags<MergeStageInput>, "defaultBatchSize"> = {
  parses: [
    [[], { entity: "all", batchSize: Option.none(), dryRun: false, json: false, pushOn: Option.none() }],
    [
      [...words("--entity people --batch-size 500 --dry-run --json --push-on"), "Complete, in_progress"],
      {
        entity: "people",
        batchSize: Option.some(500),
        dryRun: true,
        json: true,
        pushOn: Option.some(["complete", "in_progress"])
      }
    ],
    // --push-on is a comma list of statuses, in its order
    [
      words("--entity company --batch-size 1000000 --dry-run --json --push-on in_progress,COMPLETE,"),
      {
        entity: "company",
        batchSize: Option.some(1_000_000),
        dryRun: true,
        json: true,
        pushOn: Option.some(["in_progress", "complete"])
      }
    ]
  ],
  refuses: [
    [
      ["--batch-size", "0"],
      `Invalid value for flag --batch-size: "0". Expected a whole number from 1 to 1000000, got 0`
    ],
    [
      ["--batch-size", "1000001"],
      `Invalid value for flag --batch-size: "1000001". Expected a whole number from 1 to 1000000, got 1000001`
    ],
    [
      ["--entity", "companies"],
      `Invalid value for flag --entity: "companies". Expected: "company" | "people" | "all"`
    ],
    [
      ["--entity", "person"],
      `Invalid value for flag --entity: "person". Expected: "company" | "people" | "all"`
    ],
    [
      ["--push-on", "complete,done"],
      `Invalid value for flag --push-on: "complete,done". Expected a comma list of pending, in_progress, complete, failed, got "complete,done"`
    ],
    [
      ["--push-on", ","],
      `Invalid value for flag --push-on: ",". Expected a comma list of pending, in_progress, complete, failed, got ","`
    ]
  ]
}
