/**
 * The two databases the daemon works on, chosen by the configuration: the URLs given, or the embedded demo
 * started here (one daemon per data folder). It provides the engine's `SourceDatabase` and
 * `WorkspaceDatabase`, and `Endpoints`: where replication and Realtime connect.
 *
 * Invariant: every secret (the URLs' passwords, the service role key, the embedded servers' generated
 * passwords) is handed to the `Redactor` before anything could print it, and URLs stay `Redacted`.
 */
import { redactUrl } from "@enrich-sync/core"
import { SourceDatabase, WorkspaceDatabase } from "@enrich-sync/engine"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { lockDataDir } from "./DataDirLock.ts"
import { startEmbeddedDefault } from "./EmbeddedDefault.ts"
import { Redactor } from "./Log.ts"
import { type RealtimeConfig, SyncdConfig } from "./SyncdConfig.ts"

/** Where the daemon connects. */
export interface EndpointsShape {
  readonly neonUrl: Redacted.Redacted<string>
  /** the direct (not pooler) Neon host, for replication and session state */
  readonly replicationUrl: Redacted.Redacted<string>
  readonly workspaceUrl: Redacted.Redacted<string>
  /** Supabase Realtime on the workspace, when configured (the embedded demo has its stand-in) */
  readonly realtime: Option.Option<RealtimeConfig>
  /** whether these are the embedded demo servers */
  readonly embedded: boolean
}

/** Where the daemon connects: the configured databases, or the embedded demo's. */
export class Endpoints extends Context.Service<Endpoints, EndpointsShape>()("@enrich-sync/syncd/Endpoints") {
  static readonly layer = Layer.effect(
    Endpoints,
    Effect.gen(function* () {
      const config = yield* SyncdConfig
      const redactor = yield* Redactor
      yield* redactor.remember([
        ...Option.toArray(Option.map(config.realtime, (r) => r.apiKey)),
        ...Option.toArray(Option.map(config.webhook, (w) => w.url)),
        ...Option.toArray(Option.flatMap(config.webhook, (w) => w.secret))
      ])
      if (config.mode._tag === "Embedded") {
        yield* Effect.logInfo(
          `no NEON_DATABASE_URL / SUPABASE_DATABASE_URL set: running on the embedded demo databases in ${config.mode.dataDir}`
        )
        yield* lockDataDir(config.mode.dataDir)
        const embedded = yield* startEmbeddedDefault(config.mode.dataDir)
        yield* redactor.remember([embedded.neonUrl, embedded.workspaceUrl])
        return Endpoints.of({
          neonUrl: embedded.neonUrl,
          replicationUrl: embedded.neonUrl,
          workspaceUrl: embedded.workspaceUrl,
          realtime: Option.some({ url: embedded.realtimeUrl, apiKey: Redacted.make("embedded-demo") }),
          embedded: true
        })
      }
      const mode = config.mode
      yield* redactor.remember([mode.neonUrl, mode.workspaceUrl, mode.replicationUrl])
      if (mode.replicationDerived) {
        yield* Effect.logInfo(
          `NEON_DATABASE_URL is a -pooler host: replicating through the direct host ${redactUrl(Redacted.value(mode.replicationUrl))} (set NEON_REPLICATION_URL to choose another)`
        )
      }
      return Endpoints.of({
        neonUrl: mode.neonUrl,
        replicationUrl: mode.replicationUrl,
        workspaceUrl: mode.workspaceUrl,
        realtime: config.realtime,
        embedded: false
      })
    })
  )
}

/**
 * The daemon's pools. A transaction left waiting 5 s for the daemon's next statement means the daemon hung
 * (a healthy one sends it within milliseconds): the server then rolls it back and frees its rows, before the
 * leader lock passes on (its session ends after 6 s idle, see `Leadership`), so a standby that takes over
 * never waits on rows a hung leader holds, and neither do the people editing the workspace. Every connection
 * is opened at start and kept: across a WAN a new one costs several round trips, which a burst (a push
 * beside the echo of the one before) would otherwise wait for.
 */
const poolOptions = {
  max: 4,
  keepOpen: 4,
  applicationName: "enrich-sync syncd",
  idleInTransactionTimeoutMs: 5_000
}

/** The engine's two databases on the endpoints, with the endpoints themselves. */
export const databasesLayer = Layer.unwrap(
  Effect.map(Endpoints, (endpoints) =>
    Layer.mergeAll(
      SourceDatabase.layer(endpoints.neonUrl, poolOptions),
      WorkspaceDatabase.layer(endpoints.workspaceUrl, poolOptions)
    )
  )
).pipe(Layer.provideMerge(Endpoints.layer))
