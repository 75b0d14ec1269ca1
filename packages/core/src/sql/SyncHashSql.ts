/**
 * The projection and `last_sync_hash` in SQL: the same canonical JSON as `SyncHash.ts`, byte for byte, so
 * either database can hash its own rows (find unsynced edits, compare sides by bucket, check a write).
 *
 * Installed in schema `enrich_sync` on both sides by the migrations. Per entity:
 * - `enrich_sync.<entity>_record_json(<every field, in canonical order>) -> text`: the canonical JSON of a
 *   sync record given its field values (what a staging table or either side's row can call);
 * - `enrich_sync.<entity>_source_hash(marketing.<entity>_invalid)` (Neon) and
 *   `enrich_sync.<entity>_workspace_hash(public.<entity>_needs_enrichment)` (workspace): md5 of a row's projection;
 * and generic `enrich_sync.canonical_json(jsonb)` / `enrich_sync.sync_hash(jsonb)` for stored projections.
 */
import type { Entity, FieldKind, SyncField } from "../Entity.ts"
import { qualified } from "../Entity.ts"
import { trimmedCharacters } from "../Projection.ts"

const trimSet = `(${trimmedCharacters.map((c) => `chr(${c})`).join(" || ")})`

/** The generic canonical-value functions (entity independent). */
export const canonicalFunctionsSql: ReadonlyArray<string> = [
  `CREATE SCHEMA IF NOT EXISTS enrich_sync`,
  // text: trimmed as String.prototype.trim does; empty is null; escaped as JSON.stringify (to_json does the same)
  `CREATE OR REPLACE FUNCTION enrich_sync.canonical_text(v text) RETURNS text
   LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
     SELECT coalesce(to_json(nullif(btrim(v, ${trimSet}), ''))::text, 'null')
   $$`,
  `CREATE OR REPLACE FUNCTION enrich_sync.canonical_status(v text) RETURNS text
   LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
     SELECT to_json(coalesce(lower(nullif(btrim(v, ${trimSet}), '')), 'pending'))::text
   $$`,
  `CREATE OR REPLACE FUNCTION enrich_sync.canonical_integer(v bigint) RETURNS text
   LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT coalesce(v::text, 'null') $$`,
  `CREATE OR REPLACE FUNCTION enrich_sync.canonical_timestamp(v timestamp) RETURNS text
   LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
     SELECT CASE WHEN v IS NULL THEN 'null'
                 WHEN NOT isfinite(v) THEN '"' || v::text || '"'
                 ELSE '"' || to_char(v, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '"' END
   $$`,
  `CREATE OR REPLACE FUNCTION enrich_sync.canonical_timestamp(v timestamptz) RETURNS text
   LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
     SELECT enrich_sync.canonical_timestamp(v AT TIME ZONE 'UTC')
   $$`,
  // numbers inside JSON: the shortest round-trip digits of the double (Postgres' float8 output with
  // extra_float_digits >= 1), laid out as ECMAScript's Number::toString does
  `CREATE OR REPLACE FUNCTION enrich_sync.canonical_number(n numeric) RETURNS text
   LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE SET extra_float_digits = 1 AS $$
   DECLARE
     s text; neg boolean; mant text; ex int := 0; dot int; digits text; k int; e int;
   BEGIN
     IF abs(n) > 1.7976931348623157e308 THEN RETURN 'null'; END IF;
     IF abs(n) < 2.5e-324 THEN RETURN '0'; END IF;
     s := n::float8::text;
     IF s = '0' OR s = '-0' THEN RETURN '0'; END IF;
     neg := left(s, 1) = '-';
     IF neg THEN s := substr(s, 2); END IF;
     IF position('e' in s) > 0 THEN
       mant := split_part(s, 'e', 1);
       ex := split_part(s, 'e', 2)::int;
     ELSE
       mant := s;
     END IF;
     dot := position('.' in mant);
     IF dot > 0 THEN
       digits := replace(mant, '.', '');
       e := dot - 1 + ex;
     ELSE
       digits := mant;
       e := length(mant) + ex;
     END IF;
     WHILE left(digits, 1) = '0' LOOP
       digits := substr(digits, 2);
       e := e - 1;
     END LOOP;
     digits := rtrim(digits, '0');
     k := length(digits);
     IF k <= e AND e <= 21 THEN
       s := digits || repeat('0', e - k);
     ELSIF 0 < e AND e <= 21 THEN
       s := left(digits, e) || '.' || substr(digits, e + 1);
     ELSIF -6 < e AND e <= 0 THEN
       s := '0.' || repeat('0', -e) || digits;
     ELSE
       s := left(digits, 1) || CASE WHEN k > 1 THEN '.' || substr(digits, 2) ELSE '' END
            || 'e' || CASE WHEN e - 1 >= 0 THEN '+' ELSE '-' END || abs(e - 1)::text;
     END IF;
     RETURN CASE WHEN neg THEN '-' || s ELSE s END;
   END
   $$`,
  // any JSON value: keys sorted by code point (COLLATE "C" is byte order, which for UTF-8 is code point order)
  `CREATE OR REPLACE FUNCTION enrich_sync.canonical_json(j jsonb) RETURNS text
   LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
   DECLARE t text := jsonb_typeof(j);
   BEGIN
     IF j IS NULL OR t = 'null' THEN RETURN 'null';
     ELSIF t = 'string' OR t = 'boolean' THEN RETURN j::text;
     ELSIF t = 'number' THEN RETURN enrich_sync.canonical_number(j::text::numeric);
     ELSIF t = 'array' THEN
       RETURN '[' || coalesce((SELECT string_agg(enrich_sync.canonical_json(e), ',' ORDER BY o)
                               FROM jsonb_array_elements(j) WITH ORDINALITY AS a(e, o)), '') || ']';
     ELSE
       RETURN '{' || coalesce((SELECT string_agg(to_json(k)::text || ':' || enrich_sync.canonical_json(v), ','
                                                 ORDER BY k COLLATE "C")
                               FROM jsonb_each(j) AS x(k, v)), '') || '}';
     END IF;
   END
   $$`,
  `CREATE OR REPLACE FUNCTION enrich_sync.sync_hash(record jsonb) RETURNS text
   LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT md5(enrich_sync.canonical_json(record)) $$`
]

/** The SQL type of a field's argument in `<entity>_record_json`. */
const argumentType = (kind: FieldKind): string => {
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

/** The canonical-value function for a field kind. */
export const canonicalFunction = (kind: FieldKind): string => {
  switch (kind) {
    case "text":
      return "enrich_sync.canonical_text"
    case "status":
      return "enrich_sync.canonical_status"
    case "integer":
      return "enrich_sync.canonical_integer"
    case "timestamp":
      return "enrich_sync.canonical_timestamp"
    case "json":
      return "enrich_sync.canonical_json"
  }
}

/** `enrich_sync.<entity>_record_json`, qualified. */
export const recordJsonFunction = (entity: Entity): string => `enrich_sync.${entity.name}_record_json`

/** `enrich_sync.<entity>_source_hash`, qualified (Neon). */
export const sourceHashFunction = (entity: Entity): string => `enrich_sync.${entity.name}_source_hash`

/** `enrich_sync.<entity>_workspace_hash`, qualified (workspace). */
export const workspaceHashFunction = (entity: Entity): string => `enrich_sync.${entity.name}_workspace_hash`

/**
 * An SQL expression for the canonical JSON of a record whose field values are given by `valueOf`
 * (an SQL expression per field, e.g. a column of some alias).
 */
export const recordJsonExpression = (entity: Entity, valueOf: (field: SyncField) => string): string =>
  `${recordJsonFunction(entity)}(${entity.fields.map(valueOf).join(", ")})`

/** The per-entity functions that hold on both sides. */
export const recordJsonSql = (entity: Entity): string => {
  const args = entity.fields.map((f) => `f_${f.name} ${argumentType(f.kind)}`).join(", ")
  const body = entity.fields
    .map((f, i) => `'${i === 0 ? "{" : ","}${JSON.stringify(f.name)}:' || ${canonicalFunction(f.kind)}(f_${f.name})`)
    .join("\n       || ")
  return `CREATE OR REPLACE FUNCTION ${recordJsonFunction(entity)}(${args}) RETURNS text
   LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
     SELECT ${body}
       || '}'
   $$`
}

/** The Neon row hash of an entity. */
export const sourceHashSql = (entity: Entity): string => `CREATE OR REPLACE FUNCTION ${sourceHashFunction(entity)}(r ${qualified(entity.sourceTable)}) RETURNS text
   LANGUAGE sql STABLE PARALLEL SAFE AS $$
     SELECT md5(${recordJsonExpression(entity, (f) => `r.${f.source}`)})
   $$`

/** The workspace row hash of an entity. */
export const workspaceHashSql = (entity: Entity): string => `CREATE OR REPLACE FUNCTION ${workspaceHashFunction(entity)}(r ${qualified(entity.workspaceTable)}) RETURNS text
   LANGUAGE sql STABLE PARALLEL SAFE AS $$
     SELECT md5(${recordJsonExpression(entity, (f) => `r.${f.workspace}`)})
   $$`
