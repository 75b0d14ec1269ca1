/**
 * `@enrich-sync/testing` (private): real PostgreSQL servers for tests (and the daemon's embedded default),
 * the vitest global setup that shares one "neon" and one "supabase" server per run, fresh databases per
 * test, and deterministic demo data shaped like the seeds.
 */
export * from "./Client.ts"
export * from "./CopyText.ts"
export * from "./DemoData.ts"
export { type InjectedServers, injectedServers } from "./GlobalSetup.ts"
export * from "./PostgresServer.ts"
export * from "./realtime/RealtimeStandIn.ts"
export * from "./TestDatabase.ts"
