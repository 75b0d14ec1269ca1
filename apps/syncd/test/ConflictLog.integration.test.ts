/**
 * The conflict log holds real conflicts only: a value that one side edited and the other side's edit
 * overwrote. A workspace edit that replaces the workspace's own value, already pushed to Neon, is not a
 * conflict, however the push and the edit interleave.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { demoCompanyKey, type RealtimeStandIn, startRealtimeStandIn } from "@enrich-sync/testing"
import pg from "pg"
import { type DaemonProcess, eventually, query, startDaemon } from "./support/DaemonProcess.ts"
import { type Databases, freshDatabases } from "./support/Databases.ts"

// a plainly fake key, built at run time
const serviceKey = `sb_secret_${"FAKE".repeat(5)}`

describe("syncd's conflict log", () => {
  let dbs: Databases
  let standIn: RealtimeStandIn
  let daemon: DaemonProcess

  beforeAll(async () => {
    dbs = await freshDatabases({ seed: {} })
    standIn = await startRealtimeStandIn({ databaseUrl: dbs.workspaceUrl, idlePollIntervalMs: 20 })
    daemon = startDaemon({
      NEON_DATABASE_URL: dbs.neonUrl,
      SUPABASE_DATABASE_URL: dbs.workspaceUrl,
      SUPABASE_URL: standIn.url,
      SUPABASE_SERVICE_ROLE_KEY: serviceKey,
      ENRICH_SYNC_SLOT: `t_conflicts_${Math.random().toString(36).slice(2, 8)}`,
      // only Realtime and its catch-ups bring workspace edits: the test decides when the daemon sees one
      ENRICH_SYNC_WORKSPACE_POLL_MS: "3600000",
      ENRICH_SYNC_ANTI_ENTROPY_MINUTES: "0"
    })
    await daemon.waitFor(/Realtime subscribed: catching up the workspace/, 60_000)
  }, 90_000)

  afterAll(async () => {
    await daemon?.stop()
    await standIn?.close()
    await dbs?.drop()
  })

  /*
   * Skipped: a daemon bug (reported; to be fixed in the merge-apply). When the workspace write that follows
   * a push loses its compare-and-swap to a person's edit (or the daemon dies between the two writes), the
   * merge again reads the row with the old base: the value it has just pushed looks like a Neon edit, and
   * the person's next value of the same field is logged as a both-changed conflict against it
   * ("conflict on company ..., field website: workspace won (both-changed)"), with the workspace's own
   * earlier value as `source_value`. Nothing is lost, but the log reports a conflict that never was.
   */
  it.skip("logs no conflict when a person edits a field again while the daemon pushes its previous value", async () => {
    const key = demoCompanyKey(20)
    const website = async () =>
      (
        await query(
          dbs.neonUrl,
          `SELECT website FROM marketing.company_invalid WHERE company_unique_id = $1`,
          [key]
        )
      )[0]?.website
    // the person's first value, whose event Realtime loses: the daemon does not see it yet
    standIn.faults.loseChanges(1, (change) => change.record?.company_unique_id === key)
    await query(
      dbs.workspaceUrl,
      `UPDATE company_needs_enrichment SET website = 'https://first.example', enrichment_status = 'complete' WHERE company_unique_id = $1`,
      [key]
    )
    // the person opens the row again (a transaction holding its lock) before the daemon pushes it
    const person = new pg.Client({ connectionString: dbs.workspaceUrl })
    await person.connect()
    try {
      await person.query("BEGIN")
      await person.query(`SELECT * FROM company_needs_enrichment WHERE company_unique_id = $1 FOR UPDATE`, [
        key
      ])
      // a catch-up: the daemon reads the row, pushes the first value to Neon, and waits for the row's lock
      standIn.faults.resendSubscribed()
      await eventually(
        "the first value is on Neon",
        async () => (await website()) === "https://first.example"
      )
      await eventually("the daemon waits for the person's lock", async () => {
        const [waiting] = await query(
          dbs.workspaceUrl,
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND application_name = 'enrich-sync syncd'`
        )
        return waiting?.n === 1
      })
      // the person writes the second value: the daemon's workspace write loses its compare-and-swap
      await person.query(
        `UPDATE company_needs_enrichment SET website = 'https://second.example' WHERE company_unique_id = $1`,
        [key]
      )
      await person.query("COMMIT")
    } finally {
      await person.end()
    }
    await eventually(
      "the second value is on Neon",
      async () => (await website()) === "https://second.example"
    )
    // the first value was the workspace's own, replaced by the workspace: Neon never edited the field
    const conflicts = await query(
      dbs.workspaceUrl,
      `SELECT field, winner, source_value, workspace_value FROM sync_conflicts WHERE record_key = $1`,
      [key]
    )
    assert.deepStrictEqual(conflicts, [])
  })
})
