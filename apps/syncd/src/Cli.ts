/**
 * The `syncd` command line: `syncd` runs the daemon, `syncd check` checks what it would run against and
 * changes nothing; `--help` lists every variable with its default, `--version` prints the version.
 *
 * Exit codes: 0 success (or a clean stop); 1 the daemon or a check failed; 2 a usage error (an unknown
 * flag or command), printed as one line on stderr with the way to the help.
 */
import * as Cause from "effect/Cause"
import { CliConfig, CliError, CliOutput, Command, GlobalFlag } from "effect/cli"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import packageJson from "../package.json" with { type: "json" }
import { runCheck } from "./Check.ts"
import { runDaemon } from "./Daemon.ts"
import { variablesHelp } from "./SyncdVariables.ts"

const description = `The enrich-sync daemon: keeps the Neon invalid tables and the Supabase enrichment workspace in sync, continuously, in both directions. With neither NEON_DATABASE_URL nor SUPABASE_DATABASE_URL set it runs on two embedded demo Postgres servers. Configuration comes from the environment, then from .env in the working folder. SIGINT or SIGTERM stops it cleanly (what is in flight rolls back; nothing unapplied is acknowledged).

ENVIRONMENT
${variablesHelp()}`

const checkCommand = Command.make("check", {}, () => runCheck).pipe(
  Command.withDescription(
    "Check the configuration and both databases without changing anything: connections, schemas, wal_level, the REPLICATION privilege, the publication, the slot (and who holds it), Realtime when configured. One line per check with its fix; exit 0 when all pass, 1 otherwise"
  )
)

/** `syncd` and its subcommand. */
export const syncdCommand = Command.make("syncd", {}, () => runDaemon).pipe(
  Command.withDescription(description),
  Command.withSubcommands([checkCommand]),
  Command.withExamples([
    { command: "syncd", description: "run the daemon (the embedded demo when no database URL is set)" },
    {
      command:
        "NEON_DATABASE_URL=postgresql://... SUPABASE_DATABASE_URL=postgresql://... ENRICH_SYNC_HEALTH_PORT=9464 syncd",
      description: "run against hosted Neon and Supabase, with /health and /metrics on 127.0.0.1:9464"
    },
    { command: "syncd check", description: "check the configuration and both databases before starting" }
  ])
)

/** Ends the process with `code` once the failure has been printed. */
class ExitCode {
  readonly code: number
  constructor(code: number) {
    this.code = code
  }
  get [Runtime.errorExitCode](): number {
    return this.code
  }
}

/** The one line of a usage error. */
const usageLine = (errors: ReadonlyArray<CliError.CliError>): string =>
  `syncd: ${errors
    .map((error) =>
      error._tag === "UnrecognizedOption"
        ? `unknown flag ${error.option}`
        : error._tag === "UnknownSubcommand"
          ? `unknown command "${error.subcommand}"`
          : (error.message.split("\n")[0] ?? error.message)
    )
    .join("; ")}; run \`syncd --help\` for the commands, flags and variables`

const usageErrors = (cause: Cause.Cause<unknown>): ReadonlyArray<CliError.CliError> | null => {
  const error = Option.getOrUndefined(Cause.findErrorOption(cause))
  if (!CliError.isCliError(error)) return null
  return error._tag === "ShowHelp" ? (error.errors.length > 0 ? error.errors : null) : [error]
}

/** Help and version as effect/cli prints them; an invalid invocation prints only `usageLine`. */
const presenter = CliOutput.layerPresenter({
  present: (event) =>
    event._tag === "InvalidInvocation" ? Effect.void : CliOutput.defaultPresenter.present(event)
})

/** The whole program: parse the arguments, run the daemon or the check, turn a usage error into exit 2. */
export const main = Command.run(syncdCommand, { version: packageJson.version }).pipe(
  Effect.catchCause((cause): Effect.Effect<never, unknown> => {
    const usage = usageErrors(cause)
    if (usage === null) return Effect.failCause(cause)
    return Effect.sync(() => process.stderr.write(`${usageLine(usage)}\n`)).pipe(
      Effect.andThen(Effect.fail(new ExitCode(2)))
    )
  }),
  Effect.provide(
    Layer.mergeAll(presenter, CliConfig.layer({ builtIns: [GlobalFlag.Help, GlobalFlag.Version] }))
  )
)
