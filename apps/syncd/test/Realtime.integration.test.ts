/**
 * The daemon following the workspace through Supabase Realtime (the stand-in, fed by logical decoding of
 * the test's workspace database), with the poll set to an hour so that only Realtime, or the catch-up that
 * follows every gap, can bring a workspace edit to Neon.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { demoCompanyKey, type RealtimeStandIn, startRealtimeStandIn } from "@enrich-sync/testing"
import { type DaemonProcess, eventually, query, startDaemon } from "./support/DaemonProcess.ts"
import { type Databases, freshDatabases } from "./support/Databases.ts"

// a plainly fake key, built at run time
const serviceKey = `sb_secret_${"FAKE".repeat(5)}`

let dbs: Databases
let standIn: RealtimeStandIn
let daemon: DaemonProcess

/** A person completes a workspace row (the trigger marks it dirty and stamps it). */
const complete = (key: string, website: string) =>
  query(
    dbs.workspaceUrl,
    `UPDATE company_needs_enrichment SET website = $2, enrichment_status = 'complete', enriched_by = 'realtime test'
      WHERE company_unique_id = $1`,
    [key, website]
  )

const neonWebsite = async (key: string) =>
  (
    await query(dbs.neonUrl, `SELECT website FROM marketing.company_invalid WHERE company_unique_id = $1`, [
      key
    ])
  )[0]?.website

beforeAll(async () => {
  dbs = await freshDatabases({ seed: {} })
  standIn = await startRealtimeStandIn({ databaseUrl: dbs.workspaceUrl, idlePollIntervalMs: 20 })
  daemon = startDaemon({
    NEON_DATABASE_URL: dbs.neonUrl,
    SUPABASE_DATABASE_URL: dbs.workspaceUrl,
    SUPABASE_URL: standIn.url,
    SUPABASE_SERVICE_ROLE_KEY: serviceKey,
    ENRICH_SYNC_SLOT: `t_rt_${Math.random().toString(36).slice(2, 8)}`,
    ENRICH_SYNC_WORKSPACE_POLL_MS: "3600000",
    ENRICH_SYNC_ANTI_ENTROPY_MINUTES: "0",
    ENRICH_SYNC_HEALTH_PORT: "0"
  })
  await daemon.waitFor(/syncd live/)
  await daemon.waitFor(/Realtime subscribed: catching up the workspace/)
}, 90_000)

afterAll(async () => {
  await daemon?.stop()
  await standIn?.close()
  await dbs?.drop()
})

describe("syncd following the workspace through Realtime", () => {
  it("pushes a completed row to Neon on its Realtime event (the poll is an hour away)", async () => {
    const live =
      daemon
        .output()
        .split("\n")
        .find((l) => l.includes("syncd live")) ?? ""
    assert.match(
      live,
      /workspace followed through Realtime at http:\/\/127\.0\.0\.1:\d+\/ and polled every 60 min/,
      live
    )
    const key = demoCompanyKey(10)
    await complete(key, "https://realtime.example")
    await eventually(
      "the edit is on Neon",
      async () => (await neonWebsite(key)) === "https://realtime.example",
      10_000
    )
    const port = /health on http:\/\/127\.0\.0\.1:(\d+)\/health/.exec(live)?.[1]
    const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as {
      realtime: { state: string; events: number; ownWrites: number }
    }
    assert.strictEqual(health.realtime.state, "live")
    // the person's edit is the only event: the daemon's own write to the row (sync_dirty false) is filtered
    // out by the server, so it never comes back to be merged again
    assert.strictEqual(health.realtime.events, 1)
    assert.strictEqual(health.realtime.ownWrites, 0)
    assert.isAtLeast(standIn.stats().delivered, 1)
  })

  it("catches up edits made while the socket was down, once Realtime is back", async () => {
    const key = demoCompanyKey(11)
    const before = daemon
      .output()
      .split("\n")
      .filter((l) => l.includes("catching up the workspace")).length
    standIn.faults.dropConnections()
    // committed while no subscription is active: the stand-in consumes it and sends it to nobody
    await complete(key, "https://while-away.example")
    await eventually(
      "the edit made while away is on Neon",
      async () => (await neonWebsite(key)) === "https://while-away.example",
      15_000
    )
    const catchUps = daemon
      .output()
      .split("\n")
      .filter((l) => l.includes("catching up the workspace"))
    assert.isAbove(catchUps.length, before)
    assert.match(catchUps.at(-1) ?? "", /Realtime subscribed again after/)
  })

  it("leaves an event Realtime lost to the next catch-up, which the server's next 'Subscribed' brings", async () => {
    const key = demoCompanyKey(12)
    // the event of this edit is lost (not one of the daemon's own writes of an earlier test, still coming)
    standIn.faults.loseChanges(1, (change) => change.record?.company_unique_id === key)
    await complete(key, "https://lost.example")
    await new Promise((r) => setTimeout(r, 1500))
    // proof that only Realtime brings edits here: the lost one is not on Neon (the poll is an hour away)
    assert.notStrictEqual(await neonWebsite(key), "https://lost.example")
    standIn.faults.resendSubscribed()
    await eventually(
      "the lost edit is on Neon",
      async () => (await neonWebsite(key)) === "https://lost.example",
      10_000
    )
  })

  it("never prints the service role key", () => {
    assert.notInclude(daemon.output(), serviceKey)
  })
})

describe("syncd's Realtime configuration", () => {
  it("needs both SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY, and a project URL", async () => {
    const lonely = startDaemon({
      NEON_DATABASE_URL: "postgresql://u:p@127.0.0.1:1/x",
      SUPABASE_DATABASE_URL: "postgresql://u:p@127.0.0.1:1/y",
      SUPABASE_URL: "https://abcdefgh.supabase.co"
    })
    assert.notStrictEqual(await lonely.exited, 0)
    assert.match(lonely.output(), /SUPABASE_URL is set but SUPABASE_SERVICE_ROLE_KEY is not/)
    const wrong = startDaemon({
      NEON_DATABASE_URL: "postgresql://u:p@127.0.0.1:1/x",
      SUPABASE_DATABASE_URL: "postgresql://u:p@127.0.0.1:1/y",
      SUPABASE_URL: "postgresql://db.abcdefgh.supabase.co:5432/postgres",
      SUPABASE_SERVICE_ROLE_KEY: serviceKey
    })
    assert.notStrictEqual(await wrong.exited, 0)
    assert.match(wrong.output(), /SUPABASE_URL is not a project URL/)
    assert.notInclude(wrong.output(), serviceKey)
  })
})
