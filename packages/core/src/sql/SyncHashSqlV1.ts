/**
 * The projection hash in SQL as migrations 1 (both sides) and 2 (the workspace's trigger) installed it,
 * frozen: the statements of an applied migration never change (their checksum is recorded), so those
 * migrations keep this text, and migration 3 (`SyncHashSql`) replaces what it installed.
 *
 * Version 1 wrote a JSON number as ECMAScript writes the double (`2.50` as `2.5`, a 23-digit integer
 * rounded), and a record's SQL NULL and JSON null fields both as `null`. Migration 3 still calls these
 * functions once, to recognise the hashes they stored before it re-hashes them.
 */
import type { Entity, FieldKind } from "../Entity.ts"
import * as current from "./SyncHashSql.ts"

/**
 * Matches the `jsonb::text` of a value holding a number whose `numeric` text differs from what ECMAScript
 * prints for the double (a fraction, an exponent, or 16 digits and more). It may also match inside a string
 * (harmless: the slow path is exact too); it never misses such a number, since in `jsonb` text a number only
 * ever starts the text or follows `": "`, `"["` or `", "`.
 */
const needsSlowPath = `'(^|: |\\[|, )-?([0-9]{16}|[0-9]+[.eE])'`

/**
 * The SQL expression of a field's canonical JSON text, given the SQL expression of its value: text, status
 * and integer are written as the current version writes them; a SQL NULL timestamp as `null`, a JSON value
 * through `canonical_json` (numbers rewritten).
 */
const canonicalValueSql = (kind: FieldKind, value: string): string => {
  switch (kind) {
    case "text":
    case "status":
    case "integer":
      return current.canonicalValueSql(kind, value)
    case "timestamp":
      return `CASE WHEN ${value} IS NULL THEN 'null' WHEN isfinite(${value}) THEN '"' || to_char(${value}, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '"' ELSE '"' || (${value})::text || '"' END`
    case "json":
      return `enrich_sync.canonical_json(${value})`
  }
}

/** The generic canonical-value functions (entity independent). */
export const canonicalFunctionsSql: ReadonlyArray<string> = [
  ...current.canonicalScalarFunctionsSql(canonicalValueSql),
  // a number: the shortest round-trip digits of the double (Postgres' float8 output with
  // extra_float_digits >= 1), laid out as ECMAScript's Number::toString does
  `CREATE OR REPLACE FUNCTION enrich_sync.canonical_number(n numeric) RETURNS text
   LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE SET extra_float_digits = 1 AS $$
   DECLARE
     s text; neg boolean; mant text; ex int := 0; dot int; digits text; k int; e int; cand text; c text;
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
     -- Postgres' shortest output can be one digit longer than ECMAScript's when the shorter decimal lies
     -- exactly on the rounding boundary (a tie that round-half-even resolves to this double): take the
     -- shorter candidate whenever it reads back as the same double
     LOOP
       EXIT WHEN k <= 1;
       cand := NULL;
       FOREACH c IN ARRAY ARRAY[left(digits, k - 1), (left(digits, k - 1)::numeric + 1)::text] LOOP
         IF (c || 'e' || (e - (k - 1)))::numeric <= 1.7976931348623157e308
            AND (c || 'e' || (e - (k - 1)))::float8 = abs(n::float8) THEN
           IF cand IS NOT NULL THEN cand := NULL; EXIT; END IF;
           cand := c;
         END IF;
       END LOOP;
       EXIT WHEN cand IS NULL;
       e := length(cand) + e - (k - 1);
       digits := rtrim(cand, '0');
       k := length(digits);
     END LOOP;
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
  // the exact path: the jsonb layout, recursively, with every number rewritten
  `CREATE OR REPLACE FUNCTION enrich_sync.canonical_json_exact(j jsonb) RETURNS text
   LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
   DECLARE t text := jsonb_typeof(j);
   BEGIN
     IF j IS NULL OR t = 'null' THEN RETURN 'null';
     ELSIF t = 'string' OR t = 'boolean' THEN RETURN j::text;
     ELSIF t = 'number' THEN RETURN enrich_sync.canonical_number(j::text::numeric);
     ELSIF t = 'array' THEN
       RETURN '[' || coalesce((SELECT string_agg(enrich_sync.canonical_json_exact(e), ', ' ORDER BY o)
                               FROM jsonb_array_elements(j) WITH ORDINALITY AS a(e, o)), '') || ']';
     ELSE
       RETURN '{' || coalesce((SELECT string_agg(to_json(k)::text || ': ' || enrich_sync.canonical_json_exact(v), ', '
                                                 ORDER BY octet_length(k), k COLLATE "C")
                               FROM jsonb_each(j) AS x(k, v)), '') || '}';
     END IF;
   END
   $$`,
  `CREATE OR REPLACE FUNCTION enrich_sync.canonical_json(j jsonb) RETURNS text
   LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
     SELECT CASE WHEN j IS NULL THEN 'null'
                 WHEN j::text ~ ${needsSlowPath} THEN enrich_sync.canonical_json_exact(j)
                 ELSE j::text END
   $$`,
  current.syncHashFunctionSql
]

/**
 * The SQL expression of the canonical JSON of a record whose field values are given by `valueSql` (an SQL
 * expression per field, e.g. a column of some alias). One `concat`, no nested calls: Postgres evaluates it
 * in a single pass.
 */
export const recordJsonExpression: current.RecordJsonExpression = (entity, valueSql) => {
  const parts = entity.fields.flatMap((f, i) => [
    `'${i === 0 ? "{" : ", "}${JSON.stringify(f.name)}: '`,
    canonicalValueSql(f.kind, valueSql(f))
  ])
  return `concat(${[...parts, "'}'"].join(", ")})`
}

/** The per-entity record function, on both sides. */
export const recordJsonSql = (entity: Entity): string => current.recordJsonSql(entity, recordJsonExpression)

/** The Neon row hash of an entity. */
export const sourceHashSql = (entity: Entity): string => current.sourceHashSql(entity, recordJsonExpression)

/** The workspace row hash of an entity. */
export const workspaceHashSql = (entity: Entity): string =>
  current.workspaceHashSql(entity, recordJsonExpression)
