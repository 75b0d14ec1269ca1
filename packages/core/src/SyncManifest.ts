/**
 * `sync_manifest.json`, the machine-readable description of the sync in the shape of the seeds' quick
 * reference: the source tables (Neon) and target tables (workspace) with their fields, types and keys, the
 * field mapping of each pair, the fields a push writes back per entity, the validation rules, the workflow
 * stages, the `enrichment_status` values, and how to connect (without secrets). Everything is derived from
 * the entity descriptors, the validation rule table and the status lifecycle, so it cannot drift from what
 * the code does.
 *
 * `syncManifest` is the manifest as core knows it (no record counts, no connection); `buildSyncManifest`
 * adds what a program found out (the CLI's `enrich-sync manifest`: counts from the databases, their hosts).
 * Invariant: pure and deterministic (no clock, no environment), so a manifest regenerated from the same
 * release and the same counts is the same file.
 */
import { defaultPushOn, enrichmentStatuses, transitions } from "./EnrichmentStatus.ts"
import { entities } from "./Entities.ts"
import type { Column, Entity } from "./Entity.ts"
import { qualified } from "./Entity.ts"
import { redactUrl } from "./Redaction.ts"
import type { ValidationRule } from "./validation/RuleCatalog.ts"
import { validationRules } from "./validation/RuleCatalog.ts"

/** The version of the manifest's shape (the quick reference's is 1.0.0). */
export const manifestVersion = "1.1.0"

/** One column of a table, as the manifest lists it. */
export interface ManifestField {
  /** the type as Postgres names it (`information_schema.columns.data_type`) */
  readonly type: string
  readonly nullable: boolean
  /** the column's default, as SQL, when it has one */
  readonly default: string | null
  /** the SQL of the column in `CREATE TABLE` */
  readonly definition: string
  /** a column enrich-sync adds to the seed's table (the rest are the sync guide's) */
  readonly added_by_enrich_sync: boolean
}

/** A table of either side. */
export interface ManifestTable {
  /** `schema.table` */
  readonly full_name: string
  readonly database: "neon" | "supabase"
  readonly entity: Entity["name"]
  readonly primary_key: string
  /** the Barton ID column: the record's key on both sides and the only join between them */
  readonly unique_key: string
  /** column name to its description, in table order */
  readonly fields: { readonly [column: string]: ManifestField }
  /** rows in the table when the manifest was made, or null when no database was read */
  readonly record_count: number | null
}

/** One stage of the pipeline. */
export interface ManifestStage {
  readonly stage: number
  readonly name: string
  readonly description: string
  readonly from: ReadonlyArray<string>
  readonly to: ReadonlyArray<string>
  /** the command that runs it on demand (`syncd` runs stages 1, 3 and 4 continuously) */
  readonly command: string | null
}

/** How to reach one side, without secrets. */
export interface ManifestConnection {
  readonly role: "source" | "workspace"
  /** the environment variable that holds the connection string */
  readonly variable: string
  /** the connection string with its password replaced by `***`; null when not configured */
  readonly url: string | null
  readonly host: string | null
  readonly port: number | null
  readonly database: string | null
  readonly user: string | null
}

/** The manifest. */
export interface SyncManifest {
  readonly manifest_version: string
  readonly generated_by: string
  readonly source_tables: { readonly [table: string]: ManifestTable }
  readonly target_tables: { readonly [table: string]: ManifestTable }
  /** `<source table>_to_<target table>`: Neon column to workspace column, for every field of the sync record */
  readonly field_mappings: { readonly [pair: string]: { readonly [neonColumn: string]: string } }
  /** per entity, the Neon columns a push writes (the enriched fields, the re-validation outcome, `updated_at`) */
  readonly push_back_fields: { readonly [entity: string]: ReadonlyArray<string> }
  /** per entity, each field's rules in the order fields decide the reason code */
  readonly validation_rules: { readonly [entity: string]: ReadonlyArray<ValidationRule> }
  readonly workflow_stages: ReadonlyArray<ManifestStage>
  readonly enrichment_status: {
    readonly field: string
    readonly values: ReadonlyArray<string>
    readonly default: string
    readonly meaning: { readonly [status: string]: string }
    /** from each status, where it may move (the status never moves backwards) */
    readonly transitions: { readonly [status: string]: ReadonlyArray<string> }
    /** statuses whose workspace edits are pushed to Neon by default (`ENRICH_SYNC_PUSH_ON`) */
    readonly push_on: ReadonlyArray<string>
  }
  readonly connection: { readonly neon: ManifestConnection; readonly supabase: ManifestConnection }
  /** the rows of every source table, or null when they were not counted */
  readonly total_records: number | null
}

const fieldOf = (column: Column): ManifestField => {
  const definition = column.definition
  const defaultMatch = /\bDEFAULT\s+(.+)$/i.exec(definition)
  return {
    type: column.type,
    nullable: !/\bNOT NULL\b|\bPRIMARY KEY\b/i.test(definition),
    default: defaultMatch === null ? null : defaultMatch[1]!.trim(),
    definition,
    added_by_enrich_sync: column.added === true
  }
}

const tableOf = (
  entity: Entity,
  side: "source" | "workspace",
  counts: RecordCounts | undefined
): ManifestTable => {
  const table = side === "source" ? entity.sourceTable : entity.workspaceTable
  const columns = side === "source" ? entity.sourceColumns : entity.workspaceColumns
  const fullName = qualified(table)
  return {
    full_name: fullName,
    database: side === "source" ? "neon" : "supabase",
    entity: entity.name,
    primary_key: "id",
    unique_key: entity.key,
    fields: Object.fromEntries(columns.map((c) => [c.name, fieldOf(c)])),
    record_count: counts?.[fullName] ?? null
  }
}

/** The re-validation outcome a push writes on Neon with the enriched fields (see `validationFields`). */
const revalidationColumns = ["validation_status", "validation_errors", "validation_warnings", "reason_code"]

/**
 * The Neon columns a push writes for `entity`: every shared field but the key (the enriched data and the
 * enrichment status, by and at), the re-validation outcome, and `updated_at` (the newest edit pushed), in
 * the Neon table's column order.
 */
export const pushBackColumns = (entity: Entity): ReadonlyArray<string> => {
  const written = new Set([
    ...entity.fields.filter((f) => f.owner === "shared" && f.name !== entity.key).map((f) => f.source),
    ...revalidationColumns,
    "updated_at"
  ])
  return entity.sourceColumns.map((c) => c.name).filter((name) => written.has(name))
}

/** Neon column to workspace column for every field of the sync record, in the Neon table's column order. */
const mappingOf = (entity: Entity): { readonly [neonColumn: string]: string } => {
  const bySource = new Map(entity.fields.map((f) => [f.source, f.workspace]))
  return Object.fromEntries(
    entity.sourceColumns.flatMap((c) => {
      const to = bySource.get(c.name)
      return to === undefined ? [] : [[c.name, to]]
    })
  )
}

/** The tables of one kind, qualified, one per entity. */
const tablesOf = (table: "sourceTable" | "workspaceTable" | "masterTable"): ReadonlyArray<string> =>
  entities.map((e) => qualified(e[table]))

/** What each stage does, by name. */
const stageDescriptions = {
  pull: "copy the Neon invalid rows into the workspace tables (COPY into an empty table, then the three-way merge of what changed); syncd follows Neon continuously through logical replication",
  enrich:
    "people fix the workspace rows by hand and move enrichment_status from pending to in_progress to complete (or failed)",
  push: "workspace edits of rows whose enrichment_status is pushable (complete) are written to the Neon invalid tables (push_back_fields), compare-and-swap, logged to public.shq_validation_log",
  revalidate:
    "the validation rules run on every pushed record in the push's own transaction (validation_status PASSED or FAILED, validation_errors, validation_warnings, reason_code), and the outcome flows back to the workspace",
  promote:
    "PASSED records move to the master tables (Barton IDs kept, a backup file first, logged to public.shq_validation_log); FAILED enriched records are flagged still_invalid; the workspace rows are marked promoted, never deleted"
} as const

/** The stages in order: name, the tables read, the tables written, the command. */
const stages: ReadonlyArray<ManifestStage> = (
  [
    ["pull", "sourceTable", "workspaceTable", "enrich-sync backfill"],
    ["enrich", "workspaceTable", "workspaceTable", null],
    ["push", "workspaceTable", "sourceTable", "enrich-sync push"],
    ["revalidate", "sourceTable", "sourceTable", "enrich-sync revalidate"],
    ["promote", "sourceTable", "masterTable", "enrich-sync promote"]
  ] as const
).map(([name, from, to, command], i) => ({
  stage: i + 1,
  name,
  description: stageDescriptions[name],
  from: tablesOf(from),
  to: tablesOf(to),
  command
}))

const statusMeaning: { readonly [status: string]: string } = {
  pending: "pulled, awaiting enrichment (a NULL status on Neon is pending)",
  in_progress: "being enriched",
  complete: "enriched: ready to push back to Neon",
  failed: "enrichment failed, needs review (may be re-opened to in_progress)"
}

/** What the manifest's connection info of a side is made from: the connection string, when configured. */
export const connectionOf = (role: "source" | "workspace", url: string | null): ManifestConnection => {
  const variable = role === "source" ? "NEON_DATABASE_URL" : "SUPABASE_DATABASE_URL"
  let parsed: URL | null = null
  try {
    parsed = url === null ? null : new URL(url)
  } catch {
    parsed = null
  }
  if (url === null || parsed === null)
    return { role, variable, url: null, host: null, port: null, database: null, user: null }
  return {
    role,
    variable,
    url: redactUrl(url),
    host: parsed.hostname === "" ? null : parsed.hostname,
    port: parsed.port === "" ? 5432 : Number(parsed.port),
    database: decodeURIComponent(parsed.pathname.replace(/^\//, "")) || null,
    user: parsed.username === "" ? null : decodeURIComponent(parsed.username)
  }
}

/** Rows per table (`schema.table`), as counted. */
export type RecordCounts = { readonly [fullName: string]: number }

/** What a program adds to the manifest. */
export interface ManifestOptions {
  /** rows of the tables it counted; a table not in it has a null `record_count` */
  readonly counts?: RecordCounts
  /** the connection strings it was configured with (passwords are never written) */
  readonly neonUrl?: string | null
  readonly supabaseUrl?: string | null
  /** who made it (default `@enrich-sync/core`) */
  readonly generatedBy?: string
}

/** The manifest, with what a program found out (see the module header). */
export const buildSyncManifest = (options: ManifestOptions = {}): SyncManifest => {
  const counts = options.counts
  const source = entities.map((e) => tableOf(e, "source", counts))
  const sourceCounts = source.map((t) => t.record_count)
  return {
    manifest_version: manifestVersion,
    generated_by: options.generatedBy ?? "@enrich-sync/core",
    source_tables: Object.fromEntries(entities.map((e, i) => [e.sourceTable.name, source[i]!])),
    target_tables: Object.fromEntries(
      entities.map((e) => [e.workspaceTable.name, tableOf(e, "workspace", counts)])
    ),
    field_mappings: Object.fromEntries(
      entities.map((e) => [`${e.sourceTable.name}_to_${e.workspaceTable.name}`, mappingOf(e)])
    ),
    push_back_fields: Object.fromEntries(entities.map((e) => [e.name, pushBackColumns(e)])),
    validation_rules: Object.fromEntries(entities.map((e) => [e.name, validationRules(e)])),
    workflow_stages: stages,
    enrichment_status: {
      field: "enrichment_status",
      values: enrichmentStatuses,
      default: "pending",
      meaning: statusMeaning,
      transitions,
      push_on: defaultPushOn
    },
    connection: {
      neon: connectionOf("source", options.neonUrl ?? null),
      supabase: connectionOf("workspace", options.supabaseUrl ?? null)
    },
    total_records: sourceCounts.every((n) => n !== null)
      ? sourceCounts.reduce<number>((sum, n) => sum + (n ?? 0), 0)
      : null
  }
}

/** The manifest as core knows it: no record counts, no connection configured. */
export const syncManifest: SyncManifest = buildSyncManifest()
