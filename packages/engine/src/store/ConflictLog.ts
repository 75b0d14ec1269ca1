/**
 * The conflict log (`public.sync_conflicts` in the workspace): one row per field a merge decided against
 * one side, with the base and both sides' values and edit times, so the losing value is never lost.
 *
 * Invariant: conflicts are appended in the transaction that writes their merge, so a conflict is logged
 * exactly when its resolution is written.
 */
import type { Conflict, Entity, SyncValue } from "@enrich-sync/core"
import { conflictTable } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import type { Session } from "./Database.ts"

/** A conflict to log, with its record. */
export interface ConflictEntry {
  readonly key: string
  readonly conflict: Conflict
  /**
   * the losing value was already overwritten by a write that committed (a push to Neon): the conflict is
   * logged whether or not the workspace write of the same round lands (default false: logged only with the
   * workspace write of its key)
   */
  readonly landed?: boolean
}

const conflictSql = `INSERT INTO ${conflictTable}
    (entity, record_key, field, reason, winner, base_value, source_value, source_edited_at, workspace_value, workspace_edited_at)
  SELECT v.entity, v.record_key, v.field, v.reason, v.winner, v.base_value, v.source_value, v.source_edited_at,
         v.workspace_value, v.workspace_edited_at
    FROM jsonb_to_recordset($1::jsonb) AS v(entity text, record_key text, field text, reason text, winner text,
         base_value jsonb, source_value jsonb, source_edited_at timestamp, workspace_value jsonb, workspace_edited_at timestamp)`

/** JSON null and SQL NULL are both "no value" in the conflict log; keep JSON values as JSON. */
const jsonValue = (v: SyncValue) => (v === null ? null : v)

/** Appends conflicts to the conflict log in the session's transaction. */
export const logConflicts = (tx: Session, entity: Entity, conflicts: ReadonlyArray<ConflictEntry>) =>
  conflicts.length === 0
    ? Effect.void
    : tx
        .query(conflictSql, [
          JSON.stringify(
            conflicts.map(({ key, conflict: c }) => ({
              entity: entity.name,
              record_key: key,
              field: c.field,
              reason: c.pending ? `${c.reason} (pending push)` : c.reason,
              winner: c.winner,
              base_value: jsonValue(c.base),
              source_value: jsonValue(c.source.value),
              source_edited_at: c.source.editedAt,
              workspace_value: jsonValue(c.workspace.value),
              workspace_edited_at: c.workspace.editedAt
            }))
          )
        ])
        .pipe(Effect.asVoid)
