/**
 * The daemon through faults of the Neon side (on a server of the test's own): a server restart and the
 * walsender terminated in the middle of a stream lose nothing and duplicate nothing.
 */

import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { parseLsn } from "@enrich-sync/core"
import type { PostgresServer } from "@enrich-sync/testing"
import { demoCompanyKey, startPostgresServer } from "@enrich-sync/testing"
import pg from "pg"
import { type DaemonProcess, eventually, query, startDaemon } from "./support/DaemonProcess.ts"
import { type Databases, freshDatabases } from "./support/Databases.ts"

describe("syncd through Neon faults", () => {
  let server: PostgresServer
  let dbs: Databases
  let daemon: DaemonProcess

  beforeAll(async () => {
    server = await startPostgresServer({ name: "neon-faults" })
    dbs = await freshDatabases({ seed: {}, neonServer: server })
    daemon = startDaemon({
      NEON_DATABASE_URL: dbs.neonUrl,
      SUPABASE_DATABASE_URL: dbs.workspaceUrl,
      ENRICH_SYNC_SLOT: "faults",
      ENRICH_SYNC_WORKSPACE_POLL_MS: "100",
      ENRICH_SYNC_ANTI_ENTROPY_MINUTES: "0",
      ENRICH_SYNC_HEARTBEAT_SECONDS: "1"
    })
    await daemon.waitFor(/syncd live/, 60_000)
  }, 90_000)

  afterAll(async () => {
    if (process.env.SYNCD_TEST_DEBUG === "1") console.error(daemon?.output())
    await daemon?.stop()
    await dbs?.drop().catch(() => undefined)
    await server?.stop()
  })

  /**
   * Writes `count` single-row transactions on one connection, reconnecting and repeating the write when
   * the server goes away meanwhile; returns the last value written per key.
   */
  const write = async (from: number, count: number) => {
    const expected = new Map<string, string>()
    let client: pg.Client | null = null
    for (let i = from; i < from + count; i++) {
      const key = demoCompanyKey(i % 119)
      const value = `${i} Fault Ave`
      for (;;) {
        try {
          if (client === null) {
            client = new pg.Client({ connectionString: dbs.neonUrl })
            client.on("error", () => undefined)
            await client.connect()
          }
          await client.query(
            `UPDATE marketing.company_invalid SET address = $2 WHERE company_unique_id = $1`,
            [key, value]
          )
          expected.set(key, value)
          break
        } catch {
          await client?.end().catch(() => undefined)
          client = null
          await new Promise((r) => setTimeout(r, 50))
        }
      }
    }
    await client?.end()
    return expected
  }

  const converged = (expected: Map<string, string>) =>
    eventually(
      "the workspace holds the last Neon value of every key",
      async () => {
        const rows = await query(
          dbs.workspaceUrl,
          `SELECT company_unique_id AS k, address FROM company_needs_enrichment WHERE company_unique_id = ANY($1)`,
          [[...expected.keys()]]
        )
        const ok = rows.length === expected.size && rows.every((r) => expected.get(String(r.k)) === r.address)
        return ok
      },
      60_000
    )

  it("survives a Neon restart in the middle of a stream", async () => {
    const writing = write(0, 300)
    await new Promise((r) => setTimeout(r, 200))
    await server.restart("fast")
    const expected = await writing
    await converged(expected)
    const [conflicts] = await query(dbs.workspaceUrl, `SELECT count(*)::int AS n FROM sync_conflicts`)
    assert.strictEqual(conflicts?.n, 0)
  }, 120_000)

  it("survives its walsender being terminated mid-stream, and the slot confirms everything again", async () => {
    const writing = write(1000, 300)
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 150))
      await query(
        dbs.neonUrl,
        `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = 'faults' AND active_pid IS NOT NULL`
      )
    }
    const expected = await writing
    await converged(expected)
    const [position] = await query(dbs.neonUrl, `SELECT pg_current_wal_lsn()::text AS lsn`)
    await eventually(
      "the slot confirms past the last write",
      async () => {
        const [slot] = await query(
          dbs.neonUrl,
          `SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = 'faults'`
        )
        return slot !== undefined && parseLsn(String(slot.lsn)) >= parseLsn(String(position?.lsn))
      },
      30_000
    )
    const [conflicts] = await query(dbs.workspaceUrl, `SELECT count(*)::int AS n FROM sync_conflicts`)
    assert.strictEqual(conflicts?.n, 0)
  }, 120_000)
})
