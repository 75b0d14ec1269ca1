/**
 * The daemon's configuration, read from the environment and, second, a `.env` file in the working folder.
 *
 * Invariant: a loaded configuration is complete and valid; every problem found is reported at once, in
 * one error, so a user fixes them all in one go: each setting is read and checked on its own (a failure
 * carries its problems, each a sentence with its fix), all of them are run, and their failures are
 * gathered. With neither database URL set, the daemon runs on the embedded default (two local Postgres
 * servers seeded with demo data). URLs and keys are read as `Redacted` and stay so.
 */

import { existsSync, readFileSync } from "node:fs"
import { resolve } from "node:path"
import type { Entity, MergePolicy } from "@enrich-sync/core"
import { entities as allEntities, defaultPushOn, enrichmentStatuses, redactUrl } from "@enrich-sync/core"
import { defaultBackupDir, parseDatabaseUrl } from "@enrich-sync/engine"
import { directHostUrl } from "@enrich-sync/neon-listener"
import { realtimeEndpoint } from "@enrich-sync/supabase-listener"
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { logLevels } from "./Log.ts"

/** Where the databases are. */
export type DatabaseMode =
  | {
      readonly _tag: "External"
      readonly neonUrl: Redacted.Redacted<string>
      /** the direct (not pooler) Neon URL replication uses */
      readonly replicationUrl: Redacted.Redacted<string>
      /** whether `replicationUrl` was derived from a `-pooler` NEON_DATABASE_URL */
      readonly replicationDerived: boolean
      readonly workspaceUrl: Redacted.Redacted<string>
    }
  | {
      readonly _tag: "Embedded"
      /** where the embedded servers keep their data (ENRICH_SYNC_DATA_DIR, default `./.enrich-sync`) */
      readonly dataDir: string
    }

/** Supabase Realtime, the workspace's event source when configured. */
export interface RealtimeConfig {
  /** SUPABASE_URL: the project URL (`https://<ref>.supabase.co`) */
  readonly url: string
  /** SUPABASE_SERVICE_ROLE_KEY */
  readonly apiKey: Redacted.Redacted<string>
}

/** The daemon's configuration. */
export interface SyncdSettings {
  readonly mode: DatabaseMode
  /** SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY, both or neither: workspace edits through Realtime (default off) */
  readonly realtime: Option.Option<RealtimeConfig>
  /** ENRICH_SYNC_ENTITIES: the entities this daemon syncs (default all: company and people) */
  readonly entities: ReadonlyArray<Entity>
  /** ENRICH_SYNC_SLOT (default `enrich_sync`; `enrich_sync_<entity>` for one entity) */
  readonly slot: string
  /** ENRICH_SYNC_PUBLICATION (default `enrich_sync_source`; `enrich_sync_source_<entity>` for one entity) */
  readonly publication: string
  /** ENRICH_SYNC_PUSH_ON: statuses whose workspace edits are pushed (default `complete`) */
  readonly policy: MergePolicy
  /** ENRICH_SYNC_BATCH_SIZE: most keys merged per batch (default 5000) */
  readonly batchSize: number
  /** ENRICH_SYNC_BATCH_WAIT_MS: how long a batch of Neon changes may wait to fill (default 5 ms) */
  readonly batchWait: Duration.Duration
  /**
   * ENRICH_SYNC_WORKSPACE_POLL_MS: how often workspace edits are looked for (default 1000 ms; 30000 ms with
   * Realtime, which reports edits as they happen: the poll then only finds what Realtime dropped silently)
   */
  readonly workspacePoll: Duration.Duration
  /** ENRICH_SYNC_ANTI_ENTROPY_MINUTES: period of the full comparison of both sides; 0 turns it off (default 15) */
  readonly antiEntropy: Option.Option<Duration.Duration>
  /** ENRICH_SYNC_HEARTBEAT_SECONDS: heartbeat of an idle replication slot (default 10) */
  readonly heartbeat: Duration.Duration
  /** ENRICH_SYNC_ACK_INTERVAL_MS: shortest time between two acknowledgements sent to Neon (default 1000; 0: each at once) */
  readonly ackInterval: Duration.Duration
  /** ENRICH_SYNC_HEALTH_PORT: serve `/healthz`, `/readyz` and `/metrics` at this port (default: off) */
  readonly healthPort: Option.Option<number>
  /** ENRICH_SYNC_HEALTH_HOST: the address the health server listens on (default `127.0.0.1`) */
  readonly healthHost: string
  /** ENRICH_SYNC_READY_MAX_LAG_SECONDS: `/readyz` answers 503 while Neon's changes wait longer (default 60) */
  readonly readyMaxLag: Duration.Duration
  /** ENRICH_SYNC_SHUTDOWN_SECONDS: how long a stop may take to finish the batch in flight (default 10) */
  readonly shutdownTimeout: Duration.Duration
  /** ENRICH_SYNC_AUTO_PROMOTE: promote PASSED rows continuously (default off) */
  readonly autoPromote: boolean
  /** ENRICH_SYNC_BACKUP_DIR: where promotions write their backup files (default `./.enrich-sync/backups`) */
  readonly backupDir: string
  /** ENRICH_SYNC_WEBHOOK_URL and ENRICH_SYNC_WEBHOOK_SECRET: where events are POSTed, and their HMAC key */
  readonly webhook: Option.Option<{
    readonly url: Redacted.Redacted<string>
    readonly secret: Option.Option<Redacted.Redacted<string>>
  }>
}

/** Everything wrong with the configuration, listed. */
export class SyncdConfigError extends Schema.TaggedError<SyncdConfigError>()("SyncdConfigError", {
  problems: Schema.Array(Schema.String)
}) {
  override get message(): string {
    return `the configuration has ${this.problems.length} problem(s): ${this.problems.join("; ")}`
  }
}

/** The config provider of the daemon: the environment, then `.env` in the working folder when there is one. */
export const configProviderLayer = Layer.unwrap(
  Effect.sync(() => {
    const env = ConfigProvider.fromEnv()
    const file = resolve(".env")
    return ConfigProvider.layer(
      existsSync(file)
        ? ConfigProvider.orElse(env, ConfigProvider.fromDotEnvContents(readFileSync(file, "utf8")))
        : env
    )
  })
)

/** A setting read and checked on its own: it fails with its problems (sentences naming the fix). */
type Setting<A> = Effect.Effect<A, ReadonlyArray<string>>

const problem = (text: string): Setting<never> => Effect.fail([text])

/** A variable's text, trimmed; none when it is unset or blank. */
const text = (name: string): Setting<Option.Option<string>> =>
  Config.option(Config.String(name)).pipe(
    Effect.map(Option.map((v) => v.trim())),
    Effect.map(Option.filter((v) => v !== "")),
    Effect.mapError(() => [`${name} could not be read`])
  )

/** A secret variable, trimmed, never unwrapped but to be checked; none when unset or blank. */
const secretText = (name: string): Setting<Option.Option<Redacted.Redacted<string>>> =>
  Config.option(Config.Redacted(name)).pipe(
    Effect.map(Option.map((v) => Redacted.make(Redacted.value(v).trim()))),
    Effect.map(Option.filter((v) => Redacted.value(v) !== "")),
    Effect.mapError(() => [`${name} could not be read`])
  )

const wholeNumber = (name: string, fallback: number, min: number, max: number): Setting<number> =>
  Effect.flatMap(text(name), (value) => {
    if (Option.isNone(value)) return Effect.succeed(fallback)
    const n = Number(value.value)
    return Number.isInteger(n) && n >= min && n <= max
      ? Effect.succeed(n)
      : problem(`${name} must be a whole number from ${min} to ${max} (got "${value.value}")`)
  })

const identifierPattern = /^[a-z_][a-z0-9_]{0,62}$/
const identifier = (name: string, fallback: string): Setting<string> =>
  Effect.flatMap(text(name), (value) => {
    const chosen = Option.getOrElse(value, () => fallback)
    return identifierPattern.test(chosen)
      ? Effect.succeed(chosen)
      : problem(`${name} must be a lower-case name of letters, digits and underscores (got "${chosen}")`)
  })

/** A database URL checked by the engine, staying redacted. */
const databaseUrl = (side: "source" | "workspace", url: Redacted.Redacted<string>) =>
  parseDatabaseUrl(side, Redacted.value(url)).pipe(
    Effect.map((checked) => Redacted.make(checked)),
    Effect.mapError((error) => [error.message])
  )

/** Runs every setting of `settings`, then fails with all their problems, or succeeds with all values. */
const gather = <const S extends Record<string, Setting<unknown>>>(
  settings: S
): Effect.Effect<{ readonly [K in keyof S]: Effect.Success<S[K]> }, ReadonlyArray<string>> => {
  const all = Effect.all(settings as Record<string, Setting<unknown>>, { mode: "result" }) as Effect.Effect<
    Record<string, Result.Result<unknown, ReadonlyArray<string>>>
  >
  return Effect.flatMap(all, (results) => {
    const entries = Object.entries(results)
    const problems = entries.flatMap(([, r]) => (Result.isFailure(r) ? r.failure : []))
    if (problems.length > 0) return Effect.fail(problems)
    const values = entries.map(([k, r]) => [k, Result.isSuccess(r) ? r.success : undefined] as const)
    return Effect.succeed(Object.fromEntries(values) as { readonly [K in keyof S]: Effect.Success<S[K]> })
  })
}

/** The databases: both URLs (external), or neither (the embedded demo in ENRICH_SYNC_DATA_DIR). */
const databases: Setting<DatabaseMode> = Effect.gen(function* () {
  const { neon, replication, workspace, dataDir } = yield* gather({
    neon: secretText("NEON_DATABASE_URL"),
    replication: secretText("NEON_REPLICATION_URL"),
    workspace: secretText("SUPABASE_DATABASE_URL"),
    dataDir: text("ENRICH_SYNC_DATA_DIR")
  })
  if (Option.isNone(neon) && Option.isNone(workspace)) {
    if (Option.isSome(replication))
      return yield* problem(
        "NEON_REPLICATION_URL is set but NEON_DATABASE_URL is not: set both database URLs"
      )
    return { _tag: "Embedded", dataDir: resolve(Option.getOrElse(dataDir, () => ".enrich-sync")) } as const
  }
  const required = (name: string, value: Option.Option<Redacted.Redacted<string>>, fix: string) =>
    Option.isSome(value) ? Effect.succeed(value.value) : problem(`${name} is not set: ${fix}`)
  const checked = yield* gather({
    neon: Effect.flatMap(
      required(
        "NEON_DATABASE_URL",
        neon,
        "set it to the Neon connection string (or unset SUPABASE_DATABASE_URL too, for the embedded demo)"
      ),
      (url) => databaseUrl("source", url)
    ),
    workspace: Effect.flatMap(
      required(
        "SUPABASE_DATABASE_URL",
        workspace,
        "set it to the Supabase connection string (or unset NEON_DATABASE_URL too, for the embedded demo)"
      ),
      (url) => databaseUrl("workspace", url)
    ),
    replication: Option.match(replication, {
      onNone: () => Effect.succeed(Option.none<Redacted.Redacted<string>>()),
      onSome: (url) =>
        Effect.flatMap(databaseUrl("source", url), (checkedUrl) => {
          const direct = directHostUrl(Redacted.value(checkedUrl))
          return direct === null
            ? Effect.succeed(Option.some(checkedUrl))
            : problem(
                `NEON_REPLICATION_URL points at a -pooler host (${redactUrl(Redacted.value(checkedUrl))}): replication needs the direct host, e.g. ${redactUrl(direct)}`
              )
        })
    })
  })
  const derived = Option.isNone(checked.replication) ? directHostUrl(Redacted.value(checked.neon)) : null
  return {
    _tag: "External",
    neonUrl: checked.neon,
    replicationUrl: Option.getOrElse(checked.replication, () =>
      derived === null ? checked.neon : Redacted.make(derived)
    ),
    replicationDerived: derived !== null,
    workspaceUrl: checked.workspace
  } as const
})

/** SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY: both or neither, a project URL, real databases. */
const realtime: Setting<Option.Option<RealtimeConfig>> = Effect.gen(function* () {
  const { url, key, neon, workspace } = yield* gather({
    url: text("SUPABASE_URL"),
    key: secretText("SUPABASE_SERVICE_ROLE_KEY"),
    neon: text("NEON_DATABASE_URL"),
    workspace: text("SUPABASE_DATABASE_URL")
  })
  const problems = [
    ...(Option.isSome(url) && realtimeEndpoint(url.value) === null
      ? [
          `SUPABASE_URL is not a project URL (got "${redactUrl(url.value)}"): set it to https://<project-ref>.supabase.co (Project Settings > API)`
        ]
      : []),
    ...(Option.isSome(url) && Option.isNone(key)
      ? [
          "SUPABASE_URL is set but SUPABASE_SERVICE_ROLE_KEY is not: set the project's service role key too (Project Settings > API), or unset SUPABASE_URL to poll the workspace instead of following Realtime"
        ]
      : []),
    ...(Option.isNone(url) && Option.isSome(key)
      ? [
          "SUPABASE_SERVICE_ROLE_KEY is set but SUPABASE_URL is not: set the project URL too (https://<project-ref>.supabase.co)"
        ]
      : []),
    ...(Option.isSome(url) && Option.isNone(neon) && Option.isNone(workspace)
      ? [
          "SUPABASE_URL is set but the databases are the embedded demo: set NEON_DATABASE_URL and SUPABASE_DATABASE_URL too, or unset SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY"
        ]
      : [])
  ]
  if (problems.length > 0) return yield* Effect.fail(problems)
  return Option.isSome(url) && Option.isSome(key)
    ? Option.some({ url: url.value, apiKey: key.value })
    : Option.none()
})

/** ENRICH_SYNC_PUSH_ON: a comma list of enrichment statuses. */
const pushOn: Setting<ReadonlyArray<string>> = Effect.flatMap(text("ENRICH_SYNC_PUSH_ON"), (value) => {
  if (Option.isNone(value)) return Effect.succeed(defaultPushOn)
  const statuses = value.value
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== "")
  const known = statuses.every((s) => (enrichmentStatuses as ReadonlyArray<string>).includes(s))
  return known && statuses.length > 0
    ? Effect.succeed(statuses)
    : problem(
        `ENRICH_SYNC_PUSH_ON must list statuses among ${enrichmentStatuses.join(", ")} (got "${value.value}")`
      )
})

/** ENRICH_SYNC_ENTITIES: a comma list of entity names (default all). */
const entitySetting: Setting<ReadonlyArray<Entity>> = Effect.flatMap(
  text("ENRICH_SYNC_ENTITIES"),
  (value) => {
    if (Option.isNone(value)) return Effect.succeed(allEntities)
    const names = value.value
      .split(",")
      .map((s) => s.trim().toLowerCase())
      .filter((s) => s !== "")
    const chosen = allEntities.filter((e) => names.includes(e.name))
    const unknown = names.filter((n) => !allEntities.some((e) => e.name === n))
    return unknown.length === 0 && chosen.length > 0
      ? Effect.succeed(chosen)
      : problem(
          `ENRICH_SYNC_ENTITIES must list entities among ${allEntities.map((e) => e.name).join(", ")} (got "${value.value}")`
        )
  }
)

/** The slot and publication of an entity set: the plain names for all entities, suffixed for a part. */
export const defaultNames = (chosen: ReadonlyArray<Entity>) => {
  const suffix = chosen.length === allEntities.length ? "" : `_${chosen.map((e) => e.name).join("_")}`
  return { slot: `enrich_sync${suffix}`, publication: `enrich_sync_source${suffix}` }
}

/** ENRICH_SYNC_AUTO_PROMOTE: on or off. */
const onOff = (name: string): Setting<boolean> =>
  Effect.flatMap(text(name), (value) => {
    if (Option.isNone(value)) return Effect.succeed(false)
    const v = value.value.toLowerCase()
    if (["on", "true", "1", "yes"].includes(v)) return Effect.succeed(true)
    if (["off", "false", "0", "no"].includes(v)) return Effect.succeed(false)
    return problem(`${name} must be on or off (got "${value.value}")`)
  })

/** ENRICH_SYNC_WEBHOOK_URL (an http(s) URL) and ENRICH_SYNC_WEBHOOK_SECRET (needs the URL). */
const webhookSetting: Setting<SyncdSettings["webhook"]> = Effect.gen(function* () {
  const { url, secret } = yield* gather({
    url: secretText("ENRICH_SYNC_WEBHOOK_URL"),
    secret: secretText("ENRICH_SYNC_WEBHOOK_SECRET")
  })
  if (Option.isNone(url)) {
    return Option.isSome(secret)
      ? yield* problem(
          "ENRICH_SYNC_WEBHOOK_SECRET is set but ENRICH_SYNC_WEBHOOK_URL is not: set the URL events go to (e.g. your n8n webhook), or unset the secret"
        )
      : Option.none()
  }
  let parsed: URL | null = null
  try {
    parsed = new URL(Redacted.value(url.value))
  } catch {}
  if (
    parsed === null ||
    (parsed.protocol !== "http:" && parsed.protocol !== "https:") ||
    parsed.hostname === ""
  )
    return yield* problem(
      `ENRICH_SYNC_WEBHOOK_URL must be an http:// or https:// URL (got "${redactUrl(Redacted.value(url.value))}")`
    )
  return Option.some({ url: url.value, secret })
})

/** ENRICH_SYNC_LOG_FORMAT and ENRICH_SYNC_LOG_LEVEL (read by the log itself; checked here, with the rest). */
const logSetting = (name: string, allowed: ReadonlyArray<string>): Setting<void> =>
  Effect.flatMap(text(name), (value) =>
    Option.isNone(value) || allowed.includes(value.value.toLowerCase())
      ? Effect.void
      : problem(`${name} must be one of ${allowed.join(", ")} (got "${value.value}")`)
  )

const healthPort: Setting<Option.Option<number>> = Effect.flatMap(
  text("ENRICH_SYNC_HEALTH_PORT"),
  (value) => {
    if (Option.isNone(value)) return Effect.succeed(Option.none())
    const n = Number(value.value)
    return Number.isInteger(n) && n >= 0 && n <= 65535
      ? Effect.succeed(Option.some(n))
      : problem(`ENRICH_SYNC_HEALTH_PORT must be a port number (got "${value.value}")`)
  }
)

/** Loads and checks the configuration, reporting every problem at once. */
export const loadSyncdConfig: Effect.Effect<SyncdSettings, SyncdConfigError> = Effect.gen(function* () {
  const realtimeSetting = yield* Effect.result(realtime)
  const entitiesSetting = yield* Effect.result(entitySetting)
  const names = defaultNames(Result.isSuccess(entitiesSetting) ? entitiesSetting.success : allEntities)
  const pollDefault =
    Result.isSuccess(realtimeSetting) && Option.isSome(realtimeSetting.success) ? 30_000 : 1000
  const settings = yield* gather({
    mode: databases,
    realtime: Result.isSuccess(realtimeSetting)
      ? Effect.succeed(realtimeSetting.success)
      : Effect.fail(realtimeSetting.failure),
    entities: Result.isSuccess(entitiesSetting)
      ? Effect.succeed(entitiesSetting.success)
      : Effect.fail(entitiesSetting.failure),
    slot: identifier("ENRICH_SYNC_SLOT", names.slot),
    publication: identifier("ENRICH_SYNC_PUBLICATION", names.publication),
    pushOn,
    batchSize: wholeNumber("ENRICH_SYNC_BATCH_SIZE", 5000, 1, 100_000),
    batchWait: wholeNumber("ENRICH_SYNC_BATCH_WAIT_MS", 5, 0, 60_000),
    poll: wholeNumber("ENRICH_SYNC_WORKSPACE_POLL_MS", pollDefault, 10, 3_600_000),
    antiEntropy: wholeNumber("ENRICH_SYNC_ANTI_ENTROPY_MINUTES", 15, 0, 7 * 24 * 60),
    heartbeat: wholeNumber("ENRICH_SYNC_HEARTBEAT_SECONDS", 10, 1, 3600),
    ackInterval: wholeNumber("ENRICH_SYNC_ACK_INTERVAL_MS", 1000, 0, 60_000),
    healthPort,
    healthHost: Effect.map(
      text("ENRICH_SYNC_HEALTH_HOST"),
      Option.getOrElse(() => "127.0.0.1")
    ),
    readyMaxLag: wholeNumber("ENRICH_SYNC_READY_MAX_LAG_SECONDS", 60, 1, 86_400),
    shutdown: wholeNumber("ENRICH_SYNC_SHUTDOWN_SECONDS", 10, 0, 3600),
    autoPromote: onOff("ENRICH_SYNC_AUTO_PROMOTE"),
    backupDir: Effect.map(text("ENRICH_SYNC_BACKUP_DIR"), (v) =>
      resolve(Option.getOrElse(v, () => defaultBackupDir))
    ),
    webhook: webhookSetting,
    logFormat: logSetting("ENRICH_SYNC_LOG_FORMAT", ["json", "pretty"]),
    logLevel: logSetting("ENRICH_SYNC_LOG_LEVEL", Object.keys(logLevels))
  }).pipe(Effect.mapError((problems) => new SyncdConfigError({ problems })))
  return {
    mode: settings.mode,
    realtime: settings.realtime,
    entities: settings.entities,
    slot: settings.slot,
    publication: settings.publication,
    policy: { pushOn: settings.pushOn },
    batchSize: settings.batchSize,
    batchWait: Duration.millis(settings.batchWait),
    workspacePoll: Duration.millis(settings.poll),
    antiEntropy:
      settings.antiEntropy === 0 ? Option.none() : Option.some(Duration.minutes(settings.antiEntropy)),
    heartbeat: Duration.seconds(settings.heartbeat),
    ackInterval: Duration.millis(settings.ackInterval),
    healthPort: settings.healthPort,
    healthHost: settings.healthHost,
    readyMaxLag: Duration.seconds(settings.readyMaxLag),
    shutdownTimeout: Duration.seconds(settings.shutdown),
    autoPromote: settings.autoPromote,
    backupDir: settings.backupDir,
    webhook: settings.webhook
  }
})

/** The daemon's configuration, loaded and checked once. */
export class SyncdConfig extends Context.Service<SyncdConfig, SyncdSettings>()(
  "@enrich-sync/syncd/SyncdConfig"
) {
  static readonly layer = Layer.effect(SyncdConfig, loadSyncdConfig)
}
