/**
 * `@enrich-sync/neon-listener`: follows the Neon invalid tables through a pgoutput logical replication
 * slot and emits, per committed transaction, the keys it touched; the daemon acknowledges what it has
 * applied. Also `ensureSlot`, which checks Neon and creates the publication and slot, run before
 * anything reads a snapshot the slot must follow on from.
 */

export { type Finding, inspectSource } from "./Inspection.ts"
export * from "./ListenerEvent.ts"
export * from "./NeonListener.ts"
export * from "./NeonListenerConfig.ts"
export * from "./NeonListenerError.ts"
export { directHostUrl } from "./Preflight.ts"
export { type EnsuredSlot, ensureSlot } from "./Slot.ts"
