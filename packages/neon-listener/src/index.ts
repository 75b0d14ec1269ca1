/**
 * `@enrich-sync/neon-listener`: follows the Neon invalid tables through a pgoutput logical replication
 * slot and emits, per committed transaction, the keys it touched; the daemon acknowledges what it has
 * applied. Also the preflight that creates the publication and slot (`ensureSlot`), which a backfill
 * runs before reading its snapshot.
 */
export * from "./ListenerEvent.ts"
export * from "./NeonListener.ts"
export * from "./NeonListenerConfig.ts"
export * from "./NeonListenerError.ts"
export { directHostUrl, type EnsuredSlot, ensureSlot } from "./Preflight.ts"
