/**
 * Whether both sides agree, judged twice: by the test's own comparison (every synced column of every
 * record read from both databases, normalised as the projection does, compared here) and by the product's
 * `enrich-sync verify --json`; the conflict log as text; and waiting until both agree.
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { query } from "./DaemonProcess.ts"
import { type FinalRecord, type LoggedConflict, recordId } from "./EditLog.ts"
import { normalisedSql, type SyncedTable, syncedTables } from "./SyncedTables.ts"

const verifyBin = fileURLToPath(new URL("../../../cli/bin/enrich-sync.js", import.meta.url))

/** Both sides' records, by `entity key`. */
export interface BothSides {
  readonly records: ReadonlyMap<string, FinalRecord>
  /** the workspace rows' lifecycle (`active`, `removed`, `promoted`) and whether an edit waits to be merged */
  readonly workspaceRows: ReadonlyMap<string, { readonly state: string; readonly dirty: boolean }>
}

const readSide = async (url: string, table: SyncedTable, side: "neon" | "workspace") => {
  const columns = table.columns
    .map((c) => `${normalisedSql(c.kind, side === "neon" ? c.neon : c.workspace)} AS "${c.field}"`)
    .join(", ")
  const lifecycle = side === "workspace" ? ", sync_state AS __state, sync_dirty AS __dirty" : ""
  return query(
    url,
    `SELECT ${table.key} AS __key${lifecycle}, ${columns} FROM ${side === "neon" ? table.neonTable : table.workspaceTable}`
  )
}

/** Reads every synced record of both sides. */
export const readBothSides = async (neonUrl: string, workspaceUrl: string): Promise<BothSides> => {
  const records = new Map<
    string,
    { neon: Record<string, string | null> | null; workspace: Record<string, string | null> | null }
  >()
  const workspaceRows = new Map<string, { state: string; dirty: boolean }>()
  const fields = (table: SyncedTable, row: Record<string, unknown>) =>
    Object.fromEntries(
      table.columns.map((c) => [c.field, row[c.field] === null ? null : String(row[c.field])])
    )
  for (const table of syncedTables) {
    const [neon, workspace] = await Promise.all([
      readSide(neonUrl, table, "neon"),
      readSide(workspaceUrl, table, "workspace")
    ])
    for (const row of neon)
      records.set(recordId(table.entity, String(row.__key)), { neon: fields(table, row), workspace: null })
    for (const row of workspace) {
      const id = recordId(table.entity, String(row.__key))
      const record = records.get(id) ?? { neon: null, workspace: null }
      records.set(id, { ...record, workspace: fields(table, row) })
      workspaceRows.set(id, { state: String(row.__state), dirty: row.__dirty === true })
    }
  }
  return { records, workspaceRows }
}

/** What keeps both sides from agreeing (empty when they do): the test's own comparison. */
export const differences = (sides: BothSides): Array<string> => {
  const found: Array<string> = []
  for (const [id, record] of sides.records) {
    const ws = sides.workspaceRows.get(id)
    if (record.neon === null) {
      if (ws?.state === "active") found.push(`${id}: active in the workspace, gone from Neon`)
      continue
    }
    if (record.workspace === null || ws === undefined) {
      found.push(`${id}: on Neon, missing in the workspace`)
      continue
    }
    if (ws.state !== "active") found.push(`${id}: on Neon, ${ws.state} in the workspace`)
    if (ws.dirty) found.push(`${id}: a workspace edit not merged yet (sync_dirty)`)
    for (const [field, value] of Object.entries(record.neon)) {
      if (record.workspace[field] !== value)
        found.push(
          `${id} ${field}: Neon ${JSON.stringify(value)}, workspace ${JSON.stringify(record.workspace[field])}`
        )
    }
  }
  return found
}

/** Every row of `sync_conflicts`, values as text (a JSON string's text, a number's digits). */
export const readConflicts = async (workspaceUrl: string): Promise<Array<LoggedConflict>> => {
  const text = (v: unknown) => (v === null ? null : String(v).replace(/^(\d{4}-\d\d-\d\dT[\d:.]+)Z$/, "$1"))
  return (
    await query(
      workspaceUrl,
      `SELECT entity, record_key, field, reason, winner, source_value #>> '{}' AS source_value,
              workspace_value #>> '{}' AS workspace_value,
              format('base %s, Neon edited at %s, workspace edited at %s, logged at %s', base_value,
                     source_edited_at, workspace_edited_at, detected_at) AS details
         FROM sync_conflicts ORDER BY id`
    )
  ).map((r) => ({
    entity: String(r.entity),
    key: String(r.record_key),
    field: String(r.field),
    reason: String(r.reason),
    winner: String(r.winner),
    sourceValue: text(r.source_value),
    workspaceValue: text(r.workspace_value),
    details: String(r.details)
  }))
}

/** What `enrich-sync verify --json` says about both sides. */
export interface VerifyResult {
  readonly inSync: boolean
  /** its output, for messages */
  readonly output: string
}

/** Runs `enrich-sync verify --json` (the bin a user runs) against both databases. */
export const runVerify = (neonUrl: string, workspaceUrl: string): Promise<VerifyResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [verifyBin, "verify", "--json"], {
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        NEON_DATABASE_URL: neonUrl,
        SUPABASE_DATABASE_URL: workspaceUrl
      },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")))
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")))
    child.on("error", reject)
    child.on("close", (code) => {
      try {
        const json = JSON.parse(stdout) as { ok?: boolean; inSync?: boolean }
        if (json.ok !== true) throw new Error("not ok")
        resolve({ inSync: json.inSync === true, output: stdout })
      } catch {
        reject(new Error(`enrich-sync verify --json exited ${code}:\n${stdout}\n${stderr}`))
      }
    })
  })

/**
 * Waits until both sides agree by the test's comparison and by `verify`; returns what they hold. Fails
 * after `timeoutMs` with what still differs.
 */
export const awaitConvergence = async (
  neonUrl: string,
  workspaceUrl: string,
  timeoutMs: number,
  /** `verify: false`: the test's own comparison only (a start's first copy) */
  options: { readonly verify?: boolean } = {}
): Promise<BothSides> => {
  const deadline = Date.now() + timeoutMs
  let last: Array<string> = []
  let verified = ""
  for (;;) {
    const sides = await readBothSides(neonUrl, workspaceUrl)
    last = differences(sides)
    if (last.length === 0 && options.verify === false) return sides
    if (last.length === 0) {
      const verify = await runVerify(neonUrl, workspaceUrl)
      if (verify.inSync) return sides
      verified = verify.output
    }
    if (Date.now() > deadline) {
      throw new Error(
        `both sides did not converge within ${timeoutMs / 1000} s: ${last.length} difference(s)${last.length === 0 ? ", but verify says they are not in sync" : ""}:\n${last.slice(0, 30).join("\n")}\n${verified}`
      )
    }
    await new Promise((r) => setTimeout(r, 300))
  }
}
