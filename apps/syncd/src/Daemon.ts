/**
 * The daemon, composed of layers. First what every instance has: the configuration, the metrics, the
 * health server (bound before anything slow), the databases (external or embedded) and the leadership.
 * Then, each time this instance leads: the start-up (schemas, slot, reconcile) and the loops, each a layer
 * that forks itself: Neon -> workspace from the slot, the workspace poll, the Realtime follower (when
 * configured), the anti-entropy pass, the observer. It logs one line when it is live, then runs until a
 * loop fails, it loses the leader lock (it then stands by again), or it is stopped.
 *
 * Invariant: the daemon acknowledges a Neon position only after both sides hold its changes, and only
 * while it holds the leader lock; a stop (SIGINT/SIGTERM) first finishes and acknowledges the batch in
 * flight (within ENRICH_SYNC_SHUTDOWN_SECONDS), then closes every connection; a second signal stops at once.
 */
import { redactUrl } from "@enrich-sync/core"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { antiEntropyLayer } from "./AntiEntropy.ts"
import { autoPromoteLayer } from "./AutoPromote.ts"
import { databasesLayer, Endpoints } from "./Databases.ts"
import { healthLayer } from "./Health.ts"
import { watchLauncher } from "./LauncherWatch.ts"
import { Leadership } from "./Leadership.ts"
import { Loops } from "./Loops.ts"
import { MergeLane } from "./MergeLane.ts"
import { observerLayer } from "./Observer.ts"
import { stopAtSecondSignal } from "./Shutdown.ts"
import { neonListenerLayer, sourceFollowerLayer } from "./SourceFollower.ts"
import { Startup } from "./Startup.ts"
import { SyncdConfig } from "./SyncdConfig.ts"
import { SyncMetrics } from "./SyncMetrics.ts"
import { Webhooks, webhookDelivererLayer } from "./Webhooks.ts"
import { realtimeFollowerLayer, workspaceFollowerLayer } from "./WorkspaceFollower.ts"

const describeDuration = (duration: Duration.Duration) => {
  const ms = Duration.toMillis(duration)
  return ms >= 60_000 ? `${ms / 60_000} min` : ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`
}

/** What every instance has, built in this order: configuration, metrics, health, databases, leadership. */
const instanceLayer = Leadership.layer.pipe(
  Layer.provideMerge(databasesLayer),
  Layer.provideMerge(healthLayer),
  Layer.provideMerge(SyncMetrics.layer),
  Layer.provideMerge(SyncdConfig.layer)
)

/** What a leader runs: the start-up, then every loop. */
const leaderLayer = Layer.mergeAll(
  sourceFollowerLayer.pipe(Layer.provide(neonListenerLayer)),
  workspaceFollowerLayer,
  realtimeFollowerLayer,
  antiEntropyLayer,
  observerLayer,
  autoPromoteLayer,
  webhookDelivererLayer
).pipe(
  Layer.provideMerge(Startup.layer),
  Layer.provideMerge(Layer.mergeAll(MergeLane.layer, Loops.layer, Webhooks.layer))
)

/** The line that says the daemon follows both sides, and how. */
const logLive = Effect.gen(function* () {
  const config = yield* SyncdConfig
  const endpoints = yield* Endpoints
  const metrics = yield* SyncMetrics
  yield* metrics.update((s) => ({ ...s, live: true }))
  const m = yield* metrics.snapshot
  const workspace = Option.isSome(endpoints.realtime)
    ? `followed through Realtime at ${redactUrl(endpoints.realtime.value.url)} and polled every`
    : "checked every"
  yield* Effect.logInfo(
    `syncd live: following slot ${config.slot} (${config.entities.map((e) => e.name).join(", ")}) on Neon ${redactUrl(Redacted.value(endpoints.replicationUrl))}, workspace ${redactUrl(Redacted.value(endpoints.workspaceUrl))}; ` +
      `pushing ${config.policy.pushOn.join("/")} rows; workspace ${workspace} ${describeDuration(config.workspacePoll)}; ` +
      `anti-entropy ${Option.isSome(config.antiEntropy) ? "on" : "off"}${m.healthPort === null ? "" : `; health on http://${config.healthHost}:${m.healthPort}/health (/healthz, /readyz, /metrics)`}`
  )
})

/** One term as leader: start up, run the loops until one fails or the term ends. */
const leadTerm = Effect.gen(function* () {
  const context = yield* Layer.build(leaderLayer)
  yield* logLive.pipe(Effect.provide(context))
  yield* Effect.flatMap(Loops, (loops) => loops.join).pipe(
    Effect.provide(context),
    Effect.ensuring(Effect.flatMap(SyncMetrics, (m) => m.update((s) => ({ ...s, live: false }))))
  )
})

/** Runs the daemon until a loop fails (with what retrying cannot fix) or it is stopped. */
export const runDaemon = Effect.gen(function* () {
  yield* watchLauncher
  yield* stopAtSecondSignal
  const context = yield* Layer.build(instanceLayer)
  return yield* Effect.flatMap(Leadership, (leadership) => leadership.lead(leadTerm)).pipe(
    Effect.provide(context)
  )
}).pipe(Effect.scoped)
