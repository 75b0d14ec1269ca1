/**
 * The company entity: `marketing.company_invalid` on Neon, `public.company_needs_enrichment` in the
 * workspace, `marketing.company_master` for promoted records. Columns and mapping are the sync guide's
 * (`NEON_SUPABASE_SYNC_GUIDE.md`), unchanged; the project only adds columns.
 */
import * as Schema from "effect/Schema"
import {
  column,
  enrichmentFields,
  idColumn,
  integerColumn,
  keyColumn,
  makeEntity,
  masterTrailingColumns,
  shared,
  sourceOwnedFields,
  sourceTrailingColumns,
  textColumn,
  workspaceTrailingColumns
} from "./Entity.ts"
import { Int, invalidRowTrailing, masterRowTrailing, Text, workspaceRowTrailing } from "./RowFields.ts"

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
    column("neon_id", "BIGINT"),
    keyColumn("company_unique_id"),
    textColumn("source_batch_id"),
    ...dataColumns,
    ...workspaceTrailingColumns
  ],
  masterColumns: [idColumn, keyColumn("company_unique_id"), ...dataColumns, ...masterTrailingColumns]
})

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
  ...invalidRowTrailing
})
export type CompanyInvalidRow = typeof CompanyInvalidRow.Type

/** A row of `public.company_needs_enrichment` (seed columns plus the sync columns this project adds). */
export const CompanyWorkspaceRow = Schema.Struct({
  id: Schema.Int,
  neon_id: Int,
  company_unique_id: Schema.String,
  source_batch_id: Text,
  ...companyData,
  ...workspaceRowTrailing
})
export type CompanyWorkspaceRow = typeof CompanyWorkspaceRow.Type

/** A row of `marketing.company_master` as this project creates it (an existing master may have more). */
export const CompanyMasterRow = Schema.Struct({
  id: Schema.Int,
  company_unique_id: Schema.String,
  ...companyData,
  ...masterRowTrailing
})
export type CompanyMasterRow = typeof CompanyMasterRow.Type
