/**
 * What runs once before the loops: both schemas checked, the replication slot and publication made when
 * missing, the push journal applied (pushes whose workspace write a stopped process never made), and both
 * sides reconciled (whatever changed while the daemon was down).
 *
 * Invariant: the slot exists before anything reads a snapshot, so every change committed from then on is
 * kept in the slot and the reconcile misses nothing (changes seen twice merge to nothing); the loops start
 * only after this layer is built.
 */
import { drainPushJournal, requireSchemas, restartReplicationProgress } from "@enrich-sync/engine"
import { type EnsuredSlot, ensureSlot, type NeonListenerConfig } from "@enrich-sync/neon-listener"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Endpoints, type EndpointsShape } from "./Databases.ts"
import { Leadership } from "./Leadership.ts"
import { reconcile, transientRetry } from "./Reconcile.ts"
import { SyncdConfig, type SyncdSettings } from "./SyncdConfig.ts"

/** The Neon listener's configuration: the slot and publication of the invalid tables, on the direct host. */
export const listenerConfig = (
  config: SyncdSettings,
  endpoints: EndpointsShape,
  leading: Effect.Effect<boolean> = Effect.succeed(false)
): NeonListenerConfig => ({
  url: endpoints.replicationUrl,
  slot: config.slot,
  publication: config.publication,
  tables: config.entities.map((e) => ({
    schema: e.sourceTable.schema,
    name: e.sourceTable.name,
    key: e.key
  })),
  heartbeatInterval: config.heartbeat,
  ackInterval: config.ackInterval,
  // while this daemon holds the leader lock, whoever else holds the slot is a former leader
  takeOverSlot: leading
})

/** The daemon has started: schemas checked, slot in place, both sides reconciled. */
export class Startup extends Context.Service<Startup, { readonly slot: EnsuredSlot }>()(
  "@enrich-sync/syncd/Startup"
) {
  static readonly layer = Layer.effect(
    Startup,
    Effect.gen(function* () {
      const config = yield* SyncdConfig
      const endpoints = yield* Endpoints
      yield* requireSchemas
      const leadership = yield* Leadership
      const slot = yield* ensureSlot(listenerConfig(config, endpoints, Effect.isSuccess(leadership.check)))
      // a new slot: what was recorded for an old one means nothing (a branch restore can put positions lower)
      if (slot.created) yield* restartReplicationProgress(config.slot, slot.position)
      // pushes whose workspace write a stopped process never made: applied before anything is merged
      yield* drainPushJournal(config.entities).pipe(Effect.retry(transientRetry))
      yield* reconcile(
        slot.created ? "start-up, new replication slot" : "start-up",
        { policy: config.policy, batchSize: config.batchSize, direction: "reconcile" },
        config.entities
      )
      return Startup.of({ slot })
    })
  )
}
