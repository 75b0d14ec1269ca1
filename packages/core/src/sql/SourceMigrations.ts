/**
 * The Neon (source) side: the seed's invalid tables when absent, the columns the push writes, the master
 * tables when absent, `public.shq_validation_log`, the publication the listener follows, a replica identity
 * that makes deletes carry the Barton ID, the projection hash functions (version 3: JSON kept exactly,
 * see `SyncHashSql`), and the push journal (version 4, outside the publication).
 */
import { entities } from "../Entities.ts"
import type { Column, Entity, TableName } from "../Entity.ts"
import { columns, qualified } from "../Entity.ts"
import type { Migration } from "../Migration.ts"
import { canonicalFunctionsSql, recordJsonSql, sourceHashSql } from "./SyncHashSql.ts"
import * as hashV1 from "./SyncHashSqlV1.ts"
import { addColumnsSql, createTableSql } from "./TableSql.ts"

/** The publication of the invalid tables that the neon-listener follows (the default name). */
export const defaultPublication = "enrich_sync_source"

/**
 * Deletes must name the Barton ID (a promotion deletes the invalid row): use the key's unique index as the
 * replica identity, creating one when the table has none.
 */
const replicaIdentity = (entity: Entity): string => {
  const table = qualified(entity.sourceTable)
  const indexName = `${entity.sourceTable.name}_${entity.key}_replica_key`
  return `DO $$
DECLARE idx name;
BEGIN
  SELECT ic.relname INTO idx
    FROM pg_index i
    JOIN pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
   WHERE i.indrelid = '${table}'::regclass AND i.indisunique AND i.indnatts = 1 AND i.indpred IS NULL
     AND i.indexprs IS NULL AND i.indimmediate AND a.attname = '${entity.key}' AND a.attnotnull
   ORDER BY i.indisreplident DESC, i.indexrelid LIMIT 1;
  IF idx IS NULL THEN
    CREATE UNIQUE INDEX IF NOT EXISTS ${indexName} ON ${table} (${entity.key});
    idx := '${indexName}';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
                  WHERE i.indrelid = '${table}'::regclass AND ic.relname = idx AND i.indisreplident) THEN
    EXECUTE format('ALTER TABLE ${table} REPLICA IDENTITY USING INDEX %I', idx);
  END IF;
END
$$`
}

const publication = `DO $$
DECLARE t text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = '${defaultPublication}') THEN
    CREATE PUBLICATION ${defaultPublication} FOR TABLE ${entities.map((e) => qualified(e.sourceTable)).join(", ")};
  ELSE
    FOREACH t IN ARRAY ARRAY[${entities.map((e) => `'${qualified(e.sourceTable)}'`).join(", ")}] LOOP
      IF NOT EXISTS (SELECT 1 FROM pg_publication_tables
                      WHERE pubname = '${defaultPublication}' AND format('%I.%I', schemaname, tablename) = t) THEN
        EXECUTE format('ALTER PUBLICATION ${defaultPublication} ADD TABLE %s', t);
      END IF;
    END LOOP;
  END IF;
END
$$`

/**
 * Version 2: the default publication publishes only each table's key column (PostgreSQL 15 and later; on
 * 14 it stays whole). The listener reads nothing but the key (an event only names a key), so Neon sends
 * and decodes a fraction of each changed row. The key is the replica identity, as a column list requires.
 */
const keyOnlyPublication = `DO $$
BEGIN
  IF current_setting('server_version_num')::int < 150000 THEN
    RETURN;
  END IF;
${entities
  .map(
    (e) => `  IF EXISTS (SELECT 1 FROM pg_publication_tables
              WHERE pubname = '${defaultPublication}' AND schemaname = '${e.sourceTable.schema}' AND tablename = '${e.sourceTable.name}'
                AND attnames IS DISTINCT FROM ARRAY['${e.key}']::name[]) THEN
    ALTER PUBLICATION ${defaultPublication} DROP TABLE ${qualified(e.sourceTable)};
    ALTER PUBLICATION ${defaultPublication} ADD TABLE ${qualified(e.sourceTable)} (${e.key});
  END IF;`
  )
  .join("\n")}
END
$$`

/** The push journal (see the engine's `PushJournal`), by parts. */
export const pushJournalTableName: TableName = { schema: "enrich_sync", name: "push_journal" }

/**
 * The push journal's columns (version 4): one row per push whose workspace write has not yet been made
 * durable, written in the push's Neon transaction: the key, the workspace row's `last_sync_hash` as the
 * push's merge read it, the base the row takes if its write does not land, and the conflicts the merge
 * resolved. Not in the publication: the listener never sees it.
 */
export const pushJournalColumns: ReadonlyArray<Column> = columns({
  push_id: "UUID PRIMARY KEY",
  seq: "BIGSERIAL",
  entity: "TEXT NOT NULL",
  record_key: "TEXT NOT NULL",
  prior_hash: "TEXT",
  base: "JSONB NOT NULL",
  base_hash: "TEXT NOT NULL",
  conflicts: "JSONB NOT NULL",
  created_at: "TIMESTAMPTZ NOT NULL DEFAULT now()"
})

/** The Neon side's migrations. */
export const sourceMigrations: ReadonlyArray<Migration> = [
  {
    side: "source",
    version: 1,
    name: "invalid, master and log tables, publication, projection hash",
    statements: [
      `CREATE SCHEMA IF NOT EXISTS marketing`,
      ...entities.flatMap((e) => [
        createTableSql(e.sourceTable, e.sourceColumns),
        ...addColumnsSql(e.sourceTable, e.sourceColumns),
        createTableSql(e.masterTable, e.masterColumns),
        replicaIdentity(e)
      ]),
      `CREATE TABLE IF NOT EXISTS public.shq_validation_log (
  id BIGSERIAL PRIMARY KEY,
  record_id TEXT NOT NULL,
  entity TEXT NOT NULL,
  action TEXT NOT NULL,
  validation_status TEXT,
  validation_errors JSONB,
  details JSONB,
  batch_id TEXT,
  created_at TIMESTAMP DEFAULT now()
)`,
      `CREATE INDEX IF NOT EXISTS idx_shq_validation_log_record ON public.shq_validation_log (record_id)`,
      `CREATE SCHEMA IF NOT EXISTS enrich_sync`,
      publication,
      ...hashV1.canonicalFunctionsSql,
      ...entities.flatMap((e) => [hashV1.recordJsonSql(e), hashV1.sourceHashSql(e)])
    ]
  },
  {
    side: "source",
    version: 2,
    name: "the publication sends only the key columns",
    statements: [keyOnlyPublication]
  },
  {
    side: "source",
    version: 3,
    name: "JSON kept exactly: numbers as jsonb prints them, JSON null apart from SQL NULL",
    statements: [...canonicalFunctionsSql, ...entities.flatMap((e) => [recordJsonSql(e), sourceHashSql(e)])]
  },
  {
    side: "source",
    version: 4,
    name: "push journal: what a push decided, kept with the push until the workspace holds it",
    statements: [
      createTableSql(pushJournalTableName, pushJournalColumns),
      // the merge looks up the entries of the keys of each round
      `CREATE INDEX IF NOT EXISTS idx_push_journal_record ON ${qualified(pushJournalTableName)} (entity, record_key)`
    ]
  }
]
