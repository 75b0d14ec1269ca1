/**
 * `@enrich-sync/supabase-listener`: the workspace side's event source, Supabase Realtime
 * `postgres_changes` (with `@supabase/realtime-js`) plus catch-up after every (re)subscribe.
 *
 * Not built yet: until it is, the daemon finds workspace edits by polling the rows a person touched
 * (`sync_dirty`, set by the workspace trigger), which is also the catch-up this listener will run after
 * each (re)subscribe. This package is the place reserved for it in the layout.
 */
export {}
