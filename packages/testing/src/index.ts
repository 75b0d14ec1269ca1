/**
 * `@enrich-sync/testing` (private): the test harness on top of `@enrich-sync/embedded`. The vitest global
 * setup that shares one "neon" and one "supabase" server per run, fresh databases per test, and (re-exported
 * for tests) the servers, demo data and Realtime stand-in of `@enrich-sync/embedded`; fast-check arbitraries of
 * text as Postgres prints it; and what an effect writes on stdout and stderr, captured.
 */
export * from "@enrich-sync/embedded"
export * from "./CapturedOutput.ts"
export { type InjectedServers, injectedServers } from "./GlobalSetup.ts"
export * from "./PgText.ts"
export * from "./TestDatabase.ts"
