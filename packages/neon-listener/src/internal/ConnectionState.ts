/**
 * The listener's connection lifecycle, written down before the code that drives it.
 *
 * ```
 *                 ┌──────────────────────────── retry ─────────────────────────────┐
 *                 ▼                                                                 │
 *   start ──> checking ──checked──> connecting ──started──> streaming ──lost──> backoff
 *               │  │                   │  │                                         ▲
 *               │  └─ retryable ───────┼──┴─ retryable (refused, slot in use, ...) ─┘
 *               └─ fatal ──> failed <──┘ fatal (wal_level, role, missing key, ...)
 *
 *   any state ──stop──> stopped
 * ```
 *
 * - checking: preflight on a plain connection (server settings, role, tables, publication), then the
 *   slot: created when missing (SlotCreated), waited for when another connection holds it.
 * - connecting: START_REPLICATION from the confirmed position.
 * - streaming: messages flow; acknowledgements are sent as they come.
 * - backoff: a capped, jittered exponential delay; it restarts from the smallest delay after a
 *   connection that reached `streaming`.
 *
 * Invariant: only the transitions in `transitions` happen; anything else is a bug (a defect).
 */

/** Where the listener's connection is. */
export type ConnectionState = "checking" | "connecting" | "streaming" | "backoff" | "failed" | "stopped"

/** What moves it. */
export type ConnectionEvent = "checked" | "started" | "lost" | "retryable" | "fatal" | "retry" | "stop"

/** The allowed transitions: from each state, the events it accepts and where they lead. */
export const transitions: {
  readonly [S in ConnectionState]: { readonly [E in ConnectionEvent]?: ConnectionState }
} = {
  checking: { checked: "connecting", retryable: "backoff", fatal: "failed", stop: "stopped" },
  connecting: { started: "streaming", retryable: "backoff", fatal: "failed", stop: "stopped" },
  streaming: { lost: "backoff", fatal: "failed", stop: "stopped" },
  backoff: { retry: "checking", stop: "stopped" },
  failed: { stop: "stopped" },
  stopped: {}
}

/** The state after `event`, or `undefined` when `state` does not accept it. */
export const transition = (state: ConnectionState, event: ConnectionEvent): ConnectionState | undefined =>
  transitions[state][event]
