/**
 * The daemon's long-running loops (Neon follower, workspace poll, Realtime follower, anti-entropy): each
 * loop's layer forks it here, in the daemon's scope, and the daemon waits on all of them.
 *
 * Invariant: a loop never fails alone: the first loop to fail (with what retrying could not fix) fails
 * `join`, which stops the daemon and, through its scope, every other loop.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"

/** The loops of the daemon. */
export class Loops extends Context.Service<
  Loops,
  {
    /** forks `loop` for the daemon's lifetime */
    readonly run: <A, E, R>(loop: Effect.Effect<A, E, R>) => Effect.Effect<void, never, R>
    /** waits while the loops run; fails with the first loop's failure */
    readonly join: Effect.Effect<void, unknown>
  }
>()("@enrich-sync/syncd/Loops") {
  static readonly layer = Layer.effect(
    Loops,
    Effect.map(FiberSet.make<unknown, unknown>(), (set) =>
      Loops.of({
        run: (loop) => Effect.asVoid(FiberSet.run(set, loop)),
        join: FiberSet.join(set)
      })
    )
  )
}
