/**
 * The SQL of a promotion: the statement that moves a batch of PASSED rows to the master table (and logs
 * them), the scan that finds the PASSED keys and the rows to flag `still_invalid`, the read of a batch's
 * statuses, and the flag itself.
 *
 * Invariant: the move is one statement, so a row leaves the invalid table exactly when it enters the
 * master table and the log, and only while its stored status is still `PASSED`.
 */
import type { Entity } from "@enrich-sync/core"
import { qualified, quoteIdent } from "@enrich-sync/core"
import type { MasterMapping } from "./MasterMapping.ts"

/**
 * The statement that promotes the rows whose keys are `$1` and whose status is still `PASSED`, in one pass
 * over them: deletes them from the invalid table and, from the deleted rows, inserts them into the master
 * table (updating a key the master already holds) and logs them to `shq_validation_log`. Parameters: `$1`
 * keys, `$2` entity name, `$3` and `$4` the log's details for a new key and for a key the master held. The
 * log entry of a key the master held also keeps the master row(s) the promotion overwrote, whole
 * (`replaced_master_rows` in its details), so no value of the master is lost.
 * Returns one row per promoted row: its key, the whole row as a JSON object (its backup line) and whether
 * the master held the key. Every part sees the tables as they were before the statement, the statement
 * succeeds or fails as a whole, and nothing of it is visible before the transaction commits (which is
 * after the backup lines are on disk).
 */
export const promoteSql = (entity: Entity, mapping: MasterMapping): string => {
  const master = qualified(entity.masterTable)
  const invalid = qualified(entity.sourceTable)
  const key = quoteIdent(entity.key)
  const targets = mapping.columns.map(([to]) => quoteIdent(to)).join(", ")
  const values = mapping.columns.map(([, from]) => `g.${quoteIdent(from)}`).join(", ")
  const updatable = mapping.columns.filter(([to]) => to !== entity.key)
  const toMaster = mapping.uniqueKey
    ? `ins AS (
         INSERT INTO ${master} AS m (${targets}) SELECT ${values} FROM gone AS g
         ON CONFLICT (${key}) ${
           updatable.length === 0
             ? "DO NOTHING"
             : `DO UPDATE SET ${updatable.map(([to]) => `${quoteIdent(to)} = EXCLUDED.${quoteIdent(to)}`).join(", ")}`
         })`
    : `${
        updatable.length === 0
          ? ""
          : `upd AS (
         UPDATE ${master} AS m SET ${updatable.map(([to, from]) => `${quoteIdent(to)} = g.${quoteIdent(from)}`).join(", ")}
           FROM gone AS g WHERE m.${key} = g.${key}),
       `
      }ins AS (
         INSERT INTO ${master} (${targets}) SELECT ${values} FROM gone AS g
          WHERE NOT EXISTS (SELECT 1 FROM ${master} AS m WHERE m.${key} = g.${key}))`
  return `WITH gone AS (
         DELETE FROM ${invalid} AS t WHERE t.${key} = ANY($1::text[]) AND t.validation_status = 'PASSED'
         RETURNING t.*),
       existing AS (
         SELECT m.${key} AS key, jsonb_agg(to_jsonb(m)) AS replaced
           FROM ${master} AS m WHERE m.${key} = ANY($1::text[]) GROUP BY m.${key}),
       ${toMaster},
       logged AS (
         INSERT INTO public.shq_validation_log
                (record_id, entity, action, validation_status, validation_errors, details, batch_id)
         SELECT g.${key}, $2, 'promote', g.validation_status, g.validation_errors,
                CASE WHEN e.key IS NULL THEN $3::jsonb
                     ELSE $4::jsonb || jsonb_build_object('replaced_master_rows', e.replaced) END, g.batch_id
           FROM gone AS g LEFT JOIN existing AS e ON e.key = g.${key})
     SELECT g.${key} AS key, row_to_json(g)::text AS row_json, e.key IS NOT NULL AS existed
       FROM gone AS g LEFT JOIN existing AS e ON e.key = g.${key}
      ORDER BY g.${key}`
}

/** Reads the rows of `$1`: their status. */
export const byKeysSql = (entity: Entity) =>
  `SELECT t.${quoteIdent(entity.key)} AS key, t.validation_status, t.reason_code
     FROM ${qualified(entity.sourceTable)} AS t WHERE t.${quoteIdent(entity.key)} = ANY($1::text[])`

// the ILIKE is a cheap superset of the canonical test (a status that canonicalizes to "complete" contains
// those letters in some case), so the canonical expression runs only on the few rows it lets through
const stillInvalidPrefilter = `t.validation_status = 'FAILED' AND t.enrichment_status ILIKE '%complete%'`
const stillInvalidTest = `enrich_sync.canonical_status(t.enrichment_status) = '"complete"'`
const stillInvalidCondition = `${stillInvalidPrefilter} AND ${stillInvalidTest}`

/**
 * Every PASSED key (`id` null) and the id of every row to flag `still_invalid` (see `stillInvalidCondition`),
 * in one scan: a second scan of the table for the flag cost as much as the first. Unordered: the caller sorts
 * the keys (the server's sort, under the database's collation, took a third of the scan's time). The
 * condition is split so that each qual is false or NULL, which stops the evaluation, on almost every row
 * (inside one OR, a NULL from the ILIKE would not stop it from calling the canonical test).
 */
export const scanSql = (entity: Entity) =>
  `SELECT t.${quoteIdent(entity.key)} AS key,
          CASE WHEN t.validation_status = 'PASSED' THEN NULL ELSE t.id::text END AS id
     FROM ${qualified(entity.sourceTable)} AS t
    WHERE (t.validation_status = 'PASSED' OR (${stillInvalidPrefilter}))
      AND (t.validation_status = 'PASSED' OR ${stillInvalidTest})`

/**
 * Flags FAILED rows that went through enrichment and counts them (a dry run only counts): all such rows,
 * or (`byIds`) those among the ids in `$1` (each checked again).
 */
export const stillInvalidSql = (entity: Entity, dryRun: boolean, byIds: boolean): string => {
  const table = qualified(entity.sourceTable)
  const where = byIds ? `t.id = ANY($1::bigint[]) AND ${stillInvalidCondition}` : stillInvalidCondition
  return dryRun
    ? `SELECT count(*)::bigint AS n FROM ${table} AS t WHERE ${where}`
    : `WITH c AS (SELECT t.id, t.still_invalid FROM ${table} AS t WHERE ${where}),
                u AS (UPDATE ${table} AS t SET still_invalid = true FROM c
                       WHERE t.id = c.id AND c.still_invalid IS NOT TRUE)
           SELECT count(*)::bigint AS n FROM c`
}
