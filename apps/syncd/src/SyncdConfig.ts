/**
 * The daemon's configuration, read from the environment and, second, a `.env` file in the working folder.
 *
 * Invariant: a loaded configuration is complete and valid; every problem found is reported at once, in
 * one error, so a user fixes them all in one go. With neither database URL set, the daemon runs on the
 * embedded default (two local Postgres servers seeded with demo data). URLs stay `Redacted`.
 */

import { existsSync, readFileSync } from "node:fs"
import { resolve } from "node:path"
import type { MergePolicy } from "@enrich-sync/core"
import { defaultPushOn, enrichmentStatuses, redactUrl } from "@enrich-sync/core"
import { parseDatabaseUrl } from "@enrich-sync/engine"
import { directHostUrl } from "@enrich-sync/neon-listener"
import { realtimeEndpoint } from "@enrich-sync/supabase-listener"
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

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
export interface SyncdConfig {
  readonly mode: DatabaseMode
  /** SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY, both or neither: workspace edits through Realtime (default off) */
  readonly realtime: Option.Option<RealtimeConfig>
  /** ENRICH_SYNC_SLOT (default `enrich_sync`) */
  readonly slot: string
  /** ENRICH_SYNC_PUBLICATION (default `enrich_sync_source`) */
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
  /** ENRICH_SYNC_HEALTH_PORT: serve `/health` and `/metrics` on 127.0.0.1 at this port (default: off) */
  readonly healthPort: Option.Option<number>
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

const optionalString = (name: string) => Config.option(Config.String(name))
const identifier = /^[a-z_][a-z0-9_]{0,62}$/

/** Loads and checks the configuration, reporting every problem at once. */
export const loadSyncdConfig: Effect.Effect<SyncdConfig, SyncdConfigError> = Effect.gen(function* () {
  const problems: Array<string> = []
  const read = (name: string) =>
    optionalString(name).pipe(
      Effect.map(Option.map((v) => v.trim())),
      Effect.map(Option.filter((v) => v !== "")),
      Effect.catch(() => {
        problems.push(`${name} could not be read`)
        return Effect.succeed(Option.none<string>())
      })
    )
  const int = (name: string, fallback: number, min: number, max: number) =>
    Effect.map(read(name), (v) => {
      if (Option.isNone(v)) return fallback
      const n = Number(v.value)
      if (!Number.isInteger(n) || n < min || n > max) {
        problems.push(`${name} must be a whole number from ${min} to ${max} (got "${v.value}")`)
        return fallback
      }
      return n
    })

  const neon = yield* read("NEON_DATABASE_URL")
  const replication = yield* read("NEON_REPLICATION_URL")
  const workspace = yield* read("SUPABASE_DATABASE_URL")
  const checkUrl = (side: "source" | "workspace", value: string) =>
    parseDatabaseUrl(side, value).pipe(
      Effect.map((url) => Option.some(url)),
      Effect.catch((e) => {
        problems.push(e.message)
        return Effect.succeed(Option.none<string>())
      })
    )

  let mode: DatabaseMode
  if (Option.isNone(neon) && Option.isNone(workspace)) {
    if (Option.isSome(replication))
      problems.push("NEON_REPLICATION_URL is set but NEON_DATABASE_URL is not: set both database URLs")
    const dataDir = yield* read("ENRICH_SYNC_DATA_DIR")
    mode = { _tag: "Embedded", dataDir: resolve(Option.getOrElse(dataDir, () => ".enrich-sync")) }
  } else {
    if (Option.isNone(neon))
      problems.push(
        "NEON_DATABASE_URL is not set: set it to the Neon connection string (or unset SUPABASE_DATABASE_URL too, for the embedded demo)"
      )
    if (Option.isNone(workspace))
      problems.push(
        "SUPABASE_DATABASE_URL is not set: set it to the Supabase connection string (or unset NEON_DATABASE_URL too, for the embedded demo)"
      )
    const neonUrl = Option.isSome(neon) ? yield* checkUrl("source", neon.value) : Option.none<string>()
    const workspaceUrl = Option.isSome(workspace)
      ? yield* checkUrl("workspace", workspace.value)
      : Option.none<string>()
    let replicationUrl = Option.isSome(replication)
      ? yield* checkUrl("source", replication.value)
      : Option.none<string>()
    let derived = false
    if (Option.isSome(replicationUrl)) {
      if (directHostUrl(replicationUrl.value) !== null) {
        problems.push(
          `NEON_REPLICATION_URL points at a -pooler host (${redactUrl(replicationUrl.value)}): replication needs the direct host, e.g. ${redactUrl(directHostUrl(replicationUrl.value)!)}`
        )
      }
    } else if (Option.isSome(neonUrl)) {
      const direct = directHostUrl(neonUrl.value)
      derived = direct !== null
      replicationUrl = Option.some(direct ?? neonUrl.value)
    }
    mode =
      Option.isSome(neonUrl) && Option.isSome(workspaceUrl) && Option.isSome(replicationUrl)
        ? {
            _tag: "External",
            neonUrl: Redacted.make(neonUrl.value),
            replicationUrl: Redacted.make(replicationUrl.value),
            replicationDerived: derived,
            workspaceUrl: Redacted.make(workspaceUrl.value)
          }
        : { _tag: "Embedded", dataDir: "" }
  }

  const supabaseUrl = yield* read("SUPABASE_URL")
  const serviceKey = yield* read("SUPABASE_SERVICE_ROLE_KEY")
  let realtime = Option.none<RealtimeConfig>()
  if (Option.isSome(supabaseUrl) !== Option.isSome(serviceKey)) {
    problems.push(
      Option.isSome(supabaseUrl)
        ? "SUPABASE_URL is set but SUPABASE_SERVICE_ROLE_KEY is not: set the project's service role key too (Project Settings > API), or unset SUPABASE_URL to poll the workspace instead of following Realtime"
        : "SUPABASE_SERVICE_ROLE_KEY is set but SUPABASE_URL is not: set the project URL too (https://<project-ref>.supabase.co)"
    )
  } else if (Option.isSome(supabaseUrl) && Option.isSome(serviceKey)) {
    if (mode._tag === "Embedded" && Option.isNone(neon)) {
      problems.push(
        "SUPABASE_URL is set but the databases are the embedded demo: set NEON_DATABASE_URL and SUPABASE_DATABASE_URL too, or unset SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY"
      )
    } else if (realtimeEndpoint(supabaseUrl.value) === null) {
      problems.push(
        `SUPABASE_URL is not a project URL (got "${redactUrl(supabaseUrl.value)}"): set it to https://<project-ref>.supabase.co (Project Settings > API)`
      )
    } else {
      realtime = Option.some({ url: supabaseUrl.value, apiKey: Redacted.make(serviceKey.value) })
    }
  }

  const name = (variable: string, fallback: string) =>
    Effect.map(read(variable), (v) => {
      const value = Option.getOrElse(v, () => fallback)
      if (!identifier.test(value)) {
        problems.push(
          `${variable} must be a lower-case name of letters, digits and underscores (got "${value}")`
        )
      }
      return value
    })
  const slot = yield* name("ENRICH_SYNC_SLOT", "enrich_sync")
  const publication = yield* name("ENRICH_SYNC_PUBLICATION", "enrich_sync_source")
  const pushOnText = yield* read("ENRICH_SYNC_PUSH_ON")
  const pushOn = Option.match(pushOnText, {
    onNone: () => defaultPushOn,
    onSome: (text) =>
      text
        .split(",")
        .map((s) => s.trim().toLowerCase())
        .filter((s) => s !== "")
  })
  const unknown = pushOn.filter((s) => !(enrichmentStatuses as ReadonlyArray<string>).includes(s))
  if (unknown.length > 0 || pushOn.length === 0) {
    problems.push(
      `ENRICH_SYNC_PUSH_ON must list statuses among ${enrichmentStatuses.join(", ")} (got "${Option.getOrElse(pushOnText, () => "")}")`
    )
  }
  const batchSize = yield* int("ENRICH_SYNC_BATCH_SIZE", 5000, 1, 100_000)
  const batchWait = yield* int("ENRICH_SYNC_BATCH_WAIT_MS", 5, 0, 60_000)
  const poll = yield* int(
    "ENRICH_SYNC_WORKSPACE_POLL_MS",
    Option.isSome(realtime) ? 30_000 : 1000,
    10,
    3_600_000
  )
  const antiEntropy = yield* int("ENRICH_SYNC_ANTI_ENTROPY_MINUTES", 15, 0, 7 * 24 * 60)
  const heartbeat = yield* int("ENRICH_SYNC_HEARTBEAT_SECONDS", 10, 1, 3600)
  const ackInterval = yield* int("ENRICH_SYNC_ACK_INTERVAL_MS", 1000, 0, 60_000)
  const healthPort = yield* read("ENRICH_SYNC_HEALTH_PORT").pipe(
    Effect.map(
      Option.flatMap((v) => {
        const n = Number(v)
        if (Number.isInteger(n) && n >= 0 && n <= 65535) return Option.some(n)
        problems.push(`ENRICH_SYNC_HEALTH_PORT must be a port number (got "${v}")`)
        return Option.none()
      })
    )
  )
  if (problems.length > 0) return yield* new SyncdConfigError({ problems })
  return {
    mode,
    realtime,
    slot,
    publication,
    policy: { pushOn },
    batchSize,
    batchWait: Duration.millis(batchWait),
    workspacePoll: Duration.millis(poll),
    antiEntropy: antiEntropy === 0 ? Option.none() : Option.some(Duration.minutes(antiEntropy)),
    heartbeat: Duration.seconds(heartbeat),
    ackInterval: Duration.millis(ackInterval),
    healthPort
  }
})
