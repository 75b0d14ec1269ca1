/** The Neon listener's status as a test's double reports it: in `state`, nothing received or confirmed yet. */
import type { ListenerStatus } from "@enrich-sync/neon-listener"

export const listenerStatus = (state: ListenerStatus["state"]): ListenerStatus => ({
  state,
  confirmed: 0n,
  delivered: 0n,
  waiting: 0,
  buffered: 0,
  reconnects: 0,
  lastError: null
})
