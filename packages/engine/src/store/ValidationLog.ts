/**
 * Neon's validation log (`public.shq_validation_log`): one row per push, re-validation or promotion of a
 * record, with the validation outcome it carried.
 *
 * Invariant: entries are appended in the transaction that makes the change they record, so the log holds
 * exactly the changes that committed.
 */
import type { Entity, SyncValue } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import type { Session } from "./Database.ts"

/**
 * Inserts the entries of the JSON array `payload` (see `logPayload`); with `only`, just those whose
 * `record_id` is a `key` its query returned: a data-modifying `WITH` of the statement that makes the change
 * logs exactly the changes that committed, without a statement of its own.
 */
export const logSql = (payload: string, only?: string): string => {
  const join = only === undefined ? "" : `\n    JOIN ${only} ON ${only}.key = v.record_id`
  return `INSERT INTO public.shq_validation_log (record_id, entity, action, validation_status, validation_errors, details, batch_id)
  SELECT v.record_id, v.entity, v.action, v.validation_status, v.validation_errors, v.details, v.batch_id
    FROM jsonb_to_recordset(${payload}::jsonb) AS v(record_id text, entity text, action text, validation_status text,
                                             validation_errors jsonb, details jsonb, batch_id text)${join}`
}

/** One entry of `shq_validation_log`. */
export interface ValidationLogEntry {
  readonly recordId: string
  readonly action: string
  readonly validationStatus: string | null
  readonly validationErrors: SyncValue
  readonly details: SyncValue
  readonly batchId: string | null
}

/** The entries as the JSON payload of `logSql`. */
export const logPayload = (entity: Entity, entries: ReadonlyArray<ValidationLogEntry>): string =>
  JSON.stringify(
    entries.map((e) => ({
      record_id: e.recordId,
      entity: entity.name,
      action: e.action,
      validation_status: e.validationStatus,
      validation_errors: e.validationErrors,
      details: e.details,
      batch_id: e.batchId
    }))
  )

/** Appends entries to `shq_validation_log` in the session's transaction. */
export const logValidation = (tx: Session, entity: Entity, entries: ReadonlyArray<ValidationLogEntry>) =>
  entries.length === 0
    ? Effect.void
    : tx.query(logSql("$1"), [logPayload(entity, entries)]).pipe(Effect.asVoid)
