/**
 * The slot against a real server, through `ensureSlot`: a slot of the name that is not a pgoutput slot,
 * and one that another connection holds (waited for, then named with its pid).
 */

import { assert, describe, it } from "@effect/vitest"
import { injectedServers } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import { ensureSlot } from "../src/Slot.ts"
import { expectFailure, freshSource, startListener, streaming, walsenderPid } from "./support/Source.ts"

describe("the slot", () => {
  it.live("a slot of that name that is not a pgoutput slot", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const source = yield* freshSource(injectedServers().neon, "nl_mismatch")
        yield* source.sql.query("SELECT pg_create_logical_replication_slot($1, 'test_decoding')", [
          source.slot
        ])
        const error = yield* ensureSlot(source.config).pipe(Effect.flip)
        expectFailure(
          error,
          "SlotMismatch",
          [/for test_decoding/, /pg_drop_replication_slot/],
          new URL(source.url).password
        )
        assert.isFalse(error.retryable)
      })
    )
  )

  it.live("a slot held by another connection: waits, then names the pid", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const source = yield* freshSource(injectedServers().neon, "nl_busy")
        const holder = yield* startListener(source.config)
        // streaming: the slot is held by the walsender (while the slot is being created, active_pid is the
        // creating backend's)
        yield* streaming(holder)
        const pid = yield* walsenderPid(source.sql, source.slot, "the holder's walsender")
        const started = Date.now()
        const error = yield* ensureSlot({ ...source.config, slotBusyTimeout: "400 millis" }).pipe(Effect.flip)
        assert.isAtLeast(Date.now() - started, 400, "it waited before giving up")
        expectFailure(
          error,
          "SlotInUse",
          [new RegExp(`PID ${pid}`), new RegExp(`pg_terminate_backend\\(${pid}\\)`)],
          new URL(source.url).password
        )
        assert.strictEqual(error.pid, pid)
        assert.isTrue(error.retryable)
        assert.isUndefined(holder.failure())
      })
    )
  )
})
