/**
 * Coalesces the status updates that acknowledgements ask for: at most one per `interval`, the first
 * after a quiet spell at once, as pg_recvlogical's status interval does (a consumer that acknowledges
 * every small transaction would otherwise send a status for each).
 *
 * Invariant: no request is lost: one that comes while a status is held is answered by the status sent
 * when the interval ends, and `send` reads the position when it runs, so that status reports the latest
 * acknowledgement. Time comes from `Clock` (a scheduled fiber, driven by `TestClock` in tests).
 *
 * ```
 *   idle ──request──> send ──> holding (interval) ──elapsed, no request──> idle
 *                       ▲            │
 *                       └─ elapsed, ─┘ requests while holding are merged into one
 * ```
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Latch from "effect/Latch"
import type * as Scope from "effect/Scope"

/** The throttle of one listener. */
export interface AckThrottle {
  /** An acknowledgement moved the confirmed position: a status update is due (now, or when the interval ends). */
  readonly request: () => void
}

/**
 * A throttle that calls `send` (which must not throw) for its requests, at most once per `interval`, while
 * the scope is open. With a zero interval nothing is held: each request is answered as soon as the
 * throttle's fiber runs (requests made before it runs share one status).
 */
export const makeAckThrottle = (
  interval: Duration.Duration,
  send: () => void
): Effect.Effect<AckThrottle, never, Scope.Scope> =>
  Effect.gen(function* () {
    const due = Latch.makeUnsafe(false)
    const hold = Duration.toMillis(interval) > 0 ? Effect.sleep(interval) : Effect.void
    yield* Effect.forkScoped(
      Effect.forever(
        Effect.gen(function* () {
          yield* due.await
          due.closeUnsafe()
          send()
          yield* hold
        })
      )
    )
    return {
      request: () => {
        due.openUnsafe()
      }
    }
  })
