/**
 * How the daemon starts, or refuses to: every configuration problem at once, a database without the
 * project's tables, a Neon without logical replication, and the embedded default.
 */

import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { eventually, query, startDaemon } from "./support/DaemonProcess.ts"
import { freshDatabases, withReplicaLevelNeon } from "./support/Databases.ts"

// a plainly fake password, built at run time
const fakePassword = ["FAKE", "startup", "pw"].join("-")

describe("syncd start-up", () => {
  it("lists every configuration problem at once, and exits", async () => {
    const daemon = startDaemon({
      NEON_DATABASE_URL: `http://user:${fakePassword}@db.example.com/neondb`,
      ENRICH_SYNC_BATCH_SIZE: "lots",
      ENRICH_SYNC_PUSH_ON: "complete,done",
      ENRICH_SYNC_SLOT: "Bad-Slot"
    })
    assert.strictEqual(await daemon.exited, 1)
    const output = daemon.output()
    for (const problem of [
      "NEON_DATABASE_URL has the scheme",
      "SUPABASE_DATABASE_URL is not set",
      "ENRICH_SYNC_BATCH_SIZE must be a whole number",
      "ENRICH_SYNC_PUSH_ON must list statuses",
      "ENRICH_SYNC_SLOT must be a lower-case name"
    ]) {
      assert.include(output, problem)
    }
    assert.include(output, "5 problem(s)")
    assert.notInclude(output, fakePassword)
  })

  it("refuses databases without the project's tables, saying to migrate", async () => {
    const dbs = await freshDatabases({ migrate: false })
    try {
      const daemon = startDaemon({
        NEON_DATABASE_URL: dbs.neonUrl,
        SUPABASE_DATABASE_URL: dbs.workspaceUrl,
        ENRICH_SYNC_SLOT: "startup_schema"
      })
      assert.strictEqual(await daemon.exited, 1)
      assert.include(daemon.output(), "table marketing.company_invalid is missing")
      assert.include(daemon.output(), "run `enrich-sync migrate`")
    } finally {
      await dbs.drop()
    }
  })

  it("refuses a Neon without logical replication, saying how to turn it on", async () => {
    await withReplicaLevelNeon("replica-level", async (dbs) => {
      const daemon = startDaemon({
        NEON_DATABASE_URL: dbs.neonUrl,
        SUPABASE_DATABASE_URL: dbs.workspaceUrl,
        ENRICH_SYNC_SLOT: "startup_wal"
      })
      assert.strictEqual(await daemon.exited, 1)
      assert.match(daemon.output(), /wal_level/)
      assert.match(daemon.output(), /Logical Replication/i)
    })
  }, 60_000)

  it("runs on the embedded default when no database URL is set", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "enrich-sync-embedded-"))
    // the servers run as the postgres user (the tests may run as root), which must be able to enter it
    chmodSync(dataDir, 0o755)
    try {
      // the poll an hour away: the demo's workspace edits can only come through its Realtime stand-in
      const daemon = startDaemon({ ENRICH_SYNC_DATA_DIR: dataDir, ENRICH_SYNC_WORKSPACE_POLL_MS: "3600000" })
      try {
        const live = await daemon.waitFor(/syncd live/, 90_000)
        assert.match(live, /workspace followed through Realtime at http:\/\/127\.0\.0\.1:\d+\//)
        await daemon.waitFor(/Realtime subscribed: catching up the workspace/)
        const envFile = join(dataDir, "embedded.env")
        assert.strictEqual(statSync(envFile).mode & 0o777, 0o600)
        const urls = Object.fromEntries(
          readFileSync(envFile, "utf8")
            .trim()
            .split("\n")
            .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)])
        ) as Record<string, string>
        const [rows] = await query(
          urls.SUPABASE_DATABASE_URL!,
          `SELECT count(*)::int AS n FROM company_needs_enrichment`
        )
        assert.strictEqual(rows?.n, 119)
        // and it syncs: a complete workspace edit reaches the embedded Neon, on its Realtime event
        await query(
          urls.SUPABASE_DATABASE_URL!,
          `UPDATE company_needs_enrichment SET website = 'https://monongaliacounty.com', enrichment_status = 'complete' WHERE company_unique_id = '04.04.01.01.00101.101'`
        )
        await eventually("the edit reached the embedded Neon", async () => {
          const [row] = await query(
            urls.NEON_DATABASE_URL!,
            `SELECT website FROM marketing.company_invalid WHERE company_unique_id = '04.04.01.01.00101.101'`
          )
          return row?.website === "https://monongaliacounty.com"
        })
        for (const url of Object.values(urls))
          assert.notInclude(daemon.output(), decodeURIComponent(new URL(url).password))
      } finally {
        await daemon.stop()
      }
      // a second start reuses the data: nothing is seeded again
      const again = startDaemon({ ENRICH_SYNC_DATA_DIR: dataDir })
      try {
        await again.waitFor(/syncd live/, 90_000)
        assert.notInclude(again.output(), "seeded")
      } finally {
        await again.stop()
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
  }, 180_000)
})
