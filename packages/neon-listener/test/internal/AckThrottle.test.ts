/**
 * The acknowledgement throttle on `TestClock`: the first request after a quiet spell is sent at once, a
 * burst after it waits for the interval and then goes out as one status with the latest position, and a
 * zero interval holds nothing.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/testing/TestClock"
import { makeAckThrottle } from "../../src/internal/AckThrottle.ts"

/** A throttle whose `send` records the time and the position it read. */
const recording = (interval: Duration.Duration) =>
  Effect.gen(function* () {
    let position = 0
    const sent: Array<{ readonly at: number; readonly position: number }> = []
    const clock = yield* Clock.Clock
    const throttle = yield* makeAckThrottle(interval, () => {
      sent.push({ at: clock.currentTimeMillisUnsafe(), position })
    })
    /** an acknowledgement that moved the confirmed position to `to` */
    const ack = (to: number) =>
      Effect.sync(() => {
        position = to
        throttle.request()
      }).pipe(Effect.andThen(settle))
    return { sent, ack }
  })

/** Lets the throttle's fiber run what is due now. */
const settle = Effect.andThen(Effect.yieldNow, Effect.yieldNow)

describe("AckThrottle", () => {
  it.effect(
    "sends the first at once, holds a burst until the interval ends, then sends the latest once",
    () =>
      Effect.gen(function* () {
        const { sent, ack } = yield* recording(Duration.seconds(5))
        yield* ack(1)
        assert.deepStrictEqual(sent, [{ at: 0, position: 1 }])
        yield* TestClock.adjust("1 second")
        yield* ack(2)
        yield* ack(3)
        yield* TestClock.adjust("3 seconds")
        assert.deepStrictEqual(sent, [{ at: 0, position: 1 }], "the burst waits for the interval")
        yield* TestClock.adjust("1 second")
        yield* settle
        assert.deepStrictEqual(sent, [
          { at: 0, position: 1 },
          { at: 5000, position: 3 }
        ])
        // quiet for longer than the interval: the next one goes out at once again
        yield* TestClock.adjust("20 seconds")
        assert.strictEqual(sent.length, 2, "nothing is sent without a request")
        yield* ack(4)
        assert.deepStrictEqual(sent[2], { at: 25_000, position: 4 })
      })
  )

  it.effect("a request during the interval after a held status waits for its own interval", () =>
    Effect.gen(function* () {
      const { sent, ack } = yield* recording(Duration.seconds(1))
      yield* ack(1)
      yield* ack(2)
      yield* TestClock.adjust("1 second")
      yield* settle
      yield* ack(3)
      yield* TestClock.adjust("999 millis")
      assert.deepStrictEqual(
        sent.map((s) => [s.at, s.position]),
        [
          [0, 1],
          [1000, 2]
        ]
      )
      yield* TestClock.adjust("1 millis")
      yield* settle
      assert.deepStrictEqual(sent[2], { at: 2000, position: 3 })
    })
  )

  it.effect("with a zero interval every request is sent at once", () =>
    Effect.gen(function* () {
      const { sent, ack } = yield* recording(Duration.zero)
      yield* ack(1)
      yield* ack(2)
      yield* ack(3)
      assert.deepStrictEqual(
        sent.map((s) => s.position),
        [1, 2, 3]
      )
      assert.isTrue(sent.every((s) => s.at === 0))
    })
  )
})
