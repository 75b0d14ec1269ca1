/**
 * The merge lane: batches of disjoint keys run beside each other, `sharedMerges` (4) at most; batches that share a key run
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

/** A test of a fresh merge lane, with the log its tracked merges write to. */
const laneTest = (
  name: string,
  test: (lane: MergeLane["Service"], log: Array<string>) => Effect.Effect<void>
) =>
  it.effect(name, () =>
    Effect.flatMap(MergeLane, (lane) => test(lane, [])).pipe(Effect.provide(MergeLane.layer))
  )

describe("MergeLane", () => {
  laneTest(
    "runs sharedMerges (4) batches at once, a merge alone with nothing beside it, in the order asked",
    (lane, log) =>
      Effect.gen(function* () {
        assert.strictEqual(sharedMerges, 4)
        const names = Array.from({ length: sharedMerges }, (_, i) => `b${i}`)
        const releases = new Map<string, Deferred.Deferred<void>>()
        for (const name of [...names, "c", "alone", "d"]) releases.set(name, yield* Deferred.make<void>())
        const release = (name: string) => Deferred.succeed(releases.get(name)!, undefined)
        const batch = (name: string) =>
          Effect.forkChild(lane.runKeys("company", [name], tracked(log, name, releases.get(name)!)))
        const running = []
        for (const name of names) running.push(yield* batch(name))
        yield* Effect.yieldNow
        const fc = yield* batch("c")
        yield* Effect.yieldNow
        const fAlone = yield* Effect.forkChild(lane.run(tracked(log, "alone", releases.get("alone")!)))
        yield* Effect.yieldNow
        const fd = yield* batch("d")
        yield* Effect.yieldNow
        assert.deepStrictEqual(
          log,
          names.map((n) => `${n} starts`),
          `${sharedMerges} at most`
        )
        yield* release("b0")
        yield* settle
        assert.deepStrictEqual(log.slice(sharedMerges), ["b0 ends", "c starts"])
        // the other batches end: the merge alone still waits for c, and d, asked for after it, waits too
        for (const [i, name] of names.entries()) {
          if (i === 0) continue
          yield* release(name)
          yield* Fiber.join(running[i]!)
        }
        yield* settle
        const afterFirst = sharedMerges + 2
        assert.deepStrictEqual(
          log.slice(afterFirst),
          names.slice(1).map((n) => `${n} ends`)
        )
        yield* release("c")
        yield* Fiber.join(fc)
        yield* settle
        assert.deepStrictEqual(log.slice(afterFirst + sharedMerges - 1), ["c ends", "alone starts"])
        yield* release("alone")
        yield* Fiber.join(fAlone)
        yield* settle
        assert.strictEqual(log.at(-1), "d starts")
        yield* release("d")
        yield* Fiber.join(fd)
        yield* Fiber.join(running[0]!)
      })
  )

  laneTest(
    "runs batches that share a key one at a time, in the order asked, and lets a batch of other keys pass them",
    (lane, log) =>
      Effect.gen(function* () {
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
      })
  )

  laneTest(
    "forgets a merge interrupted while it waits, and one that fails, so the next ones run",
    (lane, log) =>
      Effect.gen(function* () {
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
      })
  )
})
