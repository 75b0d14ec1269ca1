/**
 * The randomized tests' own record of every row written on both sides, kept by the databases themselves
 * (schema `chaos`, which no publication includes): an AFTER trigger on each synced table logs every
 * INSERT, UPDATE and DELETE with the key, the enrichment status before and after, and who wrote it (the
 * engine, or a test writer by its `application_name`). The writers also mark each transaction they commit
 * in `chaos.committed`, so a write whose COMMIT was cut off by a fault is known to have committed or not.
 *
 * From it: how many writes the engine made (bounded per edit, and none once the edits stop), whether an
 * enrichment status ever moved backwards on either side, and, when a value is lost, the history of its
 * record on both sides.
 */
import { query } from "./DaemonProcess.ts"
import { type SyncedTable, syncedTables } from "./SyncedTables.ts"

/** The `application_name` prefix of the test's writers; any other writer of the synced tables is the engine. */
export const writerApplication = "chaos writer"

const installSql = (tables: ReadonlyArray<SyncedTable>, side: "neon" | "workspace") => {
  // in the workspace the engine says so itself (SET LOCAL enrich_sync.applying = on); on Neon it is
  // whoever is not a test writer
  const actor =
    side === "workspace"
      ? `CASE WHEN coalesce(current_setting('enrich_sync.applying', true), '') = 'on' THEN 'engine'
              WHEN current_setting('application_name') LIKE '${writerApplication}%' THEN 'writer' ELSE 'other' END`
      : `CASE WHEN current_setting('application_name') LIKE '${writerApplication}%' THEN 'writer' ELSE 'engine' END`
  return `
CREATE SCHEMA IF NOT EXISTS chaos;
CREATE TABLE IF NOT EXISTS chaos.audit (
  id BIGSERIAL PRIMARY KEY,
  tbl TEXT NOT NULL,
  key TEXT NOT NULL,
  op TEXT NOT NULL,
  old_status TEXT,
  new_status TEXT,
  actor TEXT NOT NULL,
  -- the row as written (as it was, for a DELETE): the history a failure message shows
  row_data JSONB,
  xid BIGINT NOT NULL DEFAULT txid_current(),
  at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE IF NOT EXISTS chaos.committed (write_id TEXT PRIMARY KEY);
CREATE OR REPLACE FUNCTION chaos.audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO chaos.audit (tbl, key, op, old_status, new_status, actor, row_data)
  VALUES (TG_TABLE_NAME,
          CASE WHEN TG_OP = 'DELETE' THEN to_jsonb(OLD) ->> TG_ARGV[0] ELSE to_jsonb(NEW) ->> TG_ARGV[0] END,
          TG_OP,
          CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE to_jsonb(OLD) ->> 'enrichment_status' END,
          CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE to_jsonb(NEW) ->> 'enrichment_status' END,
          ${actor},
          CASE WHEN TG_OP = 'DELETE' THEN to_jsonb(OLD) ELSE to_jsonb(NEW) END);
  RETURN NULL;
END
$$;
${tables
  .map((t) => {
    const table = side === "neon" ? t.neonTable : t.workspaceTable
    return `DROP TRIGGER IF EXISTS chaos_audit ON ${table};
CREATE TRIGGER chaos_audit AFTER INSERT OR UPDATE OR DELETE ON ${table}
  FOR EACH ROW EXECUTE FUNCTION chaos.audit_row('${t.key}');`
  })
  .join("\n")}`
}

/** Installs the audit on both sides (before the daemon first starts, so its first writes are seen too). */
export const installWriteAudit = async (neonUrl: string, workspaceUrl: string) => {
  await query(neonUrl, installSql(syncedTables, "neon"))
  await query(workspaceUrl, installSql(syncedTables, "workspace"))
}

/** Forgets what was audited so far (the initial copy, before the writers start). */
export const clearWriteAudit = async (neonUrl: string, workspaceUrl: string) => {
  await query(neonUrl, "TRUNCATE chaos.audit")
  await query(workspaceUrl, "TRUNCATE chaos.audit")
}

/** One audited write. */
export interface AuditedWrite {
  readonly side: "neon" | "workspace"
  readonly tbl: string
  readonly key: string
  readonly op: "INSERT" | "UPDATE" | "DELETE"
  readonly oldStatus: string | null
  readonly newStatus: string | null
  readonly actor: "engine" | "writer" | "other"
  readonly id: number
}

/** Every audited write of both sides, in order per side. */
export const readWriteAudit = async (neonUrl: string, workspaceUrl: string): Promise<Array<AuditedWrite>> => {
  const read = async (url: string, side: AuditedWrite["side"]) =>
    (
      await query(
        url,
        `SELECT id::int AS id, tbl, key, op, old_status, new_status, actor FROM chaos.audit ORDER BY id`
      )
    ).map(
      (r): AuditedWrite => ({
        side,
        tbl: String(r.tbl),
        key: String(r.key),
        op: r.op as AuditedWrite["op"],
        oldStatus: r.old_status === null ? null : String(r.old_status),
        newStatus: r.new_status === null ? null : String(r.new_status),
        actor: r.actor as AuditedWrite["actor"],
        id: Number(r.id)
      })
    )
  return [...(await read(neonUrl, "neon")), ...(await read(workspaceUrl, "workspace"))]
}

/** How many rows the engine wrote on each side so far. */
export const engineWriteCount = async (neonUrl: string, workspaceUrl: string): Promise<number> => {
  const count = async (url: string) =>
    Number((await query(url, `SELECT count(*)::int AS n FROM chaos.audit WHERE actor = 'engine'`))[0]?.n ?? 0)
  return (await count(neonUrl)) + (await count(workspaceUrl))
}

/** The lifecycle's order; a NULL status (Neon's) is `pending`. */
const statusRank: Readonly<Record<string, number>> = { pending: 0, in_progress: 1, complete: 2 }

const rankOf = (status: string | null): number | undefined =>
  statusRank[(status ?? "pending").trim() || "pending"]

/** Every UPDATE that moved an enrichment status backwards (or to a status outside the lifecycle). */
export const statusRegressions = (writes: ReadonlyArray<AuditedWrite>): Array<string> =>
  writes
    .filter((w) => w.op === "UPDATE")
    .filter((w) => {
      const from = rankOf(w.oldStatus)
      const to = rankOf(w.newStatus)
      return from === undefined || to === undefined || to < from
    })
    .map(
      (w) =>
        `${w.side} ${w.tbl} ${w.key}: ${w.oldStatus ?? "NULL"} -> ${w.newStatus ?? "NULL"} by the ${w.actor}`
    )

/** The history of one field of one record on both sides, one line per write, in time order (for messages). */
export const fieldHistory = async (
  neonUrl: string,
  workspaceUrl: string,
  table: SyncedTable,
  key: string,
  field: string
): Promise<Array<string>> => {
  const read = async (url: string, side: string, tbl: string, extra: string) =>
    (
      await query(
        url,
        `SELECT at, to_char(at, 'HH24:MI:SS.US') AS t, xid::text AS xid, op, actor,
                row_data ->> $3 AS value${extra}
           FROM chaos.audit WHERE tbl = $1 AND key = $2`,
        [tbl, key, field]
      )
    ).map((r) => ({
      at: new Date(String(r.at)).getTime(),
      line: `${r.t} ${side} ${r.op} by ${r.actor} (xid ${r.xid}): ${field} ${JSON.stringify(r.value)}${r.detail === undefined ? "" : ` ${r.detail}`}`
    }))
  const neon = await read(
    neonUrl,
    "neon",
    table.neonTable.split(".")[1]!,
    ", format('updated_at %s', row_data ->> 'updated_at') AS detail"
  )
  const workspace = await read(
    workspaceUrl,
    "workspace",
    table.workspaceTable.split(".")[1]!,
    `, format('base %s, hash %s, dirty %s, status %s, updated_at %s',
              CASE WHEN coalesce(row_data -> 'sync_base', 'null') = 'null' THEN '(the row)'
                   ELSE coalesce(row_data -> 'sync_base' ->> $3, 'null') END,
              row_data ->> 'last_sync_hash', row_data ->> 'sync_dirty', row_data ->> 'enrichment_status',
              row_data ->> 'updated_at') AS detail`
  )
  return [...neon, ...workspace].sort((a, b) => a.at - b.at).map((r) => r.line)
}
