/**
 * The command's configuration: the database URLs (`NEON_DATABASE_URL`, `SUPABASE_DATABASE_URL`) and the push
 * policy (`ENRICH_SYNC_PUSH_ON`, overridden by `--push-on`), read from the environment first and a `.env` in
 * the working folder second, and the database layers built on them.
 *
 * Invariants: configuration is read only here, where the layers are built; a command's layer reads only the
 * URLs of the sides it needs and reports every problem at once, in one line; URLs stay `Redacted` (and
 * their passwords are registered with the redactor by `configuredSecrets`).
 */
import type { MergePolicy, Side } from "@enrich-sync/core"
import { defaultPushOn, enrichmentStatuses, urlPassword } from "@enrich-sync/core"
import type { DatabaseError } from "@enrich-sync/engine"
import { parseDatabaseUrl, SourceDatabase, WorkspaceDatabase } from "@enrich-sync/engine"
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import { CliFailure } from "./CliFailure.ts"

/** The variables this command reads. */
export const variables = {
  source: "NEON_DATABASE_URL",
  workspace: "SUPABASE_DATABASE_URL",
  pushOn: "ENRICH_SYNC_PUSH_ON",
  debug: "ENRICH_SYNC_DEBUG"
} as const

/** What a command's run is configured with besides its databases. */
export class CliConfig extends Context.Service<
  CliConfig,
  {
    /** which enrichment statuses push their workspace edits (`--push-on`, else ENRICH_SYNC_PUSH_ON, else `complete`) */
    readonly policy: MergePolicy
  }
>()("@enrich-sync/cli/CliConfig") {}

/**
 * The config provider: the environment, then `.env` in the working folder when there is one (a value in
 * the environment wins over the same name in the file).
 */
export const configProviderLayer: Layer.Layer<never, never, FileSystem.FileSystem> = Layer.unwrap(
  Effect.gen(function* () {
    const env = ConfigProvider.fromEnv()
    const fs = yield* FileSystem.FileSystem
    const hasFile = yield* fs.exists(".env").pipe(Effect.orElseSucceed(() => false))
    if (!hasFile) return ConfigProvider.layer(env)
    const dotEnv = yield* ConfigProvider.fromDotEnv({ path: ".env" }).pipe(Effect.option)
    return ConfigProvider.layer(Option.isSome(dotEnv) ? ConfigProvider.orElse(env, dotEnv.value) : env)
  })
)

const readText = (name: string) =>
  Config.option(Config.String(name)).pipe(
    Effect.map(Option.map((v) => v.trim())),
    Effect.map(Option.filter((v) => v !== "")),
    Effect.orElseSucceed(() => Option.none<string>())
  )

const readUrl = (name: string) =>
  Config.option(Config.Redacted(name)).pipe(
    Effect.map(Option.filter((v) => Redacted.value(v).trim() !== "")),
    Effect.orElseSucceed(() => Option.none<Redacted.Redacted<string>>())
  )

/**
 * The secret values configured for this process (the passwords in both URLs, whether or not the command
 * uses them), for the redactor. Never fails.
 */
export const configuredSecrets: Effect.Effect<ReadonlyArray<string>> = Effect.map(
  Effect.all([readUrl(variables.source), readUrl(variables.workspace)]),
  (urls) =>
    urls.flatMap((url) => {
      const password = Option.isSome(url) ? urlPassword(Redacted.value(url.value).trim()) : null
      return password === null ? [] : [password]
    })
)

/**
 * The database URLs that are set (each may be absent), not checked: for a command that uses whichever side
 * it can reach (`manifest`). Never fails.
 */
export const configuredUrls: Effect.Effect<{
  readonly source: Option.Option<Redacted.Redacted<string>>
  readonly workspace: Option.Option<Redacted.Redacted<string>>
}> = Effect.all({ source: readUrl(variables.source), workspace: readUrl(variables.workspace) })

/** Whether ENRICH_SYNC_DEBUG asks for stack traces (`1`, `true`, `yes`, `on`). */
export const debugEnabled: Effect.Effect<boolean> = Effect.map(readText(variables.debug), (v) =>
  Option.match(v, { onNone: () => false, onSome: (text) => /^(1|true|yes|on)$/i.test(text) })
)

/** Parses a comma list of enrichment statuses; `null` when one of them is not a status. */
export const parsePushOn = (text: string): ReadonlyArray<string> | null => {
  const statuses = text
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== "")
  const known = enrichmentStatuses as ReadonlyArray<string>
  return statuses.length > 0 && statuses.every((s) => known.includes(s)) ? statuses : null
}

/** The databases a command works on. */
export type Needs = "source" | "workspace" | "both"

/** The services a command's layer provides for what it needs. */
export type DatabasesFor<N extends Needs> = N extends "source"
  ? SourceDatabase
  : N extends "workspace"
    ? WorkspaceDatabase
    : SourceDatabase | WorkspaceDatabase

const sidesOf = (needs: Needs): ReadonlyArray<Side> => (needs === "both" ? ["source", "workspace"] : [needs])

/** A database URL `needs` reads, checked by the engine (the problem alone: the fix is said once). */
const checkedUrl = (side: Side): Effect.Effect<Redacted.Redacted<string>, string> =>
  Effect.flatMap(readUrl(variables[side]), (url) =>
    Option.isNone(url)
      ? Effect.fail(`${variables[side]} is not set`)
      : parseDatabaseUrl(side, Redacted.value(url.value)).pipe(
          Effect.map((checked) => Redacted.make(checked)),
          // the engine's message ends with the fix; keep only the problem
          Effect.mapError((e) => e.message.split("; ")[0] ?? e.message)
        )
  )

/** The push policy's statuses: `pushOnFlag` when given, else ENRICH_SYNC_PUSH_ON, else `complete`. */
const pushOnSetting = (
  pushOnFlag: Option.Option<ReadonlyArray<string>>
): Effect.Effect<ReadonlyArray<string>, string> =>
  Option.isSome(pushOnFlag)
    ? Effect.succeed(pushOnFlag.value)
    : Effect.flatMap(readText(variables.pushOn), (text) => {
        if (Option.isNone(text)) return Effect.succeed(defaultPushOn)
        const parsed = parsePushOn(text.value)
        return parsed === null
          ? Effect.fail(
              `${variables.pushOn} must be a comma list of ${enrichmentStatuses.join(", ")} (it is "${text.value}")`
            )
          : Effect.succeed(parsed)
      })

/** How to fix `urlProblems` database URLs, and a bad ENRICH_SYNC_PUSH_ON when `pushOnBad`. */
const fixOf = (urlProblems: number, pushOnBad: boolean): string => {
  const one = urlProblems === 1
  const urls = `set ${one ? "it" : "them"} in the environment or in .env in the working folder, to the postgresql:// connection string${one ? "" : "s"} of the database${one ? "" : "s"} (Neon: ${variables.source}, Supabase: ${variables.workspace})`
  if (urlProblems === 0) return "fix it in the environment or in .env"
  return pushOnBad ? `${urls}; and fix ${variables.pushOn} there` : urls
}

/**
 * Reads and checks the configuration a command needs: the URLs of `needs` and the push policy
 * (`pushOnFlag` when given, else ENRICH_SYNC_PUSH_ON). Every problem is listed in one `CliFailure`.
 */
export const loadConfig = (needs: Needs, pushOnFlag: Option.Option<ReadonlyArray<string>> = Option.none()) =>
  Effect.gen(function* () {
    const sides = sidesOf(needs)
    const [urls, pushOn] = yield* Effect.all([
      Effect.all(sides.map((side) => Effect.result(checkedUrl(side)))),
      Effect.result(pushOnSetting(pushOnFlag))
    ])
    const urlProblems = urls.flatMap((r) => (Result.isFailure(r) ? [r.failure] : []))
    const problems = [...urlProblems, ...(Result.isFailure(pushOn) ? [pushOn.failure] : [])]
    if (problems.length > 0) {
      const fix = fixOf(urlProblems.length, Result.isFailure(pushOn))
      return yield* new CliFailure({ reason: "Configuration", message: `${problems.join("; ")}; ${fix}` })
    }
    // no problem: every setting succeeded
    const checked: {
      readonly source?: Redacted.Redacted<string>
      readonly workspace?: Redacted.Redacted<string>
    } = Object.fromEntries(sides.map((side, i) => [side, Result.getOrThrow(urls[i]!)]))
    return { urls: checked, policy: { pushOn: Result.getOrThrow(pushOn) } satisfies MergePolicy }
  })

/**
 * The layer of a command: its configuration (`CliConfig`) and connection pools on the databases it needs,
 * and nothing else (a command on Neon alone never reads SUPABASE_DATABASE_URL).
 */
export const commandLayer = <N extends Needs>(
  needs: N,
  pushOnFlag: Option.Option<ReadonlyArray<string>> = Option.none()
): Layer.Layer<CliConfig | DatabasesFor<N>, CliFailure | DatabaseError> =>
  Layer.unwrap(
    Effect.map(loadConfig(needs, pushOnFlag), ({ urls, policy }) => {
      const config = Layer.succeed(CliConfig)({ policy })
      const source = urls.source === undefined ? Layer.empty : SourceDatabase.layer(urls.source)
      const workspace = urls.workspace === undefined ? Layer.empty : WorkspaceDatabase.layer(urls.workspace)
      return Layer.mergeAll(config, source, workspace)
    })
  ) as unknown as Layer.Layer<CliConfig | DatabasesFor<N>, CliFailure | DatabaseError>
