/**
 * The position of the Neon replication stream whose changes are applied to both sides, per slot, kept in
 * the workspace (`enrich_sync.replication_progress`): after a restart, transactions at or before it are
 * known to be merged and are skipped.
 *
 * Invariant: the recorded position never moves back (a write of an older position than the one recorded
 * leaves the recorded one), except when the slot itself was created anew (`restartReplicationProgress`):
 * a new slot's positions have nothing to do with the old one's (a Neon branch restore can put them lower).
 */
import type { Lsn } from "@enrich-sync/core"
import { formatLsn, parseLsn } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import { WorkspaceDatabase } from "./Database.ts"
import type { DatabaseError } from "./DatabaseError.ts"

/** The position recorded as applied for `slot`, or null when none is. */
export const readReplicationProgress = (
  slot: string
): Effect.Effect<Lsn | null, DatabaseError, WorkspaceDatabase> =>
  WorkspaceDatabase.use((db) =>
    db.query(`SELECT applied_lsn::text AS lsn FROM enrich_sync.replication_progress WHERE slot = $1`, [slot])
  ).pipe(Effect.map(([row]) => (row === undefined ? null : parseLsn(String(row.lsn)))))

const record = (slot: string, position: Lsn, onExisting: string) =>
  WorkspaceDatabase.use((db) =>
    db.query(
      `INSERT INTO enrich_sync.replication_progress (slot, applied_lsn) VALUES ($1, $2::pg_lsn)
       ON CONFLICT (slot) DO UPDATE SET applied_lsn = ${onExisting}, updated_at = now()`,
      [slot, formatLsn(position)]
    )
  ).pipe(Effect.asVoid)

/** Records `position` as applied for `slot` (kept when a later one is recorded already). */
export const writeReplicationProgress = (
  slot: string,
  position: Lsn
): Effect.Effect<void, DatabaseError, WorkspaceDatabase> =>
  record(slot, position, "greatest(enrich_sync.replication_progress.applied_lsn, excluded.applied_lsn)")

/** The slot was created anew at `position`: what was recorded for the old one no longer applies. */
export const restartReplicationProgress = (
  slot: string,
  position: Lsn
): Effect.Effect<void, DatabaseError, WorkspaceDatabase> => record(slot, position, "excluded.applied_lsn")
