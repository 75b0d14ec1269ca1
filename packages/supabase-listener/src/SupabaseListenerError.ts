/**
 * What can stop the Supabase listener from starting, as one tagged error whose message names the problem
 * and its fix in one line (never the API key). Once started, the listener does not fail: realtime-js
 * reconnects by itself, and every gap it leaves is reported as a catch-up.
 */
import * as Schema from "effect/Schema"

/** Why the listener could not start. */
export const SupabaseListenerFailure = Schema.Literals([
  /** the configuration itself is wrong (a malformed URL, an empty key, no table) */
  "Configuration",
  /** realtime-js could not be set up */
  "Client"
])
export type SupabaseListenerFailure = typeof SupabaseListenerFailure.Type

/** The listener could not start. */
export class SupabaseListenerError extends Schema.TaggedError<SupabaseListenerError>()(
  "SupabaseListenerError",
  {
    reason: SupabaseListenerFailure,
    /** one line: what went wrong and how to fix it (the key never appears) */
    message: Schema.String,
    cause: Schema.optional(Schema.Defect())
  }
) {}
