/**
 * The subscription against the Realtime stand-in (the real realtime-js client over a real WebSocket), on
 * `TestClock`: a channel the server closed is opened again exactly `reopenAfter` later, and nothing fires
 * once the scope has closed; events carry the key columns only (`select`).
 */
import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/testing/TestClock"
import { type ChangePayload, openSubscription } from "../../src/internal/RealtimeSubscription.ts"
import type { SubscriptionEvent } from "../../src/internal/SubscriptionState.ts"
import { realtimeEndpoint } from "../../src/SupabaseListenerConfig.ts"
import { standInFixture } from "../support/StandIn.ts"

const table = { schema: "public", name: "watched", key: "k" }

const fixture = standInFixture("rt_subscription", [
  "CREATE TABLE watched (id bigserial PRIMARY KEY, k text UNIQUE NOT NULL, other text)",
  "CREATE PUBLICATION supabase_realtime FOR TABLE watched"
])

/** Polls `check` every 20 ms of real time (the test's clock stands still) for up to 10 s. */
const eventually = (what: string, check: () => boolean) =>
  TestClock.withLive(
    Effect.gen(function* () {
      for (let i = 0; i < 500; i++) {
        if (check()) return
        yield* Effect.sleep("20 millis")
      }
      return yield* Effect.die(new Error(`timed out waiting for ${what}`))
    })
  )

/** Lets real time pass (the test's clock stands still). */
const realSleep = (duration: Duration.Input) => TestClock.withLive(Effect.sleep(duration))

describe("RealtimeSubscription", () => {
  it.effect(
    "opens a channel the server closed again exactly reopenAfter later, and nothing after close",
    () =>
      Effect.gen(function* () {
        const events: Array<SubscriptionEvent> = []
        const changes: Array<ChangePayload> = []
        const count = (event: SubscriptionEvent) => events.filter((e) => e === event).length
        yield* Effect.scoped(
          Effect.gen(function* () {
            yield* openSubscription(
              {
                endpoint: realtimeEndpoint(fixture.standIn.url)!,
                apiKey: "stand-in-key",
                topic: "subscription-test",
                tables: [table],
                filter: null,
                select: [],
                reopenAfter: Duration.minutes(1)
              },
              {
                onStatus: (event) => events.push(event),
                onChange: (_, payload) => changes.push(payload)
              }
            )
            yield* eventually("Subscribed to PostgreSQL", () => count("SystemOk") === 1)
            fixture.standIn.faults.closeChannels()
            yield* eventually("the channel closed", () => count("Closed") === 1)
            yield* realSleep("300 millis")
            yield* TestClock.adjust("59 seconds")
            yield* realSleep("100 millis")
            assert.strictEqual(count("Reopened"), 0, "not before reopenAfter")
            yield* TestClock.adjust("1 second")
            yield* eventually(
              "the channel opened again and live",
              () => count("Reopened") === 1 && count("SystemOk") === 2
            )
            yield* fixture.sql(
              "INSERT INTO watched (k, other) VALUES ('on the new channel', 'not asked for')"
            )
            yield* eventually("the change on the new channel", () => changes.length === 1)
            assert.strictEqual(changes[0]?.new.k, "on the new channel")
            // the key (and the primary key) only: the rest of the row is not asked for
            assert.deepStrictEqual(Object.keys(changes[0]?.new ?? {}).sort(), ["id", "k"])
            // closed again, and the scope closes before reopenAfter: no channel is opened after it
            fixture.standIn.faults.closeChannels()
            yield* eventually("the channel closed again", () => count("Closed") === 2)
          })
        )
        const after = events.length
        yield* TestClock.adjust("2 minutes")
        yield* fixture.sql("INSERT INTO watched (k) VALUES ('after close')")
        yield* realSleep("300 millis")
        assert.strictEqual(events.length, after, "no status after close")
        assert.strictEqual(changes.length, 1, "no change after close")
      })
  )
})
