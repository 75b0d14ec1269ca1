import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/testing/TestClock"
import { timed } from "../../src/stages/EntityStage.ts"

describe("a timed stage", () => {
  it.effect("completes the work's report with how long the work took by the Clock", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(Date.UTC(2025, 10, 7, 16, 32, 9))
      const running = yield* Effect.forkChild(
        timed(Effect.as(Effect.sleep("1500 millis"), { entity: "company", inserted: 3 }))
      )
      yield* TestClock.adjust("1500 millis")
      const report = yield* Fiber.join(running)
      assert.deepStrictEqual(report, { entity: "company", inserted: 3, durationMs: 1500 })
    })
  )

  it.effect("fails with the work's error and no report", () =>
    Effect.gen(function* () {
      const error = yield* timed(Effect.fail("the workspace is unreachable")).pipe(Effect.flip)
      assert.strictEqual(error, "the workspace is unreachable")
    })
  )
})
