/**
 * The company entity: `marketing.company_invalid` on Neon, `public.company_needs_enrichment` in the
 * workspace, `marketing.company_master` for promoted records. Columns and mapping are the sync guide's
 * (`NEON_SUPABASE_SYNC_GUIDE.md`), unchanged; the project only adds columns.
 */
import { Schema } from "effect"
import {
  enrichmentFields,
  idColumn,
  integerColumn,
  keyColumn,
  makeEntity,
  shared,
  sourceOwnedFields,
  sourceTrailingColumns,
  textColumn,
  typedColumn,
  workspaceTrailingColumns
} from "./Entity.ts"

/** The company data fields, shared by both sides. */
export const companyDataFields = [
  "company_name",
  "domain",
  "industry",
  "employee_count",
  "website",
  "phone",
  "address",
  "city",
  "state",
  "zip"
] as const

const dataColumns = companyDataFields.map((name) =>
  name === "employee_count" ? integerColumn(name) : textColumn(name)
)

/** The company entity descriptor. */
export const Company = makeEntity({
  name: "company",
  label: "company",
  key: "company_unique_id",
  sourceTable: { schema: "marketing", name: "company_invalid" },
  workspaceTable: { schema: "public", name: "company_needs_enrichment" },
  masterTable: { schema: "marketing", name: "company_master" },
  rawTable: "marketing.company_raw_wv",
  fields: [
    shared("company_unique_id"),
    ...companyDataFields.map((name) => shared(name, name === "employee_count" ? "integer" : "text")),
    ...enrichmentFields,
    ...sourceOwnedFields
  ],
  sourceColumns: [
    idColumn,
    keyColumn("company_unique_id"),
    ...dataColumns,
    ...sourceTrailingColumns("marketing.company_raw_wv")
  ],
  workspaceColumns: [
    idColumn,
    typedColumn("neon_id", "BIGINT", "bigint"),
    keyColumn("company_unique_id"),
    textColumn("source_batch_id"),
    ...dataColumns,
    ...workspaceTrailingColumns
  ],
  masterColumns: [
    idColumn,
    keyColumn("company_unique_id"),
    ...dataColumns,
    textColumn("source_batch_id"),
    typedColumn("validation_status", "TEXT DEFAULT 'PASSED'", "text"),
    typedColumn("validation_warnings", "JSONB", "jsonb"),
    typedColumn("enriched_by", "TEXT", "text"),
    typedColumn("enriched_at", "TIMESTAMP", "timestamp without time zone"),
    typedColumn("promoted_at", "TIMESTAMP DEFAULT now()", "timestamp without time zone"),
    typedColumn("created_at", "TIMESTAMP DEFAULT now()", "timestamp without time zone"),
    typedColumn("updated_at", "TIMESTAMP DEFAULT now()", "timestamp without time zone")
  ]
})

const Text = Schema.NullOr(Schema.String)
const Int = Schema.NullOr(Schema.Int)
/** Timestamps travel as the text Postgres prints (the engine never lets the driver turn them into Dates). */
const Timestamp = Schema.NullOr(Schema.String)
const Json = Schema.NullOr(Schema.Json)

const companyData = {
  company_name: Text,
  domain: Text,
  industry: Text,
  employee_count: Int,
  website: Text,
  phone: Text,
  address: Text,
  city: Text,
  state: Text,
  zip: Text
}

/** A row of `marketing.company_invalid` (seed columns plus the enrichment columns this project adds). */
export const CompanyInvalidRow = Schema.Struct({
  id: Schema.Int,
  company_unique_id: Schema.String,
  ...companyData,
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
})
export type CompanyInvalidRow = typeof CompanyInvalidRow.Type

/** A row of `public.company_needs_enrichment` (seed columns plus the sync columns this project adds). */
export const CompanyWorkspaceRow = Schema.Struct({
  id: Schema.Int,
  neon_id: Int,
  company_unique_id: Schema.String,
  source_batch_id: Text,
  ...companyData,
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
  removed_at: Timestamp
})
export type CompanyWorkspaceRow = typeof CompanyWorkspaceRow.Type

/** A row of `marketing.company_master` as this project creates it (an existing master may have more). */
export const CompanyMasterRow = Schema.Struct({
  id: Schema.Int,
  company_unique_id: Schema.String,
  ...companyData,
  source_batch_id: Text,
  validation_status: Text,
  validation_warnings: Json,
  enriched_by: Text,
  enriched_at: Timestamp,
  promoted_at: Timestamp,
  created_at: Timestamp,
  updated_at: Timestamp
})
export type CompanyMasterRow = typeof CompanyMasterRow.Type
