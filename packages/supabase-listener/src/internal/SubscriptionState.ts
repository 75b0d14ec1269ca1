/**
 * The state of the listener's Realtime channel, from what realtime-js reports (`realtime-protocol.md`
 * §2.4, §2.5, §4.2, §4.3, §4.12). `SUBSCRIBED` only means the channel joined: changes flow once the server
 * says "Subscribed to PostgreSQL", and whatever committed before that, or while the channel was down, was
 * never sent (Realtime replays nothing). So every step into `live` asks for a catch-up, and so does every
 * further "Subscribed to PostgreSQL" (the server re-subscribes everyone after a restart of its workers).
 *
 * ```
 *                  Subscribed                 SystemOk (catch-up)
 *   connecting ──────────────▶ joined ───────────────────────────▶ live ─┐ SystemOk (catch-up)
 *       ▲                        │ ▲                                  │ ◀┘
 *       │            ChannelError│ │Subscribed           ChannelError │
 *       │                        ▼ │                                  ▼
 *       │                      errored ◀──────────────────────────────┘  (realtime-js rejoins by itself)
 *       │ Reopened
 *     closed ◀── Closed, from any state (the server closed the channel: realtime-js does not rejoin)
 * ```
 * A `SystemError` (a binding the server refused: none of the channel's bindings is active) leaves the
 * state where it is; the daemon's poll keeps the workspace followed meanwhile.
 */

/** Where the channel is. */
export type SubscriptionState = "connecting" | "joined" | "live" | "errored" | "closed"

/** What realtime-js reported. */
export type SubscriptionEvent =
  | "Subscribed"
  | "SystemOk"
  | "SystemError"
  | "ChannelError"
  | "Closed"
  | "Reopened"

/** The state after an event, and whether the workspace must be caught up (changes may have been missed). */
export interface Transition {
  readonly state: SubscriptionState
  readonly catchUp: boolean
}

const table: Readonly<Record<SubscriptionState, Partial<Record<SubscriptionEvent, Transition>>>> = {
  connecting: {
    Subscribed: { state: "joined", catchUp: false },
    ChannelError: { state: "errored", catchUp: false },
    Closed: { state: "closed", catchUp: false }
  },
  joined: {
    SystemOk: { state: "live", catchUp: true },
    ChannelError: { state: "errored", catchUp: false },
    Closed: { state: "closed", catchUp: false }
  },
  live: {
    SystemOk: { state: "live", catchUp: true },
    ChannelError: { state: "errored", catchUp: false },
    Closed: { state: "closed", catchUp: false },
    // a join while live (a rejoin the client made on its own): wait for the server's word again
    Subscribed: { state: "joined", catchUp: false }
  },
  errored: {
    Subscribed: { state: "joined", catchUp: false },
    ChannelError: { state: "errored", catchUp: false },
    Closed: { state: "closed", catchUp: false }
  },
  closed: {
    Reopened: { state: "connecting", catchUp: false }
  }
}

/** The transition of `event` in `state`; an event that does not apply leaves the state as it is. */
export const transition = (state: SubscriptionState, event: SubscriptionEvent): Transition =>
  table[state][event] ?? { state, catchUp: false }
