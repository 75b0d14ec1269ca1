/**
 * The merge lane: shared merges (Neon batches with disjoint keys) run beside each other, two at most; a
 * merge that runs alone waits for them, runs with nothing beside it, and is not overtaken by shared merges
 * asked for after it.
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

describe("MergeLane", () => {
  it.effect("runs two shared merges at once, a merge alone with nothing beside it, in the order asked", () =>
    Effect.gen(function* () {
      const lane = yield* MergeLane
      const log: Array<string> = []
      const [a, b, c, alone, d] = yield* Effect.all(Array.from({ length: 5 }, () => Deferred.make<void>()))
      assert.strictEqual(sharedMerges, 2)
      const fa = yield* Effect.forkChild(lane.runShared(tracked(log, "a", a!)))
      const fb = yield* Effect.forkChild(lane.runShared(tracked(log, "b", b!)))
      yield* Effect.yieldNow
      const fc = yield* Effect.forkChild(lane.runShared(tracked(log, "c", c!)))
      yield* Effect.yieldNow
      const fAlone = yield* Effect.forkChild(lane.run(tracked(log, "alone", alone!)))
      yield* Effect.yieldNow
      const fd = yield* Effect.forkChild(lane.runShared(tracked(log, "d", d!)))
      yield* Effect.yieldNow
      assert.deepStrictEqual(log, ["a starts", "b starts"], "two at most")
      yield* Deferred.succeed(a!, undefined)
      yield* Effect.yieldNow
      assert.deepStrictEqual(log.slice(2), ["a ends", "c starts"])
      // one shared merge ends: the merge alone still waits for the other, and d, asked for after it, waits too
      yield* Deferred.succeed(b!, undefined)
      yield* Fiber.join(fb)
      for (let i = 0; i < 10; i++) yield* Effect.yieldNow
      assert.deepStrictEqual(log.slice(4), ["b ends"])
      yield* Deferred.succeed(c!, undefined)
      yield* Fiber.join(fc)
      for (let i = 0; i < 10; i++) yield* Effect.yieldNow
      assert.deepStrictEqual(log.slice(4), ["b ends", "c ends", "alone starts"])
      yield* Deferred.succeed(alone!, undefined)
      yield* Fiber.join(fAlone)
      yield* Effect.yieldNow
      assert.strictEqual(log.at(-1), "d starts")
      yield* Deferred.succeed(d!, undefined)
      yield* Fiber.join(fd)
      yield* Fiber.join(fa)
    }).pipe(Effect.provide(MergeLane.layer))
  )
})
