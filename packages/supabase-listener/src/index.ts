/**
 * `@enrich-sync/supabase-listener`: the workspace side's event source, Supabase Realtime
 * `postgres_changes` (with `@supabase/realtime-js`): the keys of the rows that changed, and a catch-up
 * whenever changes may have been missed (every (re)subscribe; see `SupabaseListener`).
 */
export * from "./SupabaseListener.ts"
export * from "./SupabaseListenerConfig.ts"
export * from "./SupabaseListenerError.ts"
