/**
 * The Supabase listener's configuration: where Realtime is, the key, the tables to follow; defaults filled
 * in and every value checked, with errors that name the problem (and never the key).
 */
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type { FollowedTable } from "./internal/RealtimeSubscription.ts"
import { SupabaseListenerError } from "./SupabaseListenerError.ts"

export type { FollowedTable } from "./internal/RealtimeSubscription.ts"

/** What the listener needs. */
export interface SupabaseListenerConfig {
  /**
   * the project URL (`https://<ref>.supabase.co`, as Supabase shows it; `http://` for a local one): an
   * absolute http(s) URL with a host, without credentials, query or fragment (see `realtimeEndpoint`)
   */
  readonly url: string
  /** the project's service role (or secret) key: Realtime sends a role only the changes it may read */
  readonly apiKey: Redacted.Redacted<string>
  /** the tables to follow, each with its key column (the Barton ID) */
  readonly tables: ReadonlyArray<FollowedTable>
  /**
   * a boolean column that is true on rows holding edits not merged yet (the workspace trigger's
   * `sync_dirty`): the subscription asks the server for those rows only (`<column>=eq.true`), and an INSERT
   * or UPDATE whose new row has it false (the engine's own write) is not reported either. Deletes then do
   * not reach the listener (Realtime matches a DELETE's filter against its old identity, the primary key).
   * Default: every change is reported.
   */
  readonly dirtyColumn?: string | undefined
  /** the channel's topic (default `enrich-sync-workspace`) */
  readonly topic?: string | undefined
  /** how long after the server closed the channel a new one is opened (default 1 s) */
  readonly reopenAfter?: Duration.Input | undefined
  /** realtime-js' heartbeat (default 25 s, as Supabase's clients) */
  readonly heartbeatInterval?: Duration.Input | undefined
}

/** A configuration with every default filled in and every value checked. */
export interface ResolvedConfig {
  readonly endpoint: string
  readonly apiKey: Redacted.Redacted<string>
  readonly tables: ReadonlyArray<FollowedTable>
  readonly dirtyColumn: string | null
  readonly topic: string
  readonly reopenAfter: Duration.Duration
  readonly heartbeatInterval: Duration.Duration
}

const invalid = (message: string) => new SupabaseListenerError({ reason: "Configuration", message })

/**
 * The Realtime endpoint of a project URL: `https://x` becomes `wss://x/realtime/v1` (`http://` becomes
 * `ws://`; a path is kept, for a project behind a proxy). Null unless the URL is an absolute `http://` or
 * `https://` URL, written with its `//`, with a host and no credentials, query or fragment: not a word
 * (`notaurl`), not another scheme (`ftp://`, `postgres://`: the database's URL, not the project's, nor
 * Realtime's own `wss://`), not `http://` alone, not `https:host` (which URL parsers would take for
 * `https://host`).
 */
export const realtimeEndpoint = (url: string): string | null => {
  const text = url.trim()
  if (!/^https?:\/\//i.test(text)) return null
  let parsed: URL
  try {
    parsed = new URL(text)
  } catch {
    return null
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return null
  if (parsed.hostname === "" || parsed.username !== "" || parsed.password !== "") return null
  if (parsed.search !== "" || parsed.hash !== "" || text.includes("?") || text.includes("#")) return null
  const path = parsed.pathname.replace(/\/+$/, "")
  return `${parsed.protocol === "https:" ? "wss" : "ws"}://${parsed.host}${path}/realtime/v1`
}

const duration = (input: Duration.Input | undefined, fallback: Duration.Duration) =>
  input === undefined ? fallback : Option.getOrUndefined(Duration.fromInput(input))

/** Fills in defaults and checks the values; a `Configuration` error names what is wrong. */
export const resolveConfig = (config: SupabaseListenerConfig): ResolvedConfig | SupabaseListenerError => {
  const endpoint = realtimeEndpoint(config.url)
  if (endpoint === null) {
    return invalid(
      "the Supabase URL is not a project URL: use https://<project-ref>.supabase.co (Project Settings > API), an http(s) URL without credentials, query or fragment"
    )
  }
  if (Redacted.value(config.apiKey).trim() === "") {
    return invalid(
      "the Supabase API key is empty: use the project's service role key (Project Settings > API)"
    )
  }
  if (config.tables.length === 0) return invalid("the Supabase listener needs at least one table to follow")
  const topic = config.topic ?? "enrich-sync-workspace"
  if (topic.trim() === "") return invalid("the Realtime topic must not be empty")
  const reopenAfter = duration(config.reopenAfter, Duration.seconds(1))
  const heartbeatInterval = duration(config.heartbeatInterval, Duration.seconds(25))
  if (reopenAfter === undefined || !(Duration.toMillis(reopenAfter) > 0))
    return invalid("reopenAfter must be a positive duration")
  if (heartbeatInterval === undefined || !(Duration.toMillis(heartbeatInterval) > 0))
    return invalid("heartbeatInterval must be a positive duration")
  return {
    endpoint,
    apiKey: config.apiKey,
    tables: config.tables,
    dirtyColumn: config.dirtyColumn ?? null,
    topic,
    reopenAfter,
    heartbeatInterval
  }
}
