/**
 * The connection lifecycle allows exactly the moves of its diagram: a start checks, connects and streams;
 * a lost stream or a retryable failure backs off and checks again; a fatal failure is final; `stop` ends
 * every state but `stopped`, which accepts nothing. Any other event is refused (the listener dies on it).
 */
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import {
  type ConnectionEvent,
  type ConnectionState,
  transition,
  transitions
} from "../../src/internal/ConnectionState.ts"

const states: ReadonlyArray<ConnectionState> = [
  "checking",
  "connecting",
  "streaming",
  "backoff",
  "failed",
  "stopped"
]
const events: ReadonlyArray<ConnectionEvent> = [
  "checked",
  "started",
  "lost",
  "retryable",
  "fatal",
  "retry",
  "stop"
]

/** The state after `path` from `checking`, or undefined at the first event refused. */
const walk = (path: ReadonlyArray<ConnectionEvent>): ConnectionState | undefined =>
  path.reduce<ConnectionState | undefined>(
    (s, e) => (s === undefined ? undefined : transition(s, e)),
    "checking"
  )

describe("ConnectionState", () => {
  it("a start checks, connects and streams", () => {
    assert.strictEqual(transition("checking", "checked"), "connecting")
    assert.strictEqual(transition("connecting", "started"), "streaming")
    assert.strictEqual(walk(["checked", "started"]), "streaming")
  })

  it("a lost stream backs off and starts over with the checks", () => {
    assert.strictEqual(transition("streaming", "lost"), "backoff")
    assert.strictEqual(transition("backoff", "retry"), "checking")
    assert.strictEqual(walk(["checked", "started", "lost", "retry", "checked", "started"]), "streaming")
  })

  it("a retryable failure while checking or connecting backs off; once streaming, a failure is a lost stream", () => {
    assert.strictEqual(transition("checking", "retryable"), "backoff")
    assert.strictEqual(transition("connecting", "retryable"), "backoff")
    assert.isUndefined(transition("streaming", "retryable"))
    assert.strictEqual(walk(["retryable", "retry", "checked", "retryable", "retry"]), "checking")
  })

  it("a fatal failure is final: from checking, connecting or streaming to failed, which only stops", () => {
    for (const from of ["checking", "connecting", "streaming"] as const) {
      assert.strictEqual(transition(from, "fatal"), "failed", from)
    }
    assert.isUndefined(transition("backoff", "fatal"), "a backoff waits; it does not fail by itself")
    for (const event of events) {
      assert.strictEqual(transition("failed", event), event === "stop" ? "stopped" : undefined, event)
    }
  })

  it("stop ends every state, and the stopped state accepts nothing, not even stop", () => {
    for (const state of states) {
      assert.strictEqual(transition(state, "stop"), state === "stopped" ? undefined : "stopped", state)
    }
    for (const event of events) assert.isUndefined(transition("stopped", event), event)
    assert.deepStrictEqual(transitions.stopped, {})
  })

  it("refuses the events a state does not expect", () => {
    const refused: ReadonlyArray<readonly [ConnectionState, ConnectionEvent]> = [
      ["checking", "started"],
      ["checking", "lost"],
      ["checking", "retry"],
      ["connecting", "checked"],
      ["connecting", "lost"],
      ["connecting", "retry"],
      ["streaming", "checked"],
      ["streaming", "started"],
      ["streaming", "retry"],
      ["backoff", "checked"],
      ["backoff", "started"],
      ["backoff", "lost"],
      ["backoff", "retryable"]
    ]
    for (const [state, event] of refused) assert.isUndefined(transition(state, event), `${state} on ${event}`)
  })

  it("the table names only known states, and every state is reachable from the start", () => {
    const reachable = new Set<ConnectionState>(["checking"])
    for (let grew = true; grew; ) {
      grew = false
      for (const state of [...reachable]) {
        for (const [event, next] of Object.entries(transitions[state])) {
          assert.include(events, event as ConnectionEvent)
          assert.include(states, next)
          if (!reachable.has(next)) {
            reachable.add(next)
            grew = true
          }
        }
      }
    }
    assert.deepStrictEqual([...reachable].sort(), [...states].sort())
    assert.deepStrictEqual(Object.keys(transitions).sort(), [...states].sort())
  })

  it("property: whatever happens, a failed connection never streams again and a stopped one never moves", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...events), { maxLength: 40 }), (path) => {
        let state: ConnectionState = "checking"
        let failed = false
        let stopped = false
        for (const event of path) {
          const next = transition(state, event)
          if (next === undefined) continue
          assert.isFalse(stopped, `moved out of stopped on ${event}`)
          if (failed) assert.strictEqual(next, "stopped")
          // streaming is reached only through a start that checked first
          if (next === "streaming") assert.strictEqual(state, "connecting")
          if (next === "connecting") assert.strictEqual(state, "checking")
          state = next
          failed ||= state === "failed"
          stopped ||= state === "stopped"
        }
      }),
      { numRuns: 1000 }
    )
  })
})
