/**
 * The one lane every merge of the daemon goes through, so merges never run concurrently: events for the
 * same key are merged one at a time, in arrival order, whichever side reported them.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Semaphore from "effect/Semaphore"

/** Runs merges one after the other. */
export class MergeLane extends Context.Service<
  MergeLane,
  {
    readonly run: <A, E, R>(merge: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  }
>()("@enrich-sync/syncd/MergeLane") {
  static readonly layer = Layer.effect(
    MergeLane,
    Effect.map(Semaphore.make(1), (semaphore) =>
      MergeLane.of({ run: (merge) => Semaphore.withPermits(semaphore, 1)(merge) })
    )
  )
}
