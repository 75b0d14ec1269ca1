/**
 * The Effect Schema fields the row schemas of both entities share: the columns the seed's invalid,
 * workspace and master tables end with (after each entity's own data columns), and how a column's values
 * arrive from the driver (timestamps as the text Postgres prints: the engine never lets the driver turn them
 * into Dates).
 */
import * as Schema from "effect/Schema"

/** A nullable text column. */
export const Text = Schema.NullOr(Schema.String)
/** A nullable integer column. */
export const Int = Schema.NullOr(Schema.Int)
/** A nullable timestamp column, as Postgres prints it. */
export const Timestamp = Schema.NullOr(Schema.String)
/** A nullable JSON column. */
export const Json = Schema.NullOr(Schema.Json)

/** The invalid table's columns after the data columns (seed columns, then the enrichment columns added). */
export const invalidRowTrailing = {
  validation_status: Text,
  reason_code: Schema.String,
  validation_errors: Schema.Json,
  validation_warnings: Json,
  failed_at: Timestamp,
  reviewed: Schema.NullOr(Schema.Boolean),
  batch_id: Text,
  source_table: Text,
  created_at: Timestamp,
  updated_at: Timestamp,
  enrichment_status: Text,
  enriched_at: Timestamp,
  enriched_by: Text,
  still_invalid: Schema.NullOr(Schema.Boolean)
}

/** The workspace table's columns after the data columns (seed columns, then the sync columns added). */
export const workspaceRowTrailing = {
  original_validation_errors: Json,
  original_validation_warnings: Json,
  reason_code: Text,
  enrichment_status: Text,
  enrichment_notes: Text,
  enriched_by: Text,
  enriched_at: Timestamp,
  pulled_from_neon_at: Timestamp,
  pushed_to_neon_at: Timestamp,
  last_sync_hash: Text,
  created_at: Timestamp,
  updated_at: Timestamp,
  sync_base: Json,
  validation_status: Text,
  sync_state: Schema.Literals(["active", "promoted", "removed"]),
  sync_dirty: Schema.Boolean,
  source_xmin: Schema.NullOr(Schema.Int),
  promoted_at: Timestamp,
  removed_at: Timestamp,
  sync_xid: Schema.NullOr(Schema.Int)
}

/** The master table's columns after the data columns, as this project creates it. */
export const masterRowTrailing = {
  source_batch_id: Text,
  validation_status: Text,
  validation_warnings: Json,
  enriched_by: Text,
  enriched_at: Timestamp,
  promoted_at: Timestamp,
  created_at: Timestamp,
  updated_at: Timestamp
}
