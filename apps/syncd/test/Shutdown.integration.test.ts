/**
 * Stopping the daemon: SIGTERM finishes and acknowledges the batch in flight, logs what it drained, and
 * leaves the slot confirmed exactly where the daemon recorded its applied position (nothing applied is
 * delivered again, nothing unapplied is acknowledged); a second signal stops it at once.
 */
import { assert, describe, it } from "@effect/vitest"
import { demoCompanyKey } from "@enrich-sync/testing"
import pg from "pg"
import { eventually, query, startDaemon } from "./support/DaemonProcess.ts"
import { databasesOfSuite } from "./support/Databases.ts"

describe("stopping syncd", () => {
  const dbs = databasesOfSuite({ seed: {} })

  const env = (slot: string) => ({
    NEON_DATABASE_URL: dbs.neonUrl,
    SUPABASE_DATABASE_URL: dbs.workspaceUrl,
    ENRICH_SYNC_SLOT: slot,
    ENRICH_SYNC_WORKSPACE_POLL_MS: "100",
    ENRICH_SYNC_ANTI_ENTROPY_MINUTES: "0",
    ENRICH_SYNC_LOG_FORMAT: "json"
  })

  /** Single-row updates on Neon, as fast as one connection goes, until `stop()`; the last value per key. */
  const writer = async () => {
    const client = new pg.Client({ connectionString: dbs.neonUrl })
    client.on("error", () => undefined)
    await client.connect()
    const written = new Map<string, string>()
    let running = true
    const done = (async () => {
      for (let i = 0; running; i++) {
        const key = demoCompanyKey(i % 119)
        const value = `${i} Shutdown Rd`
        await client.query("UPDATE marketing.company_invalid SET address = $2 WHERE company_unique_id = $1", [
          key,
          value
        ])
        written.set(key, value)
      }
      await client.end()
    })()
    return {
      stop: async () => {
        running = false
        await done
        return written
      }
    }
  }

  it("SIGTERM finishes the batch in flight, acknowledges it, and logs what it drained", async () => {
    const slot = "t_stop_graceful"
    const daemon = startDaemon(env(slot))
    await daemon.waitFor(/syncd live/, 60_000)
    const load = await writer()
    await new Promise((r) => setTimeout(r, 1500))
    const code = await daemon.stop()
    const written = await load.stop()
    assert.strictEqual(code, 0, daemon.output())
    const drained = daemon
      .output()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { msg: string; lsn?: string })
      .find((l) => l.msg.startsWith("stopping: finished"))
    assert.isDefined(drained, daemon.output())
    assert.match(
      drained!.msg,
      /stopping: finished \d+ batch\(es\) in flight; acknowledged through [0-9A-F]+\/[0-9A-F]+/
    )
    // the server heard the last acknowledgement: the slot is confirmed where the daemon recorded its progress
    const [progress] = await query(
      dbs.workspaceUrl,
      "SELECT applied_lsn::text AS lsn FROM enrich_sync.replication_progress WHERE slot = $1",
      [slot]
    )
    const [confirmed] = await query(
      dbs.neonUrl,
      "SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1",
      [slot]
    )
    assert.strictEqual(confirmed?.lsn, progress?.lsn)
    // and what was committed after the stop comes with the next start
    const again = startDaemon(env(slot))
    try {
      await again.waitFor(/syncd live/, 60_000)
      await eventually(
        "every value written reached the workspace",
        async () => {
          const rows = await query(
            dbs.workspaceUrl,
            "SELECT company_unique_id AS k, address FROM company_needs_enrichment WHERE company_unique_id = ANY($1)",
            [[...written.keys()]]
          )
          return rows.every((r) => written.get(String(r.k)) === r.address)
        },
        30_000
      )
    } finally {
      await again.stop()
    }
  }, 120_000)

  it("a second signal stops it at once", async () => {
    const daemon = startDaemon(env("t_stop_twice"))
    await daemon.waitFor(/syncd live/, 60_000)
    daemon.process.kill("SIGTERM")
    daemon.process.kill("SIGINT")
    const code = await daemon.exited
    assert.strictEqual(code, 1)
    assert.include(daemon.output(), "again: stopping at once")
  }, 90_000)
})
