/**
 * The merge lane: batches of disjoint keys run beside each other, two at most; batches that share a key run
 * one at a time in the order asked; a merge that runs alone waits for them, runs with nothing beside it, and
 * is not overtaken by batches asked for after it.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { MergeLane, sharedMerges } from "../src/MergeLane.ts"

/** A merge that records when it starts and ends, and runs until `release` is completed. */
const tracked = (log: Array<string>, name: string, release: Deferred.Deferred<void>) =>
  Effect.gen(function* () {
    log.push(`${name} starts`)
    yield* Deferred.await(release)
    log.push(`${name} ends`)
  })

/** Lets every fiber that can run go as far as it can. */
const settle = Effect.gen(function* () {
  for (let i = 0; i < 10; i++) yield* Effect.yieldNow
})

describe("MergeLane", () => {
  it.effect("runs two batches at once, a merge alone with nothing beside it, in the order asked", () =>
    Effect.gen(function* () {
      const lane = yield* MergeLane
      const log: Array<string> = []
      const [a, b, c, alone, d] = yield* Effect.all(Array.from({ length: 5 }, () => Deferred.make<void>()))
      assert.strictEqual(sharedMerges, 2)
      const batch = (name: string, release: Deferred.Deferred<void>) =>
        Effect.forkChild(lane.runKeys("company", [name], tracked(log, name, release)))
      const fa = yield* batch("a", a!)
      const fb = yield* batch("b", b!)
      yield* Effect.yieldNow
      const fc = yield* batch("c", c!)
      yield* Effect.yieldNow
      const fAlone = yield* Effect.forkChild(lane.run(tracked(log, "alone", alone!)))
      yield* Effect.yieldNow
      const fd = yield* batch("d", d!)
      yield* Effect.yieldNow
      assert.deepStrictEqual(log, ["a starts", "b starts"], "two at most")
      yield* Deferred.succeed(a!, undefined)
      yield* settle
      assert.deepStrictEqual(log.slice(2), ["a ends", "c starts"])
      // one batch ends: the merge alone still waits for the other, and d, asked for after it, waits too
      yield* Deferred.succeed(b!, undefined)
      yield* Fiber.join(fb)
      yield* settle
      assert.deepStrictEqual(log.slice(4), ["b ends"])
      yield* Deferred.succeed(c!, undefined)
      yield* Fiber.join(fc)
      yield* settle
      assert.deepStrictEqual(log.slice(4), ["b ends", "c ends", "alone starts"])
      yield* Deferred.succeed(alone!, undefined)
      yield* Fiber.join(fAlone)
      yield* settle
      assert.strictEqual(log.at(-1), "d starts")
      yield* Deferred.succeed(d!, undefined)
      yield* Fiber.join(fd)
      yield* Fiber.join(fa)
    }).pipe(Effect.provide(MergeLane.layer))
  )

  it.effect(
    "runs batches that share a key one at a time, in the order asked, and lets a batch of other keys pass them",
    () =>
      Effect.gen(function* () {
        const lane = yield* MergeLane
        const log: Array<string> = []
        const [first, second, other, people] = yield* Effect.all(
          Array.from({ length: 4 }, () => Deferred.make<void>())
        )
        const f1 = yield* Effect.forkChild(
          lane.runKeys("company", ["k1", "k2"], tracked(log, "first", first!))
        )
        yield* Effect.yieldNow
        const f2 = yield* Effect.forkChild(
          lane.runKeys("company", ["k2", "k3"], tracked(log, "second", second!))
        )
        yield* Effect.yieldNow
        const f3 = yield* Effect.forkChild(lane.runKeys("company", ["k4"], tracked(log, "other", other!)))
        yield* settle
        assert.deepStrictEqual(log, ["first starts", "other starts"], "k2 is held: the second waits")
        yield* Deferred.succeed(other!, undefined)
        yield* Fiber.join(f3)
        // the same key of another entity is another key
        const f4 = yield* Effect.forkChild(lane.runKeys("people", ["k2"], tracked(log, "people", people!)))
        yield* settle
        assert.deepStrictEqual(log.slice(2), ["other ends", "people starts"])
        yield* Deferred.succeed(people!, undefined)
        yield* Fiber.join(f4)
        yield* settle
        assert.notInclude(log, "second starts", "k2 is still held by the first")
        yield* Deferred.succeed(first!, undefined)
        yield* Fiber.join(f1)
        yield* settle
        assert.deepStrictEqual(log.slice(-2), ["first ends", "second starts"])
        yield* Deferred.succeed(second!, undefined)
        yield* Fiber.join(f2)
      }).pipe(Effect.provide(MergeLane.layer))
  )

  it.effect("forgets a merge interrupted while it waits, and one that fails, so the next ones run", () =>
    Effect.gen(function* () {
      const lane = yield* MergeLane
      const log: Array<string> = []
      const [held, last] = yield* Effect.all(Array.from({ length: 2 }, () => Deferred.make<void>()))
      const fHeld = yield* Effect.forkChild(lane.runKeys("company", ["k"], tracked(log, "held", held!)))
      yield* Effect.yieldNow
      const waiter = yield* Effect.forkChild(lane.run(tracked(log, "never", held!)))
      yield* settle
      yield* Fiber.interrupt(waiter)
      const failed = yield* Effect.flip(lane.runKeys("company", ["j"], Effect.fail("boom")))
      assert.strictEqual(failed, "boom")
      yield* Deferred.succeed(held!, undefined)
      yield* Fiber.join(fHeld)
      // nothing is left in the lane: a merge alone runs at once
      yield* Deferred.succeed(last!, undefined)
      yield* lane.run(tracked(log, "last", last!))
      assert.deepStrictEqual(log, ["held starts", "held ends", "last starts", "last ends"])
    }).pipe(Effect.provide(MergeLane.layer))
  )
})
