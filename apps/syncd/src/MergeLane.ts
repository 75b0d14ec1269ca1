/**
 * The lane every merge of the daemon goes through, so that events for the same key are merged one at a
 * time, in arrival order, whichever side reported them.
 *
 * A merge runs alone (`run`: the workspace's edits, reconciles, promotion), except that up to `shared`
 * batches of Neon changes run beside each other (`runShared`): their keys never overlap, because the
 * source follower reads a batch only once the batches before it that hold any of its keys are written.
 * At 20 ms round trips this is what lets the write of one batch start while the one before it is still on
 * its way. A merge waiting to run alone goes first: shared batches asked for after it wait for it, so a
 * stream of Neon changes cannot hold back an enricher's edits.
 *
 * Invariant: a merge that runs alone runs with no other merge in flight.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Semaphore from "effect/Semaphore"

/** Neon batches written at once, at most. */
export const sharedMerges = 2

/** Runs merges alone, or Neon batches with disjoint keys beside each other. */
export class MergeLane extends Context.Service<
  MergeLane,
  {
    /** runs `merge` with no other merge in flight */
    readonly run: <A, E, R>(merge: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
    /** runs `merge` beside other shared merges (the caller guarantees their keys are disjoint) */
    readonly runShared: <A, E, R>(merge: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  }
>()("@enrich-sync/syncd/MergeLane") {
  static readonly layer = Layer.effect(
    MergeLane,
    Effect.gen(function* () {
      const permits = yield* Semaphore.make(sharedMerges)
      // taken while acquiring permits: one waiting for all of them is not overtaken by later shared ones
      const gate = yield* Semaphore.make(1)
      const holding =
        (n: number) =>
        <A, E, R>(merge: Effect.Effect<A, E, R>) =>
          Effect.scoped(
            Effect.andThen(Semaphore.withPermits(gate, 1)(Semaphore.takeScoped(permits, n)), merge)
          )
      return MergeLane.of({ run: holding(sharedMerges), runShared: holding(1) })
    })
  )
}
