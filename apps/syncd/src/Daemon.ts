/**
 * The daemon: follows both sides and applies the merge, continuously.
 *
 * Start-up, in order: configuration (every problem at once), the databases (embedded default when no
 * URL is set), the schema of both sides, the replication slot (created when missing, before any snapshot
 * is read), a reconcile of both sides (whatever changed while the daemon was down), then the loops on one
 * merge lane: Neon changes from the slot, workspace edits (from Supabase Realtime when configured, and a
 * poll), and the periodic anti-entropy pass. It logs one line when it is live.
 *
 * Invariant: the daemon acknowledges a Neon position only after both sides hold its changes; stopping it
 * (SIGINT/SIGTERM) interrupts the loops, rolls back what was in flight, and closes every connection.
 */
import { makeRedactor, redactUrl, urlPassword } from "@enrich-sync/core"
import {
  entities,
  redactingLogger,
  requireSchema,
  SourceDatabase,
  WorkspaceDatabase
} from "@enrich-sync/engine"
import { ensureSlot, NeonListener } from "@enrich-sync/neon-listener"
import { SupabaseListener } from "@enrich-sync/supabase-listener"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { runAntiEntropy } from "./AntiEntropy.ts"
import { lockDataDir } from "./DataDirLock.ts"
import { startEmbeddedDefault } from "./EmbeddedDefault.ts"
import { serveHealth } from "./Health.ts"
import { watchLauncher } from "./LauncherWatch.ts"
import { MergeLane } from "./MergeLane.ts"
import { reconcile } from "./Reconcile.ts"
import { followSource } from "./SourceFollower.ts"
import type { RealtimeConfig, SyncdConfig } from "./SyncdConfig.ts"
import { loadSyncdConfig } from "./SyncdConfig.ts"
import { SyncMetrics } from "./SyncMetrics.ts"
import { followRealtime, followWorkspace } from "./WorkspaceFollower.ts"

const describeDuration = (ms: number) =>
  ms >= 60_000 ? `${ms / 60_000} min` : ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`

/** Runs with databases in place: schema, slot, reconcile, loops (with Realtime on the workspace when given). */
const follow = (
  config: SyncdConfig,
  urls: { neon: string; workspace: string; replication: string },
  realtimeConfig: Option.Option<RealtimeConfig>
) =>
  Effect.gen(function* () {
    yield* requireSchema(yield* SourceDatabase)
    yield* requireSchema(yield* WorkspaceDatabase)
    const options = { policy: config.policy, batchSize: config.batchSize }
    const listenerConfig = {
      url: Redacted.make(urls.replication),
      slot: config.slot,
      publication: config.publication,
      tables: entities.map((e) => ({ schema: e.sourceTable.schema, name: e.sourceTable.name, key: e.key })),
      heartbeatInterval: config.heartbeat,
      ackInterval: config.ackInterval
    }
    // the slot exists before anything reads a snapshot: what commits from now on is kept in the slot, so
    // the reconcile below misses nothing (changes seen twice merge to nothing)
    const slot = yield* ensureSlot(listenerConfig)
    yield* Effect.gen(function* () {
      yield* reconcile(slot.created ? "start-up, new replication slot" : "start-up", options)
      // Realtime (when configured): its first subscription asks for a catch-up, so nothing edited before it
      // is live, or while it reconnects, is missed
      const realtime = Option.isSome(realtimeConfig)
        ? Option.some(
            yield* Layer.build(
              SupabaseListener.layer({
                url: realtimeConfig.value.url,
                apiKey: realtimeConfig.value.apiKey,
                tables: entities.map((e) => ({
                  schema: e.workspaceTable.schema,
                  name: e.workspaceTable.name,
                  key: e.key
                })),
                dirtyColumn: "sync_dirty"
              })
            ).pipe(Effect.map((context) => Context.get(context, SupabaseListener)))
          )
        : Option.none<SupabaseListener["Service"]>()
      const port = Option.isSome(config.healthPort)
        ? Option.some(
            yield* serveHealth(
              config.healthPort.value,
              Option.isSome(realtime) ? realtime.value.status : null
            )
          )
        : Option.none<number>()
      const metrics = yield* SyncMetrics
      yield* Effect.forkScoped(
        followSource({
          slot: config.slot,
          policy: config.policy,
          batchSize: config.batchSize,
          batchWait: config.batchWait
        })
      )
      yield* Effect.forkScoped(followWorkspace({ ...options, poll: config.workspacePoll }))
      if (Option.isSome(realtime))
        yield* Effect.forkScoped(
          followRealtime({ ...options, poll: config.workspacePoll }).pipe(
            Effect.provideService(SupabaseListener, realtime.value)
          )
        )
      if (Option.isSome(config.antiEntropy))
        yield* Effect.forkScoped(runAntiEntropy(config.antiEntropy.value, options))
      yield* metrics.update((m) => ({ ...m, live: true }))
      yield* Effect.logInfo(
        `syncd live: following slot ${config.slot} on Neon ${redactUrl(urls.replication)}, workspace ${redactUrl(urls.workspace)}; ` +
          `pushing ${config.policy.pushOn.join("/")} rows; workspace ${Option.isSome(realtimeConfig) ? `followed through Realtime at ${redactUrl(realtimeConfig.value.url)} and polled every` : "checked every"} ${describeDuration(Duration.toMillis(config.workspacePoll))}; ` +
          `anti-entropy ${Option.isSome(config.antiEntropy) ? "on" : "off"}${Option.isSome(port) ? `; health on http://127.0.0.1:${port.value}/health` : ""}`
      )
      return yield* Effect.never
    }).pipe(Effect.scoped, Effect.provide(NeonListener.layer(listenerConfig)))
  })

/** The whole daemon: configuration, databases, and `follow`. */
export const runDaemon = Effect.gen(function* () {
  const config = yield* loadSyncdConfig
  return yield* Effect.gen(function* () {
    yield* watchLauncher
    let urls: { neon: string; workspace: string; replication: string }
    let realtime = config.realtime
    if (config.mode._tag === "Embedded") {
      yield* Effect.logInfo(
        `no NEON_DATABASE_URL / SUPABASE_DATABASE_URL set: running on the embedded demo databases in ${config.mode.dataDir}`
      )
      yield* lockDataDir(config.mode.dataDir)
      const embedded = yield* startEmbeddedDefault(config.mode.dataDir)
      urls = {
        neon: Redacted.value(embedded.neonUrl),
        workspace: Redacted.value(embedded.workspaceUrl),
        replication: Redacted.value(embedded.neonUrl)
      }
      realtime = Option.some({ url: embedded.realtimeUrl, apiKey: Redacted.make("embedded-demo") })
    } else {
      urls = {
        neon: Redacted.value(config.mode.neonUrl),
        workspace: Redacted.value(config.mode.workspaceUrl),
        replication: Redacted.value(config.mode.replicationUrl)
      }
      if (config.mode.replicationDerived) {
        yield* Effect.logInfo(
          `NEON_DATABASE_URL is a -pooler host: replicating through the direct host ${redactUrl(urls.replication)} (set NEON_REPLICATION_URL to choose another)`
        )
      }
    }
    const secrets = [
      ...[urls.neon, urls.workspace, urls.replication].map(urlPassword),
      ...Option.toArray(Option.map(config.realtime, (r) => Redacted.value(r.apiKey)))
    ].filter((p): p is string => p !== null)
    const layer = Layer.mergeAll(
      SourceDatabase.layer(Redacted.make(urls.neon), { max: 4, applicationName: "enrich-sync syncd" }),
      WorkspaceDatabase.layer(Redacted.make(urls.workspace), {
        max: 4,
        applicationName: "enrich-sync syncd"
      }),
      MergeLane.layer,
      SyncMetrics.layer
    )
    return yield* follow(config, urls, realtime).pipe(
      Effect.provide(layer),
      Effect.provide(redactingLogger(makeRedactor(secrets), "stdout"))
    )
  }).pipe(Effect.scoped)
})
