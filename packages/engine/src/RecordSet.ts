/**
 * Batched statements pass their rows as one jsonb array expanded with `jsonb_to_recordset`, so a batch of
 * any size is one statement with one parameter. This module writes the column definitions for the fields
 * of a sync record, by kind.
 */
import type { SyncField } from "@enrich-sync/core"
import { sqlTypeOf } from "@enrich-sync/core"

/** `name type` definitions of fields in a record set, keyed by the field name prefixed with `f_`. */
export const fieldDefinitions = (fields: ReadonlyArray<SyncField>): string =>
  fields.map((f) => `f_${f.name} ${sqlTypeOf(f.kind)}`).join(", ")

/** The record-set key of a field. */
export const fieldKey = (field: SyncField): string => `f_${field.name}`
