/**
 * The Supabase (workspace) side: the seed's workspace tables with their indexes when absent, the sync
 * columns this project adds, the conflict log, the trigger that stamps `updated_at` and marks the row
 * `sync_dirty` on every edit but the engine's own, row level security on (no policy: the anon role sees nothing), the tables in the
 * `supabase_realtime` publication, the projection hash functions, and the daemon's progress table.
 */
import { Company } from "../Company.ts"
import type { Entity } from "../Entity.ts"
import { qualified } from "../Entity.ts"
import type { Migration } from "../Migration.ts"
import { Person } from "../Person.ts"
import { canonicalFunctionsSql, recordJsonSql, workspaceHashSql } from "./SyncHashSql.ts"

/** The transaction-local setting the engine sets so the `updated_at` trigger keeps the edit time it writes. */
export const applyingSetting = "enrich_sync.applying"

/** The conflict log table. */
export const conflictTable = "public.sync_conflicts"

const entities: ReadonlyArray<Entity> = [Company, Person]

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

const createTable = (entity: Entity): string =>
  `CREATE TABLE IF NOT EXISTS ${qualified(entity.workspaceTable)} (\n  ${entity.workspaceColumns
    .filter((c) => c.added !== true)
    .map((c) => `${c.name} ${c.definition}`)
    .join(",\n  ")}\n)`

const addColumns = (entity: Entity): ReadonlyArray<string> =>
  entity.workspaceColumns
    .filter((c) => c.added === true)
    .map(
      (c) =>
        `ALTER TABLE ${qualified(entity.workspaceTable)} ADD COLUMN IF NOT EXISTS ${c.name} ${c.definition}`
    )

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

/** The workspace side's migrations. */
export const workspaceMigrations: ReadonlyArray<Migration> = [
  {
    side: "workspace",
    version: 1,
    name: "workspace tables, sync columns, conflict log, trigger, RLS, realtime, projection hash",
    statements: [
      ...canonicalFunctionsSql,
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
        createTable(e),
        ...seedIndexes(e),
        ...addColumns(e),
        trigger(e),
        `CREATE INDEX IF NOT EXISTS idx_${e.name}_sync_dirty ON ${qualified(e.workspaceTable)} (${e.key}) WHERE sync_dirty`,
        `ALTER TABLE ${qualified(e.workspaceTable)} ENABLE ROW LEVEL SECURITY`,
        // room in each page, so the engine's frequent updates of unindexed columns (base, hash, lifecycle)
        // stay HOT updates that touch no index
        `ALTER TABLE ${qualified(e.workspaceTable)} SET (fillfactor = 85)`,
        recordJsonSql(e),
        workspaceHashSql(e)
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
  }
]
