/**
 * The two synced entities as the randomized tests see them: each side's table and key, the columns both
 * sides must end equal in (Neon's name, the workspace's name, how to compare), and the fields the test's
 * writers edit with values no one else writes. The data fields' names are core's (the seeds' columns,
 * the same name on both sides); the mapping of the rest is written out from the sync guide (not taken from
 * core, so the tests' own comparison does not share the implementation's mapping).
 */
import { companyDataFields, personDataFields } from "@enrich-sync/core"

/** How a column is normalised before the two sides are compared (as the projection does). */
export type ColumnKind = "text" | "integer" | "json" | "timestamp" | "status"

/** A column both sides hold. */
export interface SyncedColumn {
  /** the sync record's name (and `sync_conflicts.field`) */
  readonly field: string
  readonly neon: string
  readonly workspace: string
  readonly kind: ColumnKind
}

/** An entity of the sync, for the tests. */
export interface SyncedTable {
  /** `company` or `people`, as `sync_conflicts.entity` says */
  readonly entity: "company" | "people"
  readonly neonTable: string
  readonly workspaceTable: string
  readonly key: string
  /** every column both sides must agree on */
  readonly columns: ReadonlyArray<SyncedColumn>
  /** the data fields the writers of either side edit (text, or `employee_count` as an integer) */
  readonly editable: ReadonlyArray<string>
}

const same = (field: string, kind: ColumnKind = "text"): SyncedColumn => ({
  field,
  neon: field,
  workspace: field,
  kind
})

/** The enrichment and source-owned columns of both entities (the guide's mapping). */
const trailing: ReadonlyArray<SyncedColumn> = [
  same("enrichment_status", "status"),
  same("enriched_by"),
  same("enriched_at", "timestamp"),
  { field: "neon_id", neon: "id", workspace: "neon_id", kind: "integer" },
  {
    field: "validation_errors",
    neon: "validation_errors",
    workspace: "original_validation_errors",
    kind: "json"
  },
  {
    field: "validation_warnings",
    neon: "validation_warnings",
    workspace: "original_validation_warnings",
    kind: "json"
  },
  same("reason_code"),
  { field: "batch_id", neon: "batch_id", workspace: "source_batch_id", kind: "text" },
  same("validation_status")
]

export const companyTable: SyncedTable = {
  entity: "company",
  neonTable: "marketing.company_invalid",
  workspaceTable: "public.company_needs_enrichment",
  key: "company_unique_id",
  columns: [
    ...companyDataFields.map((f) => same(f, f === "employee_count" ? "integer" : "text")),
    ...trailing
  ],
  editable: ["company_name", "industry", "employee_count", "website", "phone", "address", "city", "zip"]
}

export const peopleTable: SyncedTable = {
  entity: "people",
  neonTable: "marketing.people_invalid",
  workspaceTable: "public.people_needs_enrichment",
  key: "unique_id",
  columns: [...personDataFields.map((f) => same(f)), ...trailing],
  editable: ["full_name", "email", "phone", "title", "linkedin_url", "city"]
}

export const syncedTables: ReadonlyArray<SyncedTable> = [companyTable, peopleTable]

/** A column's value as the comparisons see it, in SQL (as the projection normalises it): `alias.column` */
export const normalisedSql = (kind: ColumnKind, column: string): string => {
  switch (kind) {
    case "text":
      return `nullif(btrim(${column}), '')`
    case "integer":
      return `${column}::text`
    case "json":
      return `${column}::jsonb::text`
    case "timestamp":
      return `to_char(${column}, 'YYYY-MM-DD"T"HH24:MI:SS.US')`
    case "status":
      return `coalesce(nullif(btrim(${column}), ''), 'pending')`
  }
}

/** The column of `table` named `field`. */
export const columnOf = (table: SyncedTable, field: string): SyncedColumn => {
  const column = table.columns.find((c) => c.field === field)
  if (column === undefined) throw new Error(`${table.entity} has no synced field ${field}`)
  return column
}

/**
 * A value for `field` that nobody else writes: `tag` names the writer (`n` for Neon, `w1`, `w2` for the
 * enrichers), `seq` the write. Integers are kept apart by writer: `base` millions apart.
 */
export const uniqueValue = (field: string, tag: string, seq: number, base: number): string | number => {
  switch (field) {
    case "employee_count":
      return base * 1_000_000 + seq
    case "website":
    case "linkedin_url":
      return `https://${tag}-${seq}.chaos.example/${field}`
    case "email":
      return `${tag}.${seq}@chaos.example`
    case "enriched_at":
      // as `normalisedSql` prints a timestamp
      return new Date(Date.UTC(2030, 0, 1) + base * 100_000_000 + seq * 1000)
        .toISOString()
        .replace(/\.(\d{3})Z$/, (_, ms: string) => `.${ms}000`)
    default:
      return `${field} ${tag}-${seq}`
  }
}

/** The normalised text of a value as the comparisons use it: trimmed, empty = null, numbers as text. */
export const normalised = (value: unknown): string | null => {
  if (value === null || value === undefined) return null
  const text = (typeof value === "object" ? JSON.stringify(value) : String(value)).trim()
  return text === "" ? null : text
}
