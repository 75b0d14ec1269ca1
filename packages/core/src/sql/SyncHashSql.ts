/**
 * The projection and `last_sync_hash` in SQL: the same canonical JSON as `SyncHash.ts`, byte for byte, so
 * either database can hash its own rows (find unsynced edits, compare sides by bucket, check a write).
 *
 * Installed in schema `enrich_sync` on both sides by migration 3 (which replaces what migrations 1 and 2
 * installed, `SyncHashSqlV1`). Per entity:
 * - `enrich_sync.<entity>_record_json(<every field, in canonical order>) -> text`: the canonical JSON of a
 *   sync record given its field values (what a staging table or either side's row can call);
 * - `enrich_sync.<entity>_source_hash(marketing.<entity>_invalid)` (Neon) and
 *   `enrich_sync.<entity>_workspace_hash(public.<entity>_needs_enrichment)` (workspace): md5 of a row's projection;
 * and generic `enrich_sync.canonical_json(jsonb)` / `enrich_sync.sync_hash(jsonb)` for stored projections.
 *
 * Speed matters (verify hashes a million rows per side): the record functions are single SQL expressions
 * that Postgres inlines, one `concat_ws` of the fields' members (`"name": value`, NULL for a field that is
 * SQL NULL, which `concat_ws` leaves out) and no nested function calls. A JSON value is its own
 * `jsonb::text`: that is its canonical text.
 */
import type { Entity, FieldKind, SyncField } from "../Entity.ts"
import { qualified } from "../Entity.ts"
import { trimmedCharacters } from "../TrimText.ts"

/** The trimmed characters as one SQL string literal. */
const trimSet = `E'${trimmedCharacters
  .map((c) => (c < 0x80 ? `\\x${c.toString(16).padStart(2, "0")}` : `\\u${c.toString(16).padStart(4, "0")}`))
  .join("")}'`

/**
 * The SQL expression of a field's canonical JSON text given the SQL expression of its value, NULL when the
 * field is SQL NULL (a record leaves it out).
 */
const presentValueSql = (kind: FieldKind, value: string): string => {
  switch (kind) {
    case "text":
      return `to_json(nullif(btrim(${value}, ${trimSet}), ''))::text`
    case "status":
      return `to_json(coalesce(translate(nullif(btrim(${value}, ${trimSet}), ''), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), 'pending'))::text`
    case "integer":
      return `(${value})::text`
    case "timestamp":
      // isfinite(NULL) is NULL: the ELSE branch, NULL too
      return `CASE WHEN isfinite(${value}) THEN '"' || to_char(${value}, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '"' ELSE '"' || (${value})::text || '"' END`
    case "json":
      return `(${value})::text`
  }
}

/** The SQL expression of a field's value as canonical JSON text, `null` for SQL NULL. */
export const canonicalValueSql = (kind: FieldKind, value: string): string =>
  kind === "status" ? presentValueSql(kind, value) : `coalesce(${presentValueSql(kind, value)}, 'null')`

/**
 * The schema and the canonical-value functions of the scalar kinds, given how a version writes a value
 * (unchanged since version 1 but for that).
 */
export const canonicalScalarFunctionsSql = (
  valueSql: (kind: FieldKind, value: string) => string
): ReadonlyArray<string> => [
  `CREATE SCHEMA IF NOT EXISTS enrich_sync`,
  `CREATE OR REPLACE FUNCTION enrich_sync.canonical_text(v text) RETURNS text
   LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT ${valueSql("text", "v")} $$`,
  `CREATE OR REPLACE FUNCTION enrich_sync.canonical_status(v text) RETURNS text
   LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT ${valueSql("status", "v")} $$`,
  `CREATE OR REPLACE FUNCTION enrich_sync.canonical_integer(v bigint) RETURNS text
   LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT ${valueSql("integer", "v")} $$`,
  `CREATE OR REPLACE FUNCTION enrich_sync.canonical_timestamp(v timestamp) RETURNS text
   LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT ${valueSql("timestamp", "v")} $$`,
  `CREATE OR REPLACE FUNCTION enrich_sync.canonical_timestamp(v timestamptz) RETURNS text
   LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT enrich_sync.canonical_timestamp(v AT TIME ZONE 'UTC') $$`
]

/** `enrich_sync.sync_hash(jsonb)`: md5 of a stored projection's canonical JSON (unchanged since version 1). */
export const syncHashFunctionSql = `CREATE OR REPLACE FUNCTION enrich_sync.sync_hash(record jsonb) RETURNS text
   LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT md5(enrich_sync.canonical_json(record)) $$`

/** The generic canonical-value functions (entity independent), and the version 1 ones dropped. */
export const canonicalFunctionsSql: ReadonlyArray<string> = [
  ...canonicalScalarFunctionsSql(canonicalValueSql),
  `CREATE OR REPLACE FUNCTION enrich_sync.canonical_json(j jsonb) RETURNS text
   LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT ${canonicalValueSql("json", "j")} $$`,
  syncHashFunctionSql,
  // version 1 rewrote numbers through a double; nothing calls these any more
  `DROP FUNCTION IF EXISTS enrich_sync.canonical_json_exact(jsonb)`,
  `DROP FUNCTION IF EXISTS enrich_sync.canonical_number(numeric)`
]

/** The SQL type a field's values take (arguments of `<entity>_record_json`, record sets of batched writes). */
export const sqlTypeOf = (kind: FieldKind): string => {
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

/** `enrich_sync.<entity>_record_json`, qualified. */
export const recordJsonFunction = (entity: Entity): string => `enrich_sync.${entity.name}_record_json`

/** `enrich_sync.<entity>_source_hash`, qualified (Neon). */
export const sourceHashFunction = (entity: Entity): string => `enrich_sync.${entity.name}_source_hash`

/** `enrich_sync.<entity>_workspace_hash`, qualified (workspace). */
export const workspaceHashFunction = (entity: Entity): string => `enrich_sync.${entity.name}_workspace_hash`

/**
 * How a version of the hash writes the canonical JSON of a record as one SQL expression, given the SQL
 * expression of each field's value.
 */
export type RecordJsonExpression = (entity: Entity, valueSql: (field: SyncField) => string) => string

/**
 * The SQL expression of the canonical JSON of a record whose field values are given by `valueSql` (an SQL
 * expression per field, e.g. a column of some alias): its fields' members, those that are SQL NULL left
 * out. One `concat_ws`, no nested calls: Postgres evaluates it in a single pass.
 */
export const recordJsonExpression: RecordJsonExpression = (entity, valueSql) => {
  const members = entity.fields.map(
    (f) => `'${JSON.stringify(f.name)}: ' || ${presentValueSql(f.kind, valueSql(f))}`
  )
  return `'{' || concat_ws(', ', ${members.join(", ")}) || '}'`
}

/**
 * The per-entity record function, on both sides. `expression` is how the version writes a record (default:
 * this version's `recordJsonExpression`).
 */
export const recordJsonSql = (
  entity: Entity,
  expression: RecordJsonExpression = recordJsonExpression
): string => {
  const args = entity.fields.map((f) => `f_${f.name} ${sqlTypeOf(f.kind)}`).join(", ")
  return `CREATE OR REPLACE FUNCTION ${recordJsonFunction(entity)}(${args}) RETURNS text
   LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
     SELECT ${expression(entity, (f) => `f_${f.name}`)}
   $$`
}

/** The Neon row hash of an entity (`expression`: as in `recordJsonSql`). */
export const sourceHashSql = (
  entity: Entity,
  expression: RecordJsonExpression = recordJsonExpression
): string => `CREATE OR REPLACE FUNCTION ${sourceHashFunction(entity)}(r ${qualified(entity.sourceTable)}) RETURNS text
   LANGUAGE sql STABLE PARALLEL SAFE AS $$
     SELECT md5(${expression(entity, (f) => `r.${f.source}`)})
   $$`

/** The workspace row hash of an entity (`expression`: as in `recordJsonSql`). */
export const workspaceHashSql = (
  entity: Entity,
  expression: RecordJsonExpression = recordJsonExpression
): string => `CREATE OR REPLACE FUNCTION ${workspaceHashFunction(entity)}(r ${qualified(entity.workspaceTable)}) RETURNS text
   LANGUAGE sql STABLE PARALLEL SAFE AS $$
     SELECT md5(${expression(entity, (f) => `r.${f.workspace}`)})
   $$`
