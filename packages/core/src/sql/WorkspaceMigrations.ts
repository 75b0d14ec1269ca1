/**
 * The Supabase (workspace) side: the seed's workspace tables with their indexes when absent, the sync
 * columns this project adds, the conflict log, the trigger that stamps `updated_at` and marks the row
 * `sync_dirty` on every edit but the engine's own, row level security on (no policy: the anon role sees nothing), the tables in the
 * `supabase_realtime` publication, the projection hash functions, and the daemon's progress table.
 *
 * The agreed projection is stored lazily (version 2): `sync_base` is NULL while the row itself is what
 * both sides agreed on (its projection hashes to `last_sync_hash`), and the trigger stores the row's
 * projection in `sync_base` the moment a person first edits it. So the base is always known, yet most rows
 * (those nobody is editing) do not carry a second copy of themselves: rows are about 2.5 times smaller,
 * and every write of the engine is cheaper.
 *
 * JSON is kept exactly (version 4): the projection hash takes a JSON value as `jsonb` prints it and leaves
 * out the fields that are SQL NULL (`SyncHashSql`); the hashes and bases stored before are re-hashed.
 *
 * The push receipts (version 6) record which entries of Neon's push journal the workspace holds.
 */
import { entities } from "../Entities.ts"
import type { Column, Entity, TableName } from "../Entity.ts"
import { columns, qualified } from "../Entity.ts"
import type { Migration } from "../Migration.ts"
import {
  canonicalFunctionsSql,
  type RecordJsonExpression,
  recordJsonExpression,
  recordJsonSql,
  workspaceHashFunction,
  workspaceHashSql
} from "./SyncHashSql.ts"
import * as hashV1 from "./SyncHashSqlV1.ts"
import { addColumnsSql, createTableSql } from "./TableSql.ts"

/** The transaction-local setting the engine sets so the `updated_at` trigger keeps the edit time it writes. */
export const applyingSetting = "enrich_sync.applying"

/**
 * The writing transaction's id as a row's `xmin` shows it (32 bits). The engine records it in `sync_xid`
 * with each write, so `xmin = sync_xid` later proves that nobody has written the row since.
 */
export const currentXidSql = "(pg_current_xact_id()::text::bigint % 4294967296)"

/** The conflict log table. */
export const conflictTable = "public.sync_conflicts"

/** The conflict log table, by parts. */
export const conflictTableName: TableName = { schema: "public", name: "sync_conflicts" }

/**
 * The conflict log's columns: one row per value a merge overwrote (the field, why, who won, the base and both
 * sides' values and edit times, when it was detected), and, added by migration 3, its review: when and by whom
 * a person marked it reviewed, and when its losing value was restored (`enrich-sync conflicts`).
 */
export const conflictColumns: ReadonlyArray<Column> = [
  ...columns({
    id: "BIGSERIAL PRIMARY KEY",
    entity: "TEXT NOT NULL",
    record_key: "TEXT NOT NULL",
    field: "TEXT NOT NULL",
    reason: "TEXT NOT NULL",
    winner: "TEXT NOT NULL",
    base_value: "JSONB",
    source_value: "JSONB",
    source_edited_at: "TIMESTAMP",
    workspace_value: "JSONB",
    workspace_edited_at: "TIMESTAMP",
    detected_at: "TIMESTAMP NOT NULL DEFAULT now()"
  }),
  ...columns(
    {
      reviewed_at: "TIMESTAMPTZ",
      reviewed_by: "TEXT",
      restored_at: "TIMESTAMPTZ"
    },
    { since: 3 }
  )
]

/** The receipts of the push journal (see the engine's `PushJournal`), by parts. */
export const pushReceiptTableName: TableName = { schema: "enrich_sync", name: "push_receipts" }

/**
 * The push receipts' columns (version 6): the id of each push journal entry whose outcome the workspace
 * holds, written in the workspace transaction that applies it, so an entry is applied once.
 */
export const pushReceiptColumns: ReadonlyArray<Column> = columns({
  push_id: "UUID PRIMARY KEY",
  created_at: "TIMESTAMPTZ NOT NULL DEFAULT now()"
})

/** The seed's indexes on each workspace table. */
const seedIndexes = (entity: Entity): ReadonlyArray<string> => {
  const table = qualified(entity.workspaceTable)
  const prefix = entity.name === "company" ? "company" : "people"
  return [
    `CREATE INDEX IF NOT EXISTS idx_${prefix}_enrichment_status ON ${table}(enrichment_status)`,
    `CREATE INDEX IF NOT EXISTS idx_${prefix}_unique_id ON ${table}(${entity.key})`,
    `CREATE INDEX IF NOT EXISTS idx_${prefix}_sync_status ON ${table}(enrichment_status, pushed_to_neon_at)`
  ]
}

const trigger = (entity: Entity): string => {
  const name = `${entity.workspaceTable.name}_touch_updated_at`
  return `DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_trigger
                  WHERE tgname = '${name}' AND tgrelid = '${qualified(entity.workspaceTable)}'::regclass) THEN
    CREATE TRIGGER ${name} BEFORE UPDATE ON ${qualified(entity.workspaceTable)}
      FOR EACH ROW EXECUTE FUNCTION enrich_sync.touch_updated_at();
  END IF;
END
$$`
}

const realtimePublication = `DO $$
DECLARE t text;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = 'supabase_realtime') THEN
    CREATE PUBLICATION supabase_realtime;
  END IF;
  FOREACH t IN ARRAY ARRAY[${entities.map((e) => `'${qualified(e.workspaceTable)}'`).join(", ")}] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_publication_tables
                    WHERE pubname = 'supabase_realtime' AND format('%I.%I', schemaname, tablename) = t) THEN
      EXECUTE format('ALTER PUBLICATION supabase_realtime ADD TABLE %s', t);
    END IF;
  END LOOP;
END
$$`

const beforeUpdateFunction = (entity: Entity) => `enrich_sync.${entity.workspaceTable.name}_before_update`

/**
 * The trigger function of a workspace table (version 2): on every edit but the engine's own, stamps
 * `updated_at`, marks the row `sync_dirty`, and when the row was clean (no stored base, and its projection
 * hashes to `last_sync_hash`) keeps that projection as `sync_base`, the base the merge needs. A row whose
 * projection does not match its hash (the trigger was bypassed before) gets no base: the merge then treats
 * every difference as a conflict and logs the losing values.
 */
const beforeUpdateSql = (entity: Entity, recordJson: RecordJsonExpression): string => {
  const json = recordJson(entity, (f) => `OLD.${f.workspace}`)
  return `CREATE OR REPLACE FUNCTION ${beforeUpdateFunction(entity)}() RETURNS trigger
   LANGUAGE plpgsql AS $$
   DECLARE agreed text;
   BEGIN
     IF coalesce(current_setting('${applyingSetting}', true), '') <> 'on' THEN
       NEW.updated_at := now() AT TIME ZONE 'UTC';
       NEW.sync_dirty := true;
       IF OLD.sync_base IS NULL AND NEW.sync_base IS NULL AND OLD.last_sync_hash IS NOT NULL THEN
         agreed := ${json};
         IF md5(agreed) = OLD.last_sync_hash THEN
           NEW.sync_base := agreed::jsonb;
         END IF;
       END IF;
     END IF;
     RETURN NEW;
   END
   $$`
}

const replaceTrigger = (entity: Entity): ReadonlyArray<string> => {
  const name = `${entity.workspaceTable.name}_touch_updated_at`
  const table = qualified(entity.workspaceTable)
  return [
    `DROP TRIGGER IF EXISTS ${name} ON ${table}`,
    // the WHEN clause skips the engine's own writes without calling the function (once per row otherwise)
    `CREATE TRIGGER ${name} BEFORE UPDATE ON ${table} FOR EACH ROW
       WHEN (coalesce(current_setting('${applyingSetting}', true), '') <> 'on')
       EXECUTE FUNCTION ${beforeUpdateFunction(entity)}()`
  ]
}

/**
 * Drops the seed's `idx_<entity>_unique_id` when the key's UNIQUE constraint already has an index on exactly
 * that column: the two are the same b-tree, and the duplicate costs every insert and non-HOT update.
 */
const dropDuplicateKeyIndex = (entity: Entity): string => {
  const prefix = entity.name === "company" ? "company" : "people"
  const table = qualified(entity.workspaceTable)
  return `DO $$
BEGIN
  IF to_regclass('${entity.workspaceTable.schema}.idx_${prefix}_unique_id') IS NOT NULL AND EXISTS (
       SELECT 1 FROM pg_index i
        WHERE i.indrelid = '${table}'::regclass AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
          AND i.indkey::text = (SELECT a.attnum::text FROM pg_attribute a
                                 WHERE a.attrelid = '${table}'::regclass AND a.attname = '${entity.key}')
          AND i.indexrelid <> '${entity.workspaceTable.schema}.idx_${prefix}_unique_id'::regclass) THEN
    DROP INDEX ${entity.workspaceTable.schema}.idx_${prefix}_unique_id;
  END IF;
END
$$`
}

/**
 * Version 4's re-hash of the rows hashed by version 1's functions (which must still be installed), as the
 * engine's own write (no edit time, no dirty mark; a row the engine wrote last stays so, `sync_xid`):
 * - a stored base loses its members that are JSON `null` (version 1 wrote SQL NULL so, and told JSON null
 *   apart from it nowhere), and when it hashed to `last_sync_hash`, that becomes the hash of what is left;
 * - a row without one whose projection hashed to `last_sync_hash` gets the hash of its projection now.
 * Any other row (its base unknown) keeps its hash, which matches nothing, as before. Numbers version 1 had
 * already rounded stay as they are, but a row whose JSON holds a number version 1 wrote through a double
 * forgets the Neon version it last merged (`source_xmin`), so the next backfill merges it again and verify
 * compares it by content: the merge brings Neon's exact value.
 */
const rehashSql = (entity: Entity): ReadonlyArray<string> => {
  const table = qualified(entity.workspaceTable)
  // version 1's test for a number it rewrote through a double (a fraction, an exponent, 16 digits or more)
  const rounded =
    entity.fields
      .filter((f) => f.kind === "json")
      .map((f) => `coalesce(t.${f.workspace}::text ~ '(^|: |\\[|, )-?([0-9]{16}|[0-9]+[.eE])', false)`)
      .join(" OR ") || "false"
  const stillEngines = `sync_xid = CASE WHEN t.xmin::text::bigint = t.sync_xid THEN ${currentXidSql} ELSE t.sync_xid END,
        source_xmin = CASE WHEN ${rounded} THEN NULL ELSE t.source_xmin END`
  return [
    `UPDATE ${table} AS t SET
        sync_base = s.base,
        last_sync_hash = CASE WHEN s.agreed THEN md5(s.base::text) ELSE t.last_sync_hash END,
        ${stillEngines}
       FROM (SELECT b.${entity.key} AS key, enrich_sync.sync_hash(b.sync_base) = b.last_sync_hash AS agreed,
                    coalesce((SELECT jsonb_object_agg(m.key, m.value) FROM jsonb_each(b.sync_base) AS m
                               WHERE jsonb_typeof(m.value) <> 'null'), '{}'::jsonb) AS base
               FROM ${table} AS b WHERE jsonb_typeof(b.sync_base) = 'object') AS s
      WHERE t.${entity.key} = s.key`,
    `UPDATE ${table} AS t SET
        last_sync_hash = md5(${recordJsonExpression(entity, (f) => `t.${f.workspace}`)}),
        ${stillEngines}
      WHERE t.sync_base IS NULL AND t.last_sync_hash IS NOT NULL
        AND ${workspaceHashFunction(entity)}(t) = t.last_sync_hash
        AND (md5(${recordJsonExpression(entity, (f) => `t.${f.workspace}`)}) <> t.last_sync_hash OR ${rounded})`
  ]
}

/** The workspace side's migrations. */
export const workspaceMigrations: ReadonlyArray<Migration> = [
  {
    side: "workspace",
    version: 1,
    name: "workspace tables, sync columns, conflict log, trigger, RLS, realtime, projection hash",
    statements: [
      ...hashV1.canonicalFunctionsSql,
      `CREATE OR REPLACE FUNCTION enrich_sync.touch_updated_at() RETURNS trigger
   LANGUAGE plpgsql AS $$
   BEGIN
     IF coalesce(current_setting('${applyingSetting}', true), '') <> 'on' THEN
       NEW.updated_at := now() AT TIME ZONE 'UTC';
       NEW.sync_dirty := true;
     END IF;
     RETURN NEW;
   END
   $$`,
      ...entities.flatMap((e) => [
        createTableSql(e.workspaceTable, e.workspaceColumns),
        ...seedIndexes(e),
        ...addColumnsSql(e.workspaceTable, e.workspaceColumns),
        trigger(e),
        `CREATE INDEX IF NOT EXISTS idx_${e.name}_sync_dirty ON ${qualified(e.workspaceTable)} (${e.key}) WHERE sync_dirty`,
        `ALTER TABLE ${qualified(e.workspaceTable)} ENABLE ROW LEVEL SECURITY`,
        // room in each page, so the engine's frequent updates of unindexed columns (base, hash, lifecycle)
        // stay HOT updates that touch no index
        `ALTER TABLE ${qualified(e.workspaceTable)} SET (fillfactor = 85)`,
        hashV1.recordJsonSql(e),
        hashV1.workspaceHashSql(e)
      ]),
      `CREATE TABLE IF NOT EXISTS ${conflictTable} (
  id BIGSERIAL PRIMARY KEY,
  entity TEXT NOT NULL,
  record_key TEXT NOT NULL,
  field TEXT NOT NULL,
  reason TEXT NOT NULL,
  winner TEXT NOT NULL,
  base_value JSONB,
  source_value JSONB,
  source_edited_at TIMESTAMP,
  workspace_value JSONB,
  workspace_edited_at TIMESTAMP,
  detected_at TIMESTAMP NOT NULL DEFAULT now()
)`,
      `CREATE INDEX IF NOT EXISTS idx_sync_conflicts_record ON ${conflictTable} (entity, record_key)`,
      `ALTER TABLE ${conflictTable} ENABLE ROW LEVEL SECURITY`,
      `CREATE TABLE IF NOT EXISTS enrich_sync.replication_progress (
  slot TEXT PRIMARY KEY,
  applied_lsn PG_LSN NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
)`,
      realtimePublication
    ]
  },
  {
    side: "workspace",
    version: 2,
    name: "lazy sync base (stored by the trigger on a person's first edit), sync_xid, duplicate key indexes dropped",
    statements: [
      // the clean-up below is the engine's own write: the trigger must keep each row's edit time
      `SELECT set_config('${applyingSetting}', 'on', true)`,
      ...entities.flatMap((e) => [
        ...addColumnsSql(e.workspaceTable, e.workspaceColumns, 2),
        // set apart from ADD COLUMN, so existing rows stay NULL (not rewritten); every row inserted from now
        // on records its inserting transaction, whoever inserts it (the backfill's COPY included)
        `ALTER TABLE ${qualified(e.workspaceTable)} ALTER COLUMN sync_xid SET DEFAULT ${currentXidSql}`,
        beforeUpdateSql(e, hashV1.recordJsonExpression),
        ...replaceTrigger(e),
        dropDuplicateKeyIndex(e),
        // rows whose stored base is the row itself: the base is implied
        `UPDATE ${qualified(e.workspaceTable)} AS t SET sync_base = NULL
        WHERE t.sync_base IS NOT NULL AND t.last_sync_hash IS NOT NULL
          AND ${workspaceHashFunction(e)}(t) = t.last_sync_hash
          AND enrich_sync.sync_hash(t.sync_base) = t.last_sync_hash`
      ])
    ]
  },
  {
    side: "workspace",
    version: 3,
    name: "conflict review: sync_conflicts gains reviewed_at, reviewed_by, restored_at",
    statements: [
      ...addColumnsSql(conflictTableName, conflictColumns, 3),
      // `enrich-sync status` counts, and `conflicts --unreviewed` lists, the conflicts nobody reviewed yet
      `CREATE INDEX IF NOT EXISTS idx_sync_conflicts_unreviewed ON ${conflictTable} (entity, id) WHERE reviewed_at IS NULL`
    ]
  },
  {
    side: "workspace",
    version: 4,
    name: "JSON kept exactly: numbers as jsonb prints them, JSON null apart from SQL NULL; stored hashes and bases re-hashed",
    statements: [
      // the re-hash is the engine's own write: the trigger must keep each row's edit time and clean mark
      `SELECT set_config('${applyingSetting}', 'on', true)`,
      // while the functions of version 1 are still there to recognise the hashes they stored
      ...entities.flatMap(rehashSql),
      ...canonicalFunctionsSql,
      ...entities.flatMap((e) => [
        recordJsonSql(e),
        workspaceHashSql(e),
        beforeUpdateSql(e, recordJsonExpression)
      ])
    ]
  },
  {
    side: "workspace",
    version: 5,
    name: "webhook outbox: the events syncd delivers to ENRICH_SYNC_WEBHOOK_URL, kept until delivered",
    statements: [
      `CREATE TABLE IF NOT EXISTS enrich_sync.webhook_outbox (
  id BIGSERIAL PRIMARY KEY,
  event_id UUID NOT NULL UNIQUE DEFAULT gen_random_uuid(),
  type TEXT NOT NULL,
  payload JSONB NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  last_error TEXT,
  delivered_at TIMESTAMPTZ
)`,
      // the deliverer reads what is due and not yet delivered, oldest first
      `CREATE INDEX IF NOT EXISTS idx_webhook_outbox_due ON enrich_sync.webhook_outbox (next_attempt_at, id) WHERE delivered_at IS NULL`
    ]
  },
  {
    side: "workspace",
    version: 6,
    name: "push receipts: the push journal entries the workspace holds, so each is applied once",
    statements: [createTableSql(pushReceiptTableName, pushReceiptColumns)]
  }
]
