/**
 * The lane every merge of the daemon goes through, so that merges of the same key run one at a time, in
 * arrival order, whichever side reported them.
 *
 * A batch of keys (`runKeys`: Neon's changes, a person's edits, anti-entropy) runs beside the merges in
 * flight when none of them holds any of its keys and no merge asked for before it and still waiting does,
 * up to `sharedMerges` at once. At 20 ms round trips this is what lets the write of one batch start while
 * the one before it is still on its way, and the echo of a push on Neon be merged while the next batch of
 * a person's edits is pushed. A merge of everything (`run`: reconciles, promotion) runs alone: it waits for
 * the merges in flight, and the merges asked for after it wait for it, so a stream of batches cannot hold it
 * back.
 *
 * Invariant: no two merges in flight share a key; a merge that runs alone runs with no other in flight; of
 * two merges that share a key (or one of which runs alone), the one asked for first runs first.
 */
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/**
 * Batches of keys merged at once, at most: the daemon's connections per side (`Databases`). At 20 ms round
 * trips a batch's write takes about one, and two at once bound the Neon follower at 1,000 commits a second
 * (figures in `bench/README.md`).
 */
export const sharedMerges = 4

/** Runs merges of disjoint batches of keys beside each other, merges of everything alone. */
export class MergeLane extends Context.Service<
  MergeLane,
  {
    /** runs `merge` with no other merge in flight */
    readonly run: <A, E, R>(merge: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
    /**
     * runs `merge`, which merges `keys` of `entity` (an entity's name), once no merge in flight or asked for
     * before it holds any of them, beside at most `sharedMerges - 1` others
     */
    readonly runKeys: <A, E, R>(
      entity: string,
      keys: Iterable<string>,
      merge: Effect.Effect<A, E, R>
    ) => Effect.Effect<A, E, R>
  }
>()("@enrich-sync/syncd/MergeLane") {
  static readonly layer = Layer.sync(MergeLane, () => {
    /** a merge asked for: the keys of an entity it merges (null: everything), and the signal that it may run */
    interface Request {
      readonly holds: { readonly entity: string; readonly keys: ReadonlySet<string> } | null
      readonly go: Deferred.Deferred<void>
    }
    /** in the order asked for */
    let waiting: Array<Request> = []
    const running: Array<Request> = []
    const overlap = (a: Request, b: Request) => {
      if (a.holds === null || b.holds === null) return true
      if (a.holds.entity !== b.holds.entity) return false
      const [small, large] =
        a.holds.keys.size <= b.holds.keys.size ? [a.holds.keys, b.holds.keys] : [b.holds.keys, a.holds.keys]
      for (const k of small) if (large.has(k)) return true
      return false
    }
    /** admits, in order, every waiting merge that may run now (none still waiting before it shares a key) */
    const admit = (): Array<Request> => {
      const admitted: Array<Request> = []
      const still: Array<Request> = []
      for (const r of waiting) {
        const free =
          r.holds === null
            ? running.length === 0
            : running.length < sharedMerges && !running.some((q) => overlap(q, r))
        if (free && !still.some((q) => overlap(q, r))) {
          running.push(r)
          admitted.push(r)
        } else still.push(r)
      }
      waiting = still
      return admitted
    }
    const wake = (requests: Array<Request>) =>
      Effect.forEach(requests, (r) => Deferred.succeed(r.go, undefined), { discard: true })
    const holding =
      (holds: Request["holds"]) =>
      <A, E, R>(merge: Effect.Effect<A, E, R>) =>
        Effect.acquireUseRelease(
          Effect.gen(function* () {
            const request: Request = { holds, go: yield* Deferred.make<void>() }
            waiting.push(request)
            yield* wake(admit())
            return request
          }),
          (request) => Effect.andThen(Deferred.await(request.go), merge),
          // done, failed, or interrupted (waiting or running): out of the lane, and the next ones in
          (request) =>
            Effect.suspend(() => {
              const at = running.indexOf(request)
              if (at >= 0) running.splice(at, 1)
              else waiting = waiting.filter((r) => r !== request)
              return wake(admit())
            })
        )
    return MergeLane.of({
      run: holding(null),
      runKeys: (entity, keys, merge) => Effect.suspend(() => holding({ entity, keys: new Set(keys) })(merge))
    })
  })
}
