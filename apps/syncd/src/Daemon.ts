/**
 * The daemon, composed of layers: the configuration; the databases (external or embedded); the start-up
 * (schemas, slot, reconcile); then the loops, each a layer that forks itself: Neon -> workspace from the
 * slot, the workspace poll, the Realtime follower (when configured), the anti-entropy pass; and the health
 * server. It logs one line when it is live, then runs until a loop fails or it is interrupted.
 *
 * Invariant: the daemon acknowledges a Neon position only after both sides hold its changes; stopping it
 * (SIGINT/SIGTERM) interrupts the loops, rolls back what was in flight, and closes every connection.
 */
import { redactUrl } from "@enrich-sync/core"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { antiEntropyLayer } from "./AntiEntropy.ts"
import { databasesLayer, Endpoints } from "./Databases.ts"
import { healthLayer } from "./Health.ts"
import { watchLauncher } from "./LauncherWatch.ts"
import { Loops } from "./Loops.ts"
import { MergeLane } from "./MergeLane.ts"
import { neonListenerLayer, sourceFollowerLayer } from "./SourceFollower.ts"
import { Startup } from "./Startup.ts"
import { SyncdConfig } from "./SyncdConfig.ts"
import { SyncMetrics } from "./SyncMetrics.ts"
import { realtimeFollowerLayer, workspaceFollowerLayer } from "./WorkspaceFollower.ts"

const describeDuration = (duration: Duration.Duration) => {
  const ms = Duration.toMillis(duration)
  return ms >= 60_000 ? `${ms / 60_000} min` : ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`
}

/** Every loop, with what it needs. */
const loopsLayer = Layer.mergeAll(
  sourceFollowerLayer.pipe(Layer.provide(neonListenerLayer)),
  workspaceFollowerLayer,
  realtimeFollowerLayer,
  antiEntropyLayer,
  healthLayer
).pipe(
  Layer.provideMerge(Startup.layer),
  Layer.provideMerge(Layer.mergeAll(MergeLane.layer, SyncMetrics.layer, Loops.layer)),
  Layer.provideMerge(databasesLayer),
  Layer.provideMerge(SyncdConfig.layer)
)

/** The line that says the daemon follows both sides, and how. */
const logLive = Effect.gen(function* () {
  const config = yield* SyncdConfig
  const endpoints = yield* Endpoints
  const metrics = yield* SyncMetrics
  const m = yield* metrics.update((s) => ({ ...s, live: true })).pipe(Effect.andThen(metrics.snapshot))
  const workspace = Option.isSome(endpoints.realtime)
    ? `followed through Realtime at ${redactUrl(endpoints.realtime.value.url)} and polled every`
    : "checked every"
  yield* Effect.logInfo(
    `syncd live: following slot ${config.slot} on Neon ${redactUrl(Redacted.value(endpoints.replicationUrl))}, workspace ${redactUrl(Redacted.value(endpoints.workspaceUrl))}; ` +
      `pushing ${config.policy.pushOn.join("/")} rows; workspace ${workspace} ${describeDuration(config.workspacePoll)}; ` +
      `anti-entropy ${Option.isSome(config.antiEntropy) ? "on" : "off"}${m.healthPort === null ? "" : `; health on http://127.0.0.1:${m.healthPort}/health`}`
  )
})

/** Runs the daemon until a loop fails (with what retrying cannot fix) or it is interrupted. */
export const runDaemon = Effect.gen(function* () {
  yield* watchLauncher
  const context = yield* Layer.build(loopsLayer)
  yield* logLive.pipe(Effect.provide(context))
  yield* Effect.flatMap(Loops, (loops) => loops.join).pipe(Effect.provide(context))
}).pipe(Effect.scoped)
