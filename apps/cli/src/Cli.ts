/**
 * The `enrich-sync` command: its subcommands, and the one place where a run's failure becomes one line on
 * stderr and an exit code.
 *
 * Exit codes: 0 success; 1 an operational failure (configuration, database, input file, backup); 2 a
 * usage error (unknown command or flag, bad flag value); 130 interrupted (Ctrl-C: the open transaction
 * rolls back). Every failure prints `enrich-sync: <problem>; <fix>` on stderr, redacted, without a stack
 * trace unless ENRICH_SYNC_DEBUG=1.
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import * as Cause from "effect/Cause"
import { CliConfig, CliError, CliOutput, Command, GlobalFlag } from "effect/cli"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import packageJson from "../package.json" with { type: "json" }
import { backfillCommand } from "./Backfill.ts"
import { configProviderLayer } from "./CliConfig.ts"
import { CliFailure } from "./CliFailure.ts"
import { conflictsCommand } from "./Conflicts.ts"
import { manifestCommand } from "./Manifest.ts"
import { migrateCommand } from "./Migrate.ts"
import { Output } from "./Output.ts"
import { pipelineCommand } from "./Pipeline.ts"
import { promoteCommand } from "./Promote.ts"
import { pushCommand } from "./Push.ts"
import { revalidateCommand } from "./Revalidate.ts"
import { statusCommand } from "./Status.ts"
import { verifyCommand } from "./Verify.ts"

/** The root command with every subcommand. */
export const enrichSync = Command.make("enrich-sync").pipe(
  Command.withDescription(
    "Keep the Neon invalid tables and the Supabase enrichment workspace in sync: pull, enrich, push, revalidate, promote"
  ),
  Command.withSubcommands([
    migrateCommand,
    backfillCommand,
    pushCommand,
    revalidateCommand,
    promoteCommand,
    pipelineCommand,
    verifyCommand,
    statusCommand,
    conflictsCommand,
    manifestCommand
  ])
)

/** Ends the process with `code` (read by the runtime's teardown), after the failure has been printed. */
export class ExitCode {
  readonly code: number
  constructor(code: number) {
    this.code = code
  }
  get [Runtime.errorExitCode](): number {
    return this.code
  }
}

const oneLine = (text: string) =>
  text
    .split(/\n\s*\n/)[0]!
    .replace(/\s*\n\s*/g, " ")
    .trim()

const didYouMean = (suggestions: ReadonlyArray<string>) =>
  suggestions.length > 0 ? ` (did you mean ${suggestions.join(" or ")}?)` : ""

/** The one line of a usage error reported by the command-line parser. */
export const usageLine = (
  errors: ReadonlyArray<CliError.CliError>,
  commandPath: ReadonlyArray<string>
): string => {
  const path = commandPath.join(" ")
  const problems = errors.map((error) => {
    switch (error._tag) {
      case "UnrecognizedOption": {
        const where = error.command === undefined ? "" : ` for \`${error.command.join(" ")}\``
        return `unknown flag ${error.option}${where}${didYouMean(error.suggestions)}`
      }
      case "UnknownSubcommand": {
        // `enrich-sync conflicts 12`: an id where a subcommand goes
        const parent = error.parent ?? []
        const meant =
          parent[parent.length - 1] === "conflicts" && /^\d+$/.test(error.subcommand)
            ? [`\`enrich-sync conflicts show ${error.subcommand}\``]
            : error.suggestions
        return `unknown command "${error.subcommand}"${didYouMean(meant)}`
      }
      default:
        return oneLine(error.message)
    }
  })
  const unknownCommand = errors.some((e) => e._tag === "UnknownSubcommand")
  const fix = unknownCommand
    ? "run `enrich-sync --help` for the commands"
    : `run \`${path} --help\` for its flags`
  return `${problems.join("; ")}; ${fix}`
}

interface Described {
  readonly line: string
  readonly code: number
  readonly error: Readonly<Record<string, unknown>>
}

/** What a failed run prints and exits with. */
const describe = (cause: Cause.Cause<unknown>): Described => {
  const error = Option.getOrUndefined(Cause.findErrorOption(cause))
  if (error === undefined) {
    const defect = Cause.squash(cause)
    const message = defect instanceof Error ? defect.message : String(defect)
    return {
      line: `internal error: ${oneLine(message)}; run again with ENRICH_SYNC_DEBUG=1 for the details, and report it`,
      code: 1,
      error: { reason: "Internal", message }
    }
  }
  if (error instanceof CliFailure) {
    return {
      line: error.message,
      code: error.exitCode,
      error: { reason: error.reason, message: error.message }
    }
  }
  if (CliError.isCliError(error)) {
    if (error._tag === "ShowHelp") {
      return error.errors.length > 0
        ? { line: usageLine(error.errors, error.commandPath), code: 2, error: { reason: "Usage" } }
        : {
            line: "no command given; run one of the commands listed above (`enrich-sync <command> --help` for its flags)",
            code: 2,
            error: { reason: "Usage" }
          }
    }
    return { line: usageLine([error], ["enrich-sync"]), code: 2, error: { reason: "Usage" } }
  }
  const tagged = error as {
    readonly _tag?: unknown
    readonly message?: unknown
    readonly reason?: unknown
    readonly side?: unknown
  }
  if (tagged._tag === "DatabaseError") {
    return {
      line: String(tagged.message),
      code: 1,
      error: { reason: tagged.reason, side: tagged.side, message: tagged.message }
    }
  }
  if (tagged._tag === "ConflictReviewError") {
    return {
      line: String(tagged.message),
      code: 1,
      error: { reason: tagged.reason, message: tagged.message }
    }
  }
  if (tagged._tag === "BackupError") {
    return { line: String(tagged.message), code: 1, error: { reason: "Backup", message: tagged.message } }
  }
  const message = typeof tagged.message === "string" ? tagged.message : String(error)
  return { line: oneLine(message), code: 1, error: { reason: String(tagged._tag ?? "Error"), message } }
}

/** Prints a failed run (one line, and the JSON object with `--json`) and fails with its exit code. */
const report = (cause: Cause.Cause<unknown>) =>
  Effect.gen(function* () {
    const output = yield* Output
    const described = describe(cause)
    // a usage error stops before the command starts: `--json` still gets its one JSON object
    if (described.code === 2 && process.argv.includes("--json") && !(yield* output.isJson)) {
      const error = Option.getOrUndefined(Cause.findErrorOption(cause))
      const path = CliError.isCliError(error) && error._tag === "ShowHelp" ? error.commandPath : []
      yield* output.begin(path.slice(1).join(" ") || "enrich-sync", { json: true })
    }
    yield* output.failure(described.line, {
      ...described.error,
      message: described.error.message ?? described.line
    })
    if (output.debug) yield* output.note(Cause.pretty(cause))
    return yield* Effect.fail(new ExitCode(described.code))
  })

/**
 * The global flags: `--help` and `--version` only. effect/cli's other built-ins (`--wizard`, `--completions`,
 * `--log-level`) are left out: the commands log through `Output`, not Effect's logger, and neither the
 * wizard nor the completion scripts are part of what enrich-sync documents and tests.
 */
export const cliConfig = CliConfig.layer({ builtIns: [GlobalFlag.Help, GlobalFlag.Version] })

/**
 * Help and version go to stdout as effect/cli prints them; an invalid invocation prints nothing here (not
 * the whole help): `report` prints its one line.
 */
const presenter = CliOutput.layerPresenter({
  present: (event) =>
    event._tag === "InvalidInvocation" ? Effect.void : CliOutput.defaultPresenter.present(event)
})

/** The whole program: parse the arguments, run the command, report a failure. */
export const main: Effect.Effect<void, ExitCode> = Command.run(enrichSync, {
  version: packageJson.version
}).pipe(
  Effect.onInterrupt(() =>
    Output.use((output) =>
      output.note(
        "enrich-sync: interrupted; the open transaction was rolled back and what earlier batches committed stays, so run the command again to continue"
      )
    )
  ),
  Effect.catchCause(
    (cause): Effect.Effect<never, ExitCode, Output> =>
      Cause.hasInterruptsOnly(cause) ? Effect.failCause(cause as Cause.Cause<never>) : report(cause)
  ),
  Effect.provide(Layer.mergeAll(Output.layer, presenter, cliConfig)),
  Effect.provide(configProviderLayer),
  Effect.provide(NodeServices.layer)
)
