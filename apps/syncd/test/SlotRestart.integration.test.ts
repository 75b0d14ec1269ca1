/**
 * A Neon branch restore drops the slot and can put the restored branch's positions below the one syncd
 * recorded as applied for the old slot. The recorded position then means nothing: when syncd creates the
 * slot anew it starts its progress over at the new slot, so the first changes after the restore are
 * applied, not skipped as "already applied".
 */
import { assert, describe, it } from "@effect/vitest"
import { demoCompanyKey } from "@enrich-sync/testing"
import { eventually, query, startDaemon, workspaceCompanyHas } from "./support/DaemonProcess.ts"
import { databasesOfSuite } from "./support/Databases.ts"

describe("a slot created anew", () => {
  const dbs = databasesOfSuite({ seed: {} })

  it("starts the recorded progress over, so changes after a branch restore are not skipped", async () => {
    const slot = "t_slot_restart"
    // what the old slot's history left: a position far beyond anything this server has written
    await query(
      dbs.workspaceUrl,
      "INSERT INTO enrich_sync.replication_progress (slot, applied_lsn) VALUES ($1, 'FF/0'::pg_lsn)",
      [slot]
    )
    const daemon = startDaemon({
      NEON_DATABASE_URL: dbs.neonUrl,
      SUPABASE_DATABASE_URL: dbs.workspaceUrl,
      ENRICH_SYNC_SLOT: slot,
      ENRICH_SYNC_ANTI_ENTROPY_MINUTES: "0"
    })
    try {
      await daemon.waitFor(/syncd live/, 60_000)
      const key = demoCompanyKey(7)
      await query(
        dbs.neonUrl,
        "UPDATE marketing.company_invalid SET city = 'After Restore' WHERE company_unique_id = $1",
        [key]
      )
      await eventually(
        "the change after the new slot reached the workspace",
        workspaceCompanyHas(dbs.workspaceUrl, key, { city: "After Restore" })
      )
      const [progress] = await query(
        dbs.workspaceUrl,
        "SELECT applied_lsn < 'FF/0'::pg_lsn AS restarted FROM enrich_sync.replication_progress WHERE slot = $1",
        [slot]
      )
      assert.isTrue(progress?.restarted)
    } finally {
      await daemon.stop()
    }
  }, 90_000)
})
