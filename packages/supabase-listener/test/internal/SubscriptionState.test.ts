import { assert, describe, it } from "@effect/vitest"
import {
  type SubscriptionEvent,
  type SubscriptionState,
  transition
} from "../../src/internal/SubscriptionState.ts"

describe("the subscription's state machine", () => {
  it.each<[SubscriptionState, SubscriptionEvent, SubscriptionState, boolean]>([
    ["connecting", "Subscribed", "joined", false],
    // joined is not live: the server has not said "Subscribed to PostgreSQL" yet
    ["joined", "SystemOk", "live", true],
    ["live", "SystemOk", "live", true],
    ["live", "ChannelError", "errored", false],
    ["errored", "Subscribed", "joined", false],
    ["joined", "ChannelError", "errored", false],
    ["live", "Closed", "closed", false],
    ["closed", "Reopened", "connecting", false],
    ["live", "Subscribed", "joined", false],
    // a refused subscription leaves the channel joined, not live
    ["joined", "SystemError", "joined", false],
    ["live", "SystemError", "live", false],
    // what does not apply changes nothing
    ["closed", "SystemOk", "closed", false],
    ["connecting", "SystemOk", "connecting", false]
  ])("%s + %s -> %s (catch-up: %s)", (state, event, next, catchUp) => {
    assert.deepStrictEqual(transition(state, event), { state: next, catchUp })
  })

  it("asks for a catch-up exactly when it becomes live, however it got there", () => {
    const events: ReadonlyArray<SubscriptionEvent> = [
      "Subscribed",
      "SystemOk",
      "ChannelError",
      "ChannelError",
      "Subscribed",
      "SystemOk",
      "SystemOk",
      "Closed",
      "Reopened",
      "Subscribed",
      "SystemError"
    ]
    let state: SubscriptionState = "connecting"
    const catchUps: Array<number> = []
    events.forEach((e, i) => {
      const t = transition(state, e)
      state = t.state
      if (t.catchUp) catchUps.push(i)
    })
    assert.deepStrictEqual(catchUps, [1, 5, 6])
    assert.strictEqual(state, "joined")
  })
})
