/**
 * Batched statements pass their rows as one jsonb array expanded with `jsonb_to_recordset`, so a batch of
 * any size is one statement with one parameter. This module writes the column definitions for the fields
 * of a sync record, by kind.
 */
import type { FieldKind, SyncField } from "@enrich-sync/core"

/** The SQL type a field's value takes in a record set. */
export const recordSetType = (kind: FieldKind): string => {
  switch (kind) {
    case "text":
    case "status":
      return "text"
    case "integer":
      return "bigint"
    case "timestamp":
      return "timestamp"
    case "json":
      return "jsonb"
  }
}

/** `name type` definitions of fields in a record set, keyed by the field name prefixed with `f_`. */
export const fieldDefinitions = (fields: ReadonlyArray<SyncField>): string =>
  fields.map((f) => `f_${f.name} ${recordSetType(f.kind)}`).join(", ")

/** The record-set key of a field. */
export const fieldKey = (field: SyncField): string => `f_${field.name}`
