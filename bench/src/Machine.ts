/**
 * The machine a run measured: CPUs, memory, load, Node, and both PostgreSQL servers (version and the
 * settings that move the figures), so a figure is never read without its context.
 */
import { readFileSync } from "node:fs"
import { cpus, freemem, loadavg, release, totalmem } from "node:os"
import { withConnection } from "./Sql.ts"

/** One server's version and settings. */
export interface ServerDescription {
  readonly version: string
  readonly kind: string
  readonly settings: Readonly<Record<string, string>>
}

const settingNames = [
  "shared_buffers",
  "work_mem",
  "maintenance_work_mem",
  "max_wal_size",
  "fsync",
  "synchronous_commit",
  "full_page_writes",
  "wal_level"
]

/** Version and settings of the server behind `url`. */
export const describeServer = (url: string, kind: string): Promise<ServerDescription> =>
  withConnection(url, async (sql) => {
    const [version] = await sql.query<{ version: string }>("SELECT version()")
    const rows = await sql.query<{ name: string; setting: string }>(
      "SELECT name, current_setting(name) AS setting FROM pg_settings WHERE name = ANY($1::text[])",
      [settingNames]
    )
    return {
      version: version?.version ?? "unknown",
      kind,
      settings: Object.fromEntries(rows.map((r) => [r.name, r.setting]))
    }
  })

const osName = () => {
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync("/etc/os-release", "utf8"))?.[1] ?? release()
  } catch {
    return release()
  }
}

/** The load averages (1, 5, 15 minutes), rounded. */
export const load = () => loadavg().map((l) => Math.round(l * 100) / 100)

/** This machine. */
export const describeMachine = () => {
  const list = cpus()
  return {
    cpus: list.length,
    cpuModel: list[0]?.model ?? "unknown",
    memoryGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    freeMemoryGb: Math.round((freemem() / 1024 ** 3) * 10) / 10,
    os: osName(),
    kernel: release(),
    node: process.version,
    loadAverageAtStart: load()
  }
}
