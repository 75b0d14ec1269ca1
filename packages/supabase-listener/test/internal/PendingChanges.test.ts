import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { PendingChanges } from "../../src/internal/PendingChanges.ts"

describe("pending changes", () => {
  it.effect("a take takes everything pending at once, keys deduplicated, catch-up reasons once each", () =>
    Effect.gen(function* () {
      const pending = new PendingChanges()
      pending.addKey("public.t", "a")
      pending.addKey("public.t", "a")
      pending.addKey("public.t", "b")
      pending.addKey("public.u", "a")
      pending.addCatchUp("subscribed")
      pending.addCatchUp("subscribed")
      assert.strictEqual(pending.size, 3)
      const taken = yield* pending.take
      assert.deepStrictEqual(
        [...taken.keys],
        [
          ["public.t", ["a", "b"]],
          ["public.u", ["a"]]
        ]
      )
      assert.deepStrictEqual(taken.catchUp, ["subscribed"])
      assert.strictEqual(pending.size, 0)
    })
  )

  it.effect("a take waits while nothing is pending; what comes after it returned waits for the next", () =>
    Effect.gen(function* () {
      const pending = new PendingChanges()
      const first = yield* Effect.forkChild(pending.take)
      yield* Effect.yieldNow
      assert.isUndefined(first.pollUnsafe(), "a take returned with nothing pending")
      pending.addKey("public.t", "a")
      pending.addKey("public.t", "b")
      pending.addCatchUp("again")
      const taken = [yield* Fiber.join(first)]
      while (pending.size > 0 || taken.every((t) => t.catchUp.length === 0)) taken.push(yield* pending.take)
      assert.deepStrictEqual(taken.flatMap((t) => t.keys.get("public.t") ?? []).sort(), ["a", "b"])
      assert.deepStrictEqual(
        taken.flatMap((t) => t.catchUp),
        ["again"]
      )
      // nothing left: the next take waits again
      const next = yield* Effect.forkChild(pending.take)
      yield* Effect.yieldNow
      assert.isUndefined(next.pollUnsafe())
      yield* Fiber.interrupt(next)
    })
  )
})
