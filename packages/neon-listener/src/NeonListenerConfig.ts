/**
 * How the Neon listener is configured, with its defaults.
 *
 * Invariant: a resolved configuration has a valid slot and publication name (lower-case letters, digits
 * and underscores, as Postgres requires of slot names), at least one table, and positive durations and
 * sizes; `resolveConfig` is the only way to get one.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type { FollowedTable } from "./internal/TransactionAssembler.ts"
import { NeonListenerError } from "./NeonListenerError.ts"

export type { FollowedTable } from "./internal/TransactionAssembler.ts"

/** The listener's configuration. */
export interface NeonListenerConfig {
  /** NEON_REPLICATION_URL, or NEON_DATABASE_URL when it is the direct (not `-pooler`) host */
  readonly url: Redacted.Redacted<string>
  /** the logical replication slot (default `enrich_sync`) */
  readonly slot?: string | undefined
  /** the publication of the followed tables (default `enrich_sync_source`) */
  readonly publication?: string | undefined
  /** the tables to follow and each one's key column (the Barton ID column) */
  readonly tables: ReadonlyArray<FollowedTable>
  /** how often an idle slot is nudged with a `pg_logical_emit_message` heartbeat (default 10 s) */
  readonly heartbeatInterval?: Duration.Input | undefined
  /** the most keys in one `Changes` chunk (default 5000) */
  readonly maxChunkChanges?: number | undefined
  /** chunks buffered for a slow consumer before reading from the server pauses (default 1024) */
  readonly bufferChunks?: number | undefined
  /** keys buffered for a slow consumer before reading from the server pauses (default 10 000) */
  readonly bufferKeys?: number | undefined
  /** the shortest time between two status updates sent for acknowledgements (default 1 s; 0: each at once) */
  readonly ackInterval?: Duration.Input | undefined
  /** how long to wait for a slot that another connection holds before failing (default 30 s) */
  readonly slotBusyTimeout?: Duration.Input | undefined
  /**
   * asked each time the slot is found held by another connection: `true` when the caller alone may use the
   * slot (it holds the leader lock right now), so the holder is a previous one's (a daemon that hung or
   * died) and is ended at once instead of waited for (default: never)
   */
  readonly takeOverSlot?: Effect.Effect<boolean> | undefined
  /** how often the confirmed position is sent even when nothing changed (default 10 s) */
  readonly statusInterval?: Duration.Input | undefined
  /** the first delay before reconnecting (default 100 ms); it doubles up to `reconnectCap`, jittered */
  readonly reconnectBase?: Duration.Input | undefined
  /** the longest delay between reconnect attempts (default 30 s) */
  readonly reconnectCap?: Duration.Input | undefined
}

/** A configuration with every default filled in and every value checked. */
export interface ResolvedConfig {
  readonly url: Redacted.Redacted<string>
  readonly slot: string
  readonly publication: string
  readonly tables: ReadonlyArray<FollowedTable>
  readonly heartbeatInterval: Duration.Duration
  readonly maxChunkChanges: number
  readonly bufferChunks: number
  readonly bufferKeys: number
  readonly ackInterval: Duration.Duration
  readonly slotBusyTimeout: Duration.Duration
  readonly takeOverSlot: Effect.Effect<boolean>
  readonly statusInterval: Duration.Duration
  readonly reconnectBase: Duration.Duration
  readonly reconnectCap: Duration.Duration
}

/** The defaults. */
export const defaults = {
  slot: "enrich_sync",
  publication: "enrich_sync_source",
  heartbeatInterval: Duration.seconds(10),
  maxChunkChanges: 5000,
  bufferChunks: 1024,
  bufferKeys: 10_000,
  ackInterval: Duration.seconds(1),
  slotBusyTimeout: Duration.seconds(30),
  statusInterval: Duration.seconds(10),
  reconnectBase: Duration.millis(100),
  reconnectCap: Duration.seconds(30)
} as const

const objectName = /^[a-z_][a-z0-9_]{0,62}$/

const invalid = (message: string) => new NeonListenerError({ reason: "Configuration", message })

/** Fills in defaults and checks the values; fails with a `Configuration` error naming what is wrong. */
export const resolveConfig = (config: NeonListenerConfig): ResolvedConfig | NeonListenerError => {
  const slot = config.slot ?? defaults.slot
  const publication = config.publication ?? defaults.publication
  if (!objectName.test(slot)) {
    return invalid(
      `the replication slot name ${JSON.stringify(slot)} is not valid: use lower-case letters, digits and underscores (at most 63)`
    )
  }
  if (!objectName.test(publication)) {
    return invalid(
      `the publication name ${JSON.stringify(publication)} is not valid: use lower-case letters, digits and underscores (at most 63)`
    )
  }
  if (config.tables.length === 0) return invalid("the Neon listener needs at least one table to follow")
  try {
    new URL(Redacted.value(config.url))
  } catch {
    return invalid("the Neon URL is not a valid postgresql:// URL")
  }
  const durations = {
    heartbeatInterval: [config.heartbeatInterval, defaults.heartbeatInterval],
    slotBusyTimeout: [config.slotBusyTimeout, defaults.slotBusyTimeout],
    statusInterval: [config.statusInterval, defaults.statusInterval],
    reconnectBase: [config.reconnectBase, defaults.reconnectBase],
    reconnectCap: [config.reconnectCap, defaults.reconnectCap]
  } as const
  const resolvedDurations: Partial<Record<keyof typeof durations, Duration.Duration>> = {}
  for (const [name, [input, fallback]] of Object.entries(durations) as Array<
    [keyof typeof durations, readonly [Duration.Input | undefined, Duration.Duration]]
  >) {
    const d = input === undefined ? fallback : Option.getOrUndefined(Duration.fromInput(input))
    if (d === undefined || !(Duration.toMillis(d) > 0)) return invalid(`${name} must be a positive duration`)
    resolvedDurations[name] = d
  }
  const ackInterval =
    config.ackInterval === undefined
      ? defaults.ackInterval
      : Option.getOrUndefined(Duration.fromInput(config.ackInterval))
  if (ackInterval === undefined || !(Duration.toMillis(ackInterval) >= 0)) {
    return invalid("ackInterval must be a duration of zero or more")
  }
  const maxChunkChanges = config.maxChunkChanges ?? defaults.maxChunkChanges
  const bufferChunks = config.bufferChunks ?? defaults.bufferChunks
  const bufferKeys = config.bufferKeys ?? defaults.bufferKeys
  if (!Number.isInteger(maxChunkChanges) || maxChunkChanges < 1) {
    return invalid(`maxChunkChanges must be a positive integer, not ${maxChunkChanges}`)
  }
  if (!Number.isInteger(bufferChunks) || bufferChunks < 1) {
    return invalid(`bufferChunks must be a positive integer, not ${bufferChunks}`)
  }
  if (!Number.isInteger(bufferKeys) || bufferKeys < 1) {
    return invalid(`bufferKeys must be a positive integer, not ${bufferKeys}`)
  }
  return {
    url: config.url,
    slot,
    publication,
    tables: config.tables,
    maxChunkChanges,
    bufferChunks,
    bufferKeys,
    ackInterval,
    heartbeatInterval: resolvedDurations.heartbeatInterval!,
    slotBusyTimeout: resolvedDurations.slotBusyTimeout!,
    takeOverSlot: config.takeOverSlot ?? Effect.succeed(false),
    statusInterval: resolvedDurations.statusInterval!,
    reconnectBase: resolvedDurations.reconnectBase!,
    reconnectCap: resolvedDurations.reconnectCap!
  }
}
