/**
 * The logical replication slot the listener follows, and `ensureSlot`, which makes Neon ready to feed it:
 * the preflight checks, the publication, then the slot itself (created when missing or invalidated,
 * waited for while another connection holds it).
 *
 * Invariant: when `ensureSlot` succeeds, the slot exists, is a pgoutput slot of this database, is not
 * held by another connection, and the publication publishes every change of every followed table, each
 * of whose replica identity includes its key column. A slot created before a snapshot is read (the
 * daemon runs `ensureSlot` before its start-up reconcile reads Neon) holds every change committed after
 * that snapshot.
 */
import type { Lsn } from "@enrich-sync/core"
import { formatLsn, parseLsn } from "@enrich-sync/core"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { openSession, type SqlSession } from "./internal/SqlSession.ts"
import type { NeonListenerConfig, ResolvedConfig } from "./NeonListenerConfig.ts"
import { resolveConfig } from "./NeonListenerConfig.ts"
import { NeonListenerError } from "./NeonListenerError.ts"
import { checkServer, checkTables, checkUrl } from "./Preflight.ts"
import { ensurePublication } from "./Publication.ts"

/** What `ensureSlot` found or did. */
export interface EnsuredSlot {
  /** whether the slot had to be created (then nothing before `position` will be streamed) */
  readonly created: boolean
  /** the slot's confirmed position: streaming resumes after it */
  readonly position: Lsn
  /** whether the publication had to be created or extended */
  readonly publicationChanged: boolean
}

/** A slot as `pg_replication_slots` shows it. */
export interface SlotRow {
  readonly slot_type: string
  readonly plugin: string | null
  readonly database: string | null
  readonly current_database: string
  readonly active_pid: number | null
  readonly confirmed: string | null
  readonly lost: boolean
}

/** The slot named `slot`, if it exists. */
export const readSlot = (session: SqlSession, slot: string) =>
  session
    .query<SlotRow>(
      `SELECT slot_type::text, plugin::text, database::text, current_database()::text AS current_database,
              active_pid, confirmed_flush_lsn::text AS confirmed,
              coalesce((to_jsonb(s) ->> 'wal_status') = 'lost', false) AS lost
         FROM pg_replication_slots s WHERE slot_name = $1`,
      [slot]
    )
    .pipe(Effect.map((rows) => rows[0]))

const createSlot = (session: SqlSession, slot: string) =>
  session
    .query<{ readonly lsn: string }>(
      "SELECT lsn::text AS lsn FROM pg_create_logical_replication_slot($1, 'pgoutput')",
      [slot]
    )
    .pipe(
      Effect.map((rows) => parseLsn(rows[0]!.lsn)),
      Effect.tap((lsn) => Effect.logInfo(`created the replication slot ${slot} on Neon at ${formatLsn(lsn)}`))
    )

/**
 * The slot exists (created if missing or invalidated), is a pgoutput slot of this database, and is free
 * (waiting up to `slotBusyTimeout` for a holder to let go).
 */
const ensureSlotExists = Effect.fnUntraced(function* (
  session: SqlSession,
  config: ResolvedConfig
): Effect.fn.Return<{ readonly created: boolean; readonly position: Lsn }, NeonListenerError> {
  const deadline = (yield* Clock.currentTimeMillis) + Duration.toMillis(config.slotBusyTimeout)
  while (true) {
    const slot = yield* readSlot(session, config.slot)
    if (slot === undefined) {
      const created = yield* createSlot(session, config.slot).pipe(
        Effect.map((position) => ({ created: true, position })),
        // another process created it at the same moment: read it again
        Effect.catchIf(
          (e) => e.code === "42710",
          () => Effect.succeed(null)
        )
      )
      if (created !== null) return created
      continue
    }
    if (
      slot.slot_type !== "logical" ||
      slot.plugin !== "pgoutput" ||
      slot.database !== slot.current_database
    ) {
      return yield* new NeonListenerError({
        reason: "SlotMismatch",
        message: `a replication slot named ${config.slot} exists but is a ${slot.slot_type} slot${slot.plugin === null ? "" : ` for ${slot.plugin}`}${slot.database === null ? "" : ` in database ${slot.database}`}, not a pgoutput slot of ${slot.current_database}; drop it (SELECT pg_drop_replication_slot('${config.slot}')) or configure another slot name`
      })
    }
    if (slot.lost && slot.active_pid === null) {
      yield* Effect.logWarning(
        `the replication slot ${config.slot} was invalidated (its WAL was removed); creating it again`
      )
      yield* session.query("SELECT pg_drop_replication_slot($1)", [config.slot])
      continue
    }
    if (slot.active_pid !== null) {
      if (yield* config.takeOverSlot) {
        yield* Effect.logWarning(
          `the replication slot ${config.slot} is held by PID ${slot.active_pid}, a previous holder's connection (this process holds the leader lock): ending it`
        )
        yield* session.query("SELECT pg_terminate_backend($1)", [slot.active_pid])
        yield* Effect.sleep("100 millis")
        continue
      }
      if ((yield* Clock.currentTimeMillis) >= deadline) {
        return yield* new NeonListenerError({
          reason: "SlotInUse",
          message: `the replication slot ${config.slot} is held by another connection (PID ${slot.active_pid}; another enrich-sync daemon?) and it did not let go within ${Duration.format(config.slotBusyTimeout)}; stop that process or run SELECT pg_terminate_backend(${slot.active_pid})`,
          pid: slot.active_pid
        })
      }
      yield* Effect.logDebug(`the replication slot ${config.slot} is held by PID ${slot.active_pid}; waiting`)
      yield* Effect.sleep("200 millis")
      continue
    }
    return { created: false, position: slot.confirmed === null ? 0n : parseLsn(slot.confirmed) }
  }
})

/**
 * `ensureSlot` on a resolved configuration, in order on one session: URL, server settings, role, tables,
 * publication, slot. The listener runs it before every (re)connection.
 */
export const ensureSlotResolved = (config: ResolvedConfig): Effect.Effect<EnsuredSlot, NeonListenerError> =>
  Effect.scoped(
    Effect.gen(function* () {
      yield* checkUrl(config)
      const session = yield* openSession(config.url, "checking Neon before replicating")
      yield* checkServer(session)
      yield* checkTables(session, config)
      const publicationChanged = yield* ensurePublication(session, config)
      const slot = yield* ensureSlotExists(session, config)
      return { ...slot, publicationChanged }
    })
  )

/**
 * Checks that Neon can feed the listener and creates the publication and the slot if they are missing
 * (logging what it created). Call it before a backfill reads its snapshot, so the slot already holds
 * every change committed after that snapshot. Never prints the URL's password.
 */
export const ensureSlot = (config: NeonListenerConfig): Effect.Effect<EnsuredSlot, NeonListenerError> =>
  Effect.suspend(() => {
    const resolved = resolveConfig(config)
    return resolved instanceof NeonListenerError ? Effect.fail(resolved) : ensureSlotResolved(resolved)
  }).pipe(Effect.withSpan("NeonListener.ensureSlot"))
