/**
 * The leader's summary line: what was applied in each direction since the last look, and nothing at all
 * while no work flows (the observations themselves, lag, pending pushes and clock skew, are not work).
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { summaryOf } from "../src/Observer.ts"
import { SyncMetrics } from "../src/SyncMetrics.ts"

/** A fresh snapshot, as the daemon starts. */
const fresh = Effect.flatMap(SyncMetrics, (metrics) => metrics.snapshot).pipe(
  Effect.provide(SyncMetrics.layer)
)

describe("summaryOf", () => {
  it.effect("says nothing while no work flows, whatever the observations and other counters do", () =>
    Effect.gen(function* () {
      const before = yield* fresh
      assert.isNull(summaryOf(before, before))
      assert.isNull(
        summaryOf(before, {
          ...before,
          lagBytes: 4096,
          pushesPending: { company: 3 },
          clockSkewMs: { neon: 1500, workspace: -20 },
          oldestPendingCommit: "2025-03-01T12:00:00.000Z",
          role: "leader",
          live: true,
          reconciles: 1,
          antiEntropyRuns: 2,
          webhookPending: 5
        })
      )
    })
  )

  it.effect("counts what moved in each direction since the last look, with the position applied last", () =>
    Effect.gen(function* () {
      const start = yield* fresh
      const before = {
        ...start,
        neonKeys: 10,
        neonTransactions: 2,
        workspaceKeys: 4,
        pushed: 1,
        conflicts: 1,
        lastAppliedLsn: "0/16B3700"
      }
      const now = {
        ...before,
        neonKeys: 25,
        neonTransactions: 5,
        workspaceKeys: 7,
        pushed: 3,
        conflicts: 2,
        lastAppliedLsn: "0/16B3748"
      }
      assert.deepStrictEqual(summaryOf(before, now), {
        msg: "applied 15 Neon change(s) in 3 transaction(s) to the workspace; merged 3 workspace edit(s), 2 pushed to Neon and re-validated; 1 conflict(s) logged",
        fields: { neonKeys: 15, workspaceKeys: 3, pushed: 2, conflicts: 1, lsn: "0/16B3748" }
      })
    })
  )

  it.effect("writes a line when any one of its figures moved, and no position before one is applied", () =>
    Effect.gen(function* () {
      const before = yield* fresh
      const moved = (change: Partial<typeof before>) => summaryOf(before, { ...before, ...change })?.fields
      assert.deepStrictEqual(moved({ neonKeys: 1 }), {
        neonKeys: 1,
        workspaceKeys: 0,
        pushed: 0,
        conflicts: 0
      })
      assert.deepStrictEqual(moved({ workspaceKeys: 2 }), {
        neonKeys: 0,
        workspaceKeys: 2,
        pushed: 0,
        conflicts: 0
      })
      assert.deepStrictEqual(moved({ pushed: 3 }), { neonKeys: 0, workspaceKeys: 0, pushed: 3, conflicts: 0 })
      assert.deepStrictEqual(moved({ conflicts: 4 }), {
        neonKeys: 0,
        workspaceKeys: 0,
        pushed: 0,
        conflicts: 4
      })
      // transactions applied without a key (nothing of ours changed) still say the follower moved
      assert.strictEqual(
        summaryOf(before, { ...before, neonTransactions: 2, lastAppliedLsn: "0/16B3748" })?.msg.startsWith(
          "applied 0 Neon change(s) in 2 transaction(s)"
        ),
        true
      )
    })
  )
})
