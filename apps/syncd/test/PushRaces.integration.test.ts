/**
 * A push racing a person's next edit, or the daemon's death: made deterministic by holding the workspace
 * row's lock, so that the daemon has written Neon and waits to write the workspace when the test acts.
 * - a person who edits a field again while the daemon pushes its previous value makes no conflict, and keeps
 *   the newer value, even when Neon edits another field of the record meanwhile;
 * - a Neon value that a push overwrites is in `sync_conflicts` even when the daemon dies before its
 *   workspace write.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { demoCompanyKey, type RealtimeStandIn, startRealtimeStandIn } from "@enrich-sync/testing"
import pg from "pg"
import { type DaemonProcess, eventually, query, startDaemon } from "./support/DaemonProcess.ts"
import { type Databases, freshDatabases } from "./support/Databases.ts"

// a plainly fake key, built at run time
const serviceKey = `sb_secret_${"FAKE".repeat(5)}`

describe("syncd's pushes racing a person's edit, or its own death", () => {
  let dbs: Databases
  let standIn: RealtimeStandIn
  let daemon: DaemonProcess
  const slot = `t_races_${Math.random().toString(36).slice(2, 8)}`

  const start = () =>
    startDaemon({
      NEON_DATABASE_URL: dbs.neonUrl,
      SUPABASE_DATABASE_URL: dbs.workspaceUrl,
      SUPABASE_URL: standIn.url,
      SUPABASE_SERVICE_ROLE_KEY: serviceKey,
      ENRICH_SYNC_SLOT: slot,
      // only Realtime and its catch-ups bring workspace edits: the test decides when the daemon sees one
      ENRICH_SYNC_WORKSPACE_POLL_MS: "3600000",
      ENRICH_SYNC_ANTI_ENTROPY_MINUTES: "0"
    })

  beforeAll(async () => {
    dbs = await freshDatabases({ seed: {} })
    standIn = await startRealtimeStandIn({ databaseUrl: dbs.workspaceUrl, idlePollIntervalMs: 20 })
    daemon = start()
    await daemon.waitFor(/Realtime subscribed: catching up the workspace/, 60_000)
  }, 90_000)

  afterAll(async () => {
    await daemon?.stop()
    await standIn?.close()
    await dbs?.drop()
  })

  const neonRow = async (key: string) =>
    (
      await query(
        dbs.neonUrl,
        `SELECT website, phone FROM marketing.company_invalid WHERE company_unique_id = $1`,
        [key]
      )
    )[0]
  const workspaceRow = async (key: string) =>
    (
      await query(
        dbs.workspaceUrl,
        `SELECT website, phone FROM company_needs_enrichment WHERE company_unique_id = $1`,
        [key]
      )
    )[0]
  const conflictsOf = (key: string) =>
    query(
      dbs.workspaceUrl,
      `SELECT field, winner, source_value #>> '{}' AS source_value, workspace_value #>> '{}' AS workspace_value
         FROM sync_conflicts WHERE record_key = $1 ORDER BY id`,
      [key]
    )

  /** A person's session that holds the row's lock (as an open edit form does) until told to write. */
  const holdRow = async (key: string) => {
    const person = new pg.Client({ connectionString: dbs.workspaceUrl })
    await person.connect()
    await person.query("BEGIN")
    await person.query(`SELECT * FROM company_needs_enrichment WHERE company_unique_id = $1 FOR UPDATE`, [
      key
    ])
    return person
  }

  /** Waits until `website` is on Neon and the daemon waits for the workspace row's lock. */
  const pushedAndWaiting = async (key: string, website: string) => {
    await eventually("the push is on Neon", async () => (await neonRow(key))?.website === website)
    await eventually("the daemon waits for the row's lock", async () => {
      const [waiting] = await query(
        dbs.workspaceUrl,
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock' AND application_name = 'enrich-sync syncd'`
      )
      return waiting?.n === 1
    })
  }

  /**
   * A person completes a row with `website`, its Realtime event lost; then, holding the row's lock, lets
   * the daemon see it (a catch-up) and push it.
   */
  const pushWhileHeld = async (key: string, website: string) => {
    standIn.faults.loseChanges(1, (change) => change.record?.company_unique_id === key)
    await query(
      dbs.workspaceUrl,
      `UPDATE company_needs_enrichment SET website = $2, enrichment_status = 'complete' WHERE company_unique_id = $1`,
      [key, website]
    )
    const person = await holdRow(key)
    standIn.faults.resendSubscribed()
    await pushedAndWaiting(key, website)
    return person
  }

  /** The person, in the transaction that holds the row, sets the website again (`second`) and commits. */
  const editAgain = async (person: Awaited<ReturnType<typeof holdRow>>, key: string) => {
    await person.query(
      `UPDATE company_needs_enrichment SET website = 'https://second.example' WHERE company_unique_id = $1`,
      [key]
    )
    await person.query("COMMIT")
    await person.end()
  }

  it("logs no conflict when a person edits a field again while the daemon pushes its previous value", async () => {
    const key = demoCompanyKey(20)
    const person = await pushWhileHeld(key, "https://first.example")
    await editAgain(person, key)
    await eventually(
      "the second value is on Neon",
      async () => (await neonRow(key))?.website === "https://second.example"
    )
    // the first value was the workspace's own, replaced by the workspace: Neon never edited the field
    assert.deepStrictEqual(await conflictsOf(key), [])
  })

  it("keeps a person's newer value when Neon edits another field while the daemon pushes the previous one", async () => {
    const key = demoCompanyKey(21)
    const person = await pushWhileHeld(key, "https://first.example")
    // Neon edits another field, later than the person's open edit began
    await query(
      dbs.neonUrl,
      `UPDATE marketing.company_invalid SET phone = '(304) 555-0199', updated_at = now() AT TIME ZONE 'UTC' WHERE company_unique_id = $1`,
      [key]
    )
    await editAgain(person, key)
    await eventually(
      "Neon's phone is in the workspace",
      async () => (await workspaceRow(key))?.phone === "(304) 555-0199"
    )
    await eventually(
      "both sides settle",
      async () => JSON.stringify(await neonRow(key)) === JSON.stringify(await workspaceRow(key))
    )
    assert.deepStrictEqual(await workspaceRow(key), {
      website: "https://second.example",
      phone: "(304) 555-0199"
    })
  })

  it("logs the Neon value a push overwrote even when it dies before its workspace write", async () => {
    const key = demoCompanyKey(22)
    await daemon.kill()
    // made while it is down: a Neon edit, then a newer one in the workspace, of the same field
    await query(
      dbs.neonUrl,
      `UPDATE marketing.company_invalid SET website = 'https://neon.example', updated_at = now() AT TIME ZONE 'UTC' WHERE company_unique_id = $1`,
      [key]
    )
    await query(
      dbs.workspaceUrl,
      `UPDATE company_needs_enrichment SET website = 'https://person.example', enrichment_status = 'complete' WHERE company_unique_id = $1`,
      [key]
    )
    const person = await holdRow(key)
    // its start-up reconcile merges the row: the person's newer value wins and is pushed over Neon's
    daemon = start()
    await pushedAndWaiting(key, "https://person.example")
    await daemon.kill()
    await person.query("ROLLBACK")
    await person.end()
    daemon = start()
    await daemon.waitFor(/syncd live/, 60_000)
    await eventually(
      "both sides settle",
      async () => (await workspaceRow(key))?.website === "https://person.example"
    )
    assert.deepStrictEqual(await conflictsOf(key), [
      {
        field: "website",
        winner: "workspace",
        source_value: "https://neon.example",
        workspace_value: "https://person.example"
      }
    ])
  })
})
