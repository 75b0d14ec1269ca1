/**
 * What an entity is to the sync: its tables on each side, its key, and its sync record (the fields both sides
 * hold, each under one name, with its column on each side and its owner).
 *
 * Everything else (projection, hash, SQL, merge, validation, migrations, stores) is derived from these
 * descriptors, so a column name is written down exactly once.
 */

/** How a field's values are normalised in the projection. */
export type FieldKind =
  /** trimmed text; empty string and NULL are the same (null) */
  | "text"
  /** a whole number (integer / bigint columns) */
  | "integer"
  /** a timestamp, canonical as UTC ISO-8601 with microseconds (`2025-11-07T16:32:09.123456Z`) */
  | "timestamp"
  /** any JSON value (compared and hashed in canonical JSON, see `SyncHash`) */
  | "json"
  /** the enrichment status: trimmed, lower case, NULL or empty is `pending` */
  | "status"

/**
 * Who may change a field:
 * - `shared`: edited on either side, merged three-way;
 * - `source`: changes only on Neon and is copied to the workspace.
 * Workspace-only columns (notes, sync bookkeeping) are not part of the sync record at all.
 */
export type FieldOwner = "shared" | "source"

/** One field of the sync record. */
export interface SyncField {
  /** the field's name in the sync record */
  readonly name: string
  /** its column in the Neon invalid table */
  readonly source: string
  /** its column in the workspace table */
  readonly workspace: string
  readonly kind: FieldKind
  readonly owner: FieldOwner
}

/** A column of a table this project creates or expects, as SQL. */
export interface Column {
  readonly name: string
  /** the SQL type and constraints used by `CREATE TABLE` */
  readonly definition: string
  /** the type as `format_type` reports it, used to check an existing table */
  readonly type: string
  /** added by this project (with `ADD COLUMN IF NOT EXISTS`) rather than part of the seed's table */
  readonly added?: boolean
  /** the migration of its side that adds it (default 1); only for `added` columns */
  readonly since?: number
}

/** A schema-qualified table name. */
export interface TableName {
  readonly schema: string
  readonly name: string
}

/** The descriptor of an entity (company or person). */
export interface Entity {
  /** `company` or `people`, as in the table names and the `--entity` flag */
  readonly name: "company" | "people"
  /** a human label: `company` / `person` */
  readonly label: string
  /** the Barton ID column, the same on both sides and the only join between them */
  readonly key: string
  readonly sourceTable: TableName
  readonly workspaceTable: TableName
  readonly masterTable: TableName
  /** the sync record, in canonical order (shorter names first, then by code point: field names are ASCII) */
  readonly fields: ReadonlyArray<SyncField>
  /** the Neon invalid table's columns (seed columns, then the ones this project adds) */
  readonly sourceColumns: ReadonlyArray<Column>
  /** the workspace table's columns (seed columns, then the ones this project adds) */
  readonly workspaceColumns: ReadonlyArray<Column>
  /** the master table's columns, used when this project has to create it */
  readonly masterColumns: ReadonlyArray<Column>
  /** the `source_table` default of the seed's invalid table */
  readonly rawTable: string
}

/**
 * Compares two strings by Unicode code point (the byte order of UTF-8, as `COLLATE "C"`). UTF-16 code unit
 * order agrees except where a surrogate (an astral character) meets a unit at or above U+E000.
 */
export const compareCodePoints = (a: string, b: string): number => {
  if (a === b) return 0
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x === y) continue
    const sx = x >= 0xd800 && x <= 0xdfff
    const sy = y >= 0xd800 && y <= 0xdfff
    if (sx !== sy && (sx ? y >= 0xe000 : x >= 0xe000)) return sx ? 1 : -1
    return x < y ? -1 : 1
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1
}

/**
 * Builds an entity, sorting its fields into canonical order (the key order of `jsonb`, see `SyncHash`) and
 * checking the descriptor is coherent.
 */
export const makeEntity = (entity: Entity): Entity => {
  const fields = [...entity.fields].sort(
    (a, b) => a.name.length - b.name.length || compareCodePoints(a.name, b.name)
  )
  const sourceNames = new Set(entity.sourceColumns.map((c) => c.name))
  const workspaceNames = new Set(entity.workspaceColumns.map((c) => c.name))
  for (const field of fields) {
    if (!sourceNames.has(field.source)) {
      throw new Error(
        `entity ${entity.name}: field ${field.name} maps to unknown source column ${field.source}`
      )
    }
    if (!workspaceNames.has(field.workspace)) {
      throw new Error(
        `entity ${entity.name}: field ${field.name} maps to unknown workspace column ${field.workspace}`
      )
    }
  }
  return { ...entity, fields }
}

/** `schema.name`, quoted where needed, for SQL text. */
export const qualified = (table: TableName): string => `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`

/** Quotes an SQL identifier when it is not a plain lower-case name. */
export const quoteIdent = (name: string): string =>
  /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`

/** A shared data field: same column name on both sides. */
export const shared = (name: string, kind: FieldKind = "text"): SyncField => ({
  name,
  source: name,
  workspace: name,
  kind,
  owner: "shared"
})

/** A source-owned field: copied from the Neon column `source` into the workspace column `workspace`. */
export const sourceOwned = (name: string, source: string, workspace: string, kind: FieldKind): SyncField => ({
  name,
  source,
  workspace,
  kind,
  owner: "source"
})

/** The enrichment fields both sides hold (Neon gains them; the guide's push query writes them). */
export const enrichmentFields: ReadonlyArray<SyncField> = [
  shared("enrichment_status", "status"),
  shared("enriched_by"),
  shared("enriched_at", "timestamp")
]

/** The source-owned fields common to both entities. */
export const sourceOwnedFields: ReadonlyArray<SyncField> = [
  sourceOwned("neon_id", "id", "neon_id", "integer"),
  sourceOwned("validation_errors", "validation_errors", "original_validation_errors", "json"),
  sourceOwned("validation_warnings", "validation_warnings", "original_validation_warnings", "json"),
  sourceOwned("reason_code", "reason_code", "reason_code", "text"),
  sourceOwned("batch_id", "batch_id", "source_batch_id", "text"),
  sourceOwned("validation_status", "validation_status", "validation_status", "text")
]

/** What `format_type` reports for each SQL type this project declares a column with. */
const formatTypes = {
  BIGINT: "bigint",
  BIGSERIAL: "bigint",
  BOOLEAN: "boolean",
  INTEGER: "integer",
  JSONB: "jsonb",
  TEXT: "text",
  TIMESTAMP: "timestamp without time zone",
  TIMESTAMPTZ: "timestamp with time zone",
  UUID: "uuid"
} as const

/** A column's SQL definition: one of the types above, then its constraints (`TEXT NOT NULL DEFAULT 'active'`). */
export type ColumnDefinition = keyof typeof formatTypes | `${keyof typeof formatTypes} ${string}`

/** A column of one definition (`added`: as `columns` reads it). */
export const column = (
  name: string,
  definition: ColumnDefinition,
  added?: { readonly since: number }
): Column => {
  const type = formatTypes[definition.split(" ", 1)[0] as keyof typeof formatTypes]
  if (added === undefined) return { name, definition, type }
  return added.since === 1
    ? { name, definition, type, added: true }
    : { name, definition, type, added: true, since: added.since }
}

/**
 * Columns, in the order written, from their definitions by name; their types as `format_type` reports them
 * follow from the definitions. `added`: columns this project adds to a table it does not own, by the
 * migration of that side which adds them (`ADD COLUMN IF NOT EXISTS`).
 */
export const columns = (
  definitions: Readonly<Record<string, ColumnDefinition>>,
  added?: { readonly since: number }
): ReadonlyArray<Column> =>
  Object.entries(definitions).map(([name, definition]) => column(name, definition, added))

/** Columns the seed's invalid tables end with (after the data columns). */
export const sourceTrailingColumns = (rawTable: string): ReadonlyArray<Column> => [
  ...columns({
    validation_status: "TEXT DEFAULT 'FAILED'",
    reason_code: "TEXT NOT NULL",
    validation_errors: "JSONB NOT NULL",
    validation_warnings: "JSONB",
    failed_at: "TIMESTAMP DEFAULT now()",
    reviewed: "BOOLEAN DEFAULT false",
    batch_id: "TEXT",
    source_table: `TEXT DEFAULT '${rawTable}'`,
    created_at: "TIMESTAMP DEFAULT now()",
    updated_at: "TIMESTAMP DEFAULT now()"
  }),
  // added by this project: what the push writes, and the outcome of re-validation
  ...columns(
    {
      enrichment_status: "TEXT",
      enriched_at: "TIMESTAMP",
      enriched_by: "TEXT",
      still_invalid: "BOOLEAN DEFAULT false"
    },
    { since: 1 }
  )
]

/** Columns the seed's workspace tables end with (after the data columns). */
export const workspaceTrailingColumns: ReadonlyArray<Column> = [
  ...columns({
    original_validation_errors: "JSONB",
    original_validation_warnings: "JSONB",
    reason_code: "TEXT",
    enrichment_status: "TEXT DEFAULT 'pending'",
    enrichment_notes: "TEXT",
    enriched_by: "TEXT",
    enriched_at: "TIMESTAMP",
    pulled_from_neon_at: "TIMESTAMP DEFAULT now()",
    pushed_to_neon_at: "TIMESTAMP",
    last_sync_hash: "TEXT",
    created_at: "TIMESTAMP DEFAULT now()",
    updated_at: "TIMESTAMP DEFAULT now()"
  }),
  // added by this project: the agreed projection, the source's validation status, the row's fate,
  // whether a person changed it since the engine last merged it, and the version (xmin) of the Neon row
  // last merged (a re-run of backfill skips rows whose Neon version did not change)
  ...columns(
    {
      sync_base: "JSONB",
      validation_status: "TEXT",
      sync_state: "TEXT NOT NULL DEFAULT 'active'",
      sync_dirty: "BOOLEAN NOT NULL DEFAULT true",
      source_xmin: "BIGINT",
      promoted_at: "TIMESTAMP",
      removed_at: "TIMESTAMP"
    },
    { since: 1 }
  ),
  // the (32-bit) id of the transaction of the engine's last write: while the row's xmin still equals it,
  // nobody has written the row since, so it still holds exactly what the engine wrote
  ...columns({ sync_xid: "BIGINT" }, { since: 2 })
]

/** Columns the master tables end with (after the data columns), as this project creates them. */
export const masterTrailingColumns: ReadonlyArray<Column> = columns({
  source_batch_id: "TEXT",
  validation_status: "TEXT DEFAULT 'PASSED'",
  validation_warnings: "JSONB",
  enriched_by: "TEXT",
  enriched_at: "TIMESTAMP",
  promoted_at: "TIMESTAMP DEFAULT now()",
  created_at: "TIMESTAMP DEFAULT now()",
  updated_at: "TIMESTAMP DEFAULT now()"
})

/**
 * A column with its `format_type` given (as `@enrich-sync/core` 0.1.0 wrote columns).
 *
 * @deprecated `column(name, definition)` reads the type from the definition.
 */
export const typedColumn = (name: string, definition: string, type: string): Column => ({
  name,
  definition,
  type
})
/** A text column. */
export const textColumn = (name: string): Column => column(name, "TEXT")
/** An integer column. */
export const integerColumn = (name: string): Column => column(name, "INTEGER")
/** The `id BIGSERIAL PRIMARY KEY` column. */
export const idColumn: Column = column("id", "BIGSERIAL PRIMARY KEY")
/** The Barton ID key column. */
export const keyColumn = (name: string): Column => column(name, "TEXT UNIQUE NOT NULL")

/** The workspace row's lifecycle beside the enrichment status. */
export type SyncState = "active" | "promoted" | "removed"
