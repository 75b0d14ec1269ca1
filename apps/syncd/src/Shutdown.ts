/**
 * A second SIGINT or SIGTERM stops the daemon at once. The first one interrupts it through the runtime,
 * which finishes and acknowledges the batch in flight (within ENRICH_SYNC_SHUTDOWN_SECONDS) before closing;
 * an operator who does not want to wait sends another.
 *
 * Invariant: stopping at once acknowledges nothing more: the process exits, its connections close, and
 * the databases roll back what was in flight; Neon keeps everything unacknowledged in the slot.
 */
import * as Effect from "effect/Effect"

let signals = 0

/** Whether a stop signal (SIGINT or SIGTERM) has arrived: the stop is under way. */
export const stopAsked = (): boolean => signals > 0

/** For the scope: on the second stop signal, exit with status 1 at once. */
export const stopAtSecondSignal = Effect.acquireRelease(
  Effect.sync(() => {
    const onSignal = (signal: NodeJS.Signals) => {
      signals++
      if (signals < 2) return
      process.stderr.write(`syncd: ${signal} again: stopping at once (what was in flight rolls back)\n`)
      process.exit(1)
    }
    process.on("SIGINT", onSignal)
    process.on("SIGTERM", onSignal)
    return onSignal
  }),
  (onSignal) =>
    Effect.sync(() => {
      process.removeListener("SIGINT", onSignal)
      process.removeListener("SIGTERM", onSignal)
    })
)
