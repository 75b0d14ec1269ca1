/**
 * `@enrich-sync/embedded`: the run-time support of the embedded default. Real PostgreSQL servers (logical
 * decoding on, loopback only, stopped with their owner), databases made and dropped on them, the demo
 * data shaped like the seeds, and a local stand-in for Supabase Realtime fed by logical decoding.
 * No test framework: the daemon's `pnpm start` runs on this, and `@enrich-sync/testing` builds on it.
 */
export * from "./Client.ts"
export * from "./CopyText.ts"
export * from "./Databases.ts"
export * from "./DemoData.ts"
export * from "./PostgresServer.ts"
export * from "./ProcessAlive.ts"
export * from "./realtime/RealtimeStandIn.ts"
export * from "./SeededRandom.ts"
