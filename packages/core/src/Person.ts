/**
 * The person entity: `marketing.people_invalid` on Neon, `public.people_needs_enrichment` in the
 * workspace, `marketing.people_master` for promoted records. Columns and mapping are the sync guide's,
 * unchanged; the project only adds columns.
 */
import * as Schema from "effect/Schema"
import {
  column,
  enrichmentFields,
  idColumn,
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

/** The person data fields, shared by both sides. */
export const personDataFields = [
  "full_name",
  "first_name",
  "last_name",
  "email",
  "phone",
  "title",
  "company_name",
  "company_unique_id",
  "linkedin_url",
  "city",
  "state"
] as const

const dataColumns = personDataFields.map(textColumn)

/** The person entity descriptor. */
export const Person = makeEntity({
  name: "people",
  label: "person",
  key: "unique_id",
  sourceTable: { schema: "marketing", name: "people_invalid" },
  workspaceTable: { schema: "public", name: "people_needs_enrichment" },
  masterTable: { schema: "marketing", name: "people_master" },
  rawTable: "marketing.people_raw_wv",
  fields: [
    shared("unique_id"),
    ...personDataFields.map((name) => shared(name)),
    ...enrichmentFields,
    ...sourceOwnedFields
  ],
  sourceColumns: [
    idColumn,
    keyColumn("unique_id"),
    ...dataColumns,
    ...sourceTrailingColumns("marketing.people_raw_wv")
  ],
  workspaceColumns: [
    idColumn,
    column("neon_id", "BIGINT"),
    keyColumn("unique_id"),
    textColumn("source_batch_id"),
    ...dataColumns,
    ...workspaceTrailingColumns
  ],
  masterColumns: [idColumn, keyColumn("unique_id"), ...dataColumns, ...masterTrailingColumns]
})

const personData = {
  full_name: Text,
  first_name: Text,
  last_name: Text,
  email: Text,
  phone: Text,
  title: Text,
  company_name: Text,
  company_unique_id: Text,
  linkedin_url: Text,
  city: Text,
  state: Text
}

/** A row of `marketing.people_invalid` (seed columns plus the enrichment columns this project adds). */
export const PersonInvalidRow = Schema.Struct({
  id: Schema.Int,
  unique_id: Schema.String,
  ...personData,
  ...invalidRowTrailing
})
export type PersonInvalidRow = typeof PersonInvalidRow.Type

/** A row of `public.people_needs_enrichment` (seed columns plus the sync columns this project adds). */
export const PersonWorkspaceRow = Schema.Struct({
  id: Schema.Int,
  neon_id: Int,
  unique_id: Schema.String,
  source_batch_id: Text,
  ...personData,
  ...workspaceRowTrailing
})
export type PersonWorkspaceRow = typeof PersonWorkspaceRow.Type

/** A row of `marketing.people_master` as this project creates it (an existing master may have more). */
export const PersonMasterRow = Schema.Struct({
  id: Schema.Int,
  unique_id: Schema.String,
  ...personData,
  ...masterRowTrailing
})
export type PersonMasterRow = typeof PersonMasterRow.Type
