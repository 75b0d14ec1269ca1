/**
 * The daemon's loops: a loop outlives the layer that started it and stops when the daemon's scope closes;
 * `join` waits while the loops run and fails with the first loop's failure (an error or a defect), so one
 * loop failing stops the daemon and, through its scope, every other loop.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import { Loops } from "../src/Loops.ts"

/** Lets every fiber that can run go as far as it can. */
const settle = Effect.gen(function* () {
  for (let i = 0; i < 10; i++) yield* Effect.yieldNow
})

/** A loop that runs until it is interrupted, and says that it was. */
const endless = (stopped: Deferred.Deferred<void>) =>
  Effect.never.pipe(Effect.onInterrupt(() => Deferred.succeed(stopped, undefined)))

/** A loop that fails as `fail` says once `go` is completed. */
const failing = <E>(go: Deferred.Deferred<void>, fail: Effect.Effect<never, E>) =>
  Effect.andThen(Deferred.await(go), fail)

describe("Loops", () => {
  it.effect(
    "keeps a loop running after the effect that started it ends, and stops it with the daemon's scope",
    () =>
      Effect.gen(function* () {
        const stopped = yield* Deferred.make<void>()
        yield* Effect.gen(function* () {
          const loops = yield* Loops
          // as a loop's layer does: start the loop, and be done
          const starter = yield* Effect.forkChild(loops.run(endless(stopped)))
          yield* Fiber.join(starter)
          yield* settle
          assert.isFalse(yield* Deferred.isDone(stopped), "the loop still runs")
        }).pipe(Effect.provide(Loops.layer))
        assert.isTrue(yield* Deferred.isDone(stopped), "the scope closed: the loop was interrupted")
      })
  )

  it.effect(
    "join waits while the loops run, fails with the first loop's failure, and the scope stops the others",
    () =>
      Effect.gen(function* () {
        const stopped = yield* Deferred.make<void>()
        const [first, second] = yield* Effect.all([Deferred.make<void>(), Deferred.make<void>()])
        yield* Effect.gen(function* () {
          const loops = yield* Loops
          yield* loops.run(endless(stopped))
          yield* loops.run(failing(first!, Effect.fail("the slot was dropped")))
          yield* loops.run(failing(second!, Effect.fail("the workspace is gone")))
          // a loop that ends well is gone; the others still run
          yield* loops.run(Effect.void)
          const join = yield* Effect.forkChild(loops.join)
          yield* settle
          assert.isUndefined(join.pollUnsafe(), "join waits while loops run")
          yield* Deferred.succeed(first!, undefined)
          yield* settle
          yield* Deferred.succeed(second!, undefined)
          yield* settle
          assert.deepStrictEqual(yield* Effect.flip(Fiber.join(join)), "the slot was dropped")
          // a join after the failure fails the same way
          assert.deepStrictEqual(yield* Effect.flip(loops.join), "the slot was dropped")
          assert.isFalse(yield* Deferred.isDone(stopped), "the failure alone stops no other loop")
        }).pipe(Effect.provide(Loops.layer))
        assert.isTrue(yield* Deferred.isDone(stopped), "closing the daemon's scope stopped the other loop")
      })
  )

  it.effect("join fails on a loop's defect too, so a bug in a loop stops the daemon", () =>
    Effect.gen(function* () {
      const go = yield* Deferred.make<void>()
      const exit = yield* Effect.gen(function* () {
        const loops = yield* Loops
        yield* loops.run(failing(go, Effect.die(new Error("a bug"))))
        yield* Deferred.succeed(go, undefined)
        return yield* Effect.exit(loops.join)
      }).pipe(Effect.provide(Loops.layer))
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit)) {
        const defect = Cause.squash(exit.cause)
        assert.instanceOf(defect, Error)
        assert.strictEqual((defect as Error).message, "a bug")
      }
    })
  )
})
