/**
 * Several daemons on the same databases, as real processes: one leads (the advisory lock of its slot),
 * the other stands by and takes over within 10 s when the leader is killed (SIGKILL) or hangs (SIGSTOP),
 * under two-way load, and nothing is lost. A hung leader that wakes up stands by; one that hung inside a
 * transaction does not hold its rows from its successor. Instances that split the entities each lead their
 * own slot.
 */
import { afterEach, assert, beforeEach, describe, it } from "@effect/vitest"
import { demoCompanyKey, demoPersonKey } from "@enrich-sync/testing"
import pg from "pg"
import { type DaemonProcess, eventually, query, startDaemon } from "./support/DaemonProcess.ts"
import { type Databases, freshDatabases } from "./support/Databases.ts"
import { freePort } from "./support/Ports.ts"

const readyz = async (port: number) => {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`)
    return { status: response.status, body: (await response.json()) as { role?: string; reason?: string } }
  } catch {
    return { status: 0, body: {} }
  }
}

interface Instance {
  readonly daemon: DaemonProcess
  readonly port: number
}

describe("syncd leadership", () => {
  let dbs: Databases
  let instances: Array<Instance> = []
  const slot = () => `t_ha_${Math.random().toString(36).slice(2, 8)}`

  const start = async (env: Record<string, string>): Promise<Instance> => {
    const port = await freePort()
    const daemon = startDaemon({
      NEON_DATABASE_URL: dbs.neonUrl,
      SUPABASE_DATABASE_URL: dbs.workspaceUrl,
      ENRICH_SYNC_WORKSPACE_POLL_MS: "100",
      ENRICH_SYNC_ANTI_ENTROPY_MINUTES: "0",
      ENRICH_SYNC_HEALTH_PORT: String(port),
      ...env
    })
    const instance = { daemon, port }
    instances.push(instance)
    return instance
  }

  const ready = (instance: Instance, timeoutMs = 60_000) =>
    eventually("the instance is ready", async () => (await readyz(instance.port)).status === 200, timeoutMs)

  /** Two instances of one slot: `a` started first and ready (the leader), then `b`, once it stands by. */
  const leaderAndStandby = async () => {
    const name = slot()
    const a = await start({ ENRICH_SYNC_SLOT: name })
    await ready(a)
    const b = await start({ ENRICH_SYNC_SLOT: name })
    await eventually("b stands by", async () => (await readyz(b.port)).body.role === "standby", 30_000)
    return { a, b }
  }

  beforeEach(async () => {
    dbs = await freshDatabases({ seed: {} })
    instances = []
  }, 60_000)

  afterEach(async () => {
    if (process.env.SYNCD_TEST_DEBUG === "1") for (const i of instances) console.error(i.daemon.output())
    for (const i of instances) {
      i.daemon.process.kill("SIGCONT")
      await i.daemon.kill()
    }
    await dbs.drop()
  })

  /** Two-way load for `ms`: Neon rows get new addresses, people complete workspace rows with a website. */
  const load = async (ms: number, tag: string) => {
    const neon = new pg.Client({ connectionString: dbs.neonUrl })
    const workspace = new pg.Client({ connectionString: dbs.workspaceUrl })
    await Promise.all([neon.connect(), workspace.connect()])
    const addresses = new Map<string, string>()
    const websites = new Map<string, string>()
    const until = Date.now() + ms
    let i = 0
    try {
      while (Date.now() < until) {
        // Neon's writers touch companies 0-59, the enrichers 60-118: no field is edited on both sides
        const neonKey = demoCompanyKey(i % 60)
        const address = `${i} ${tag} Way`
        await neon.query("UPDATE marketing.company_invalid SET address = $2 WHERE company_unique_id = $1", [
          neonKey,
          address
        ])
        addresses.set(neonKey, address)
        if (i % 3 === 0) {
          const wsKey = demoCompanyKey(60 + ((i / 3) % 59))
          const website = `https://${tag}-${i}.example`
          await workspace.query(
            `UPDATE company_needs_enrichment SET website = $2, enrichment_status = 'complete' WHERE company_unique_id = $1`,
            [wsKey, website]
          )
          websites.set(wsKey, website)
        }
        i++
        await new Promise((r) => setTimeout(r, 5))
      }
    } finally {
      await Promise.all([neon.end(), workspace.end()])
    }
    return { addresses, websites }
  }

  /** Every value written on either side reached the other (nothing lost). */
  const converged = (written: Awaited<ReturnType<typeof load>>) =>
    eventually(
      "both sides hold every value written",
      async () => {
        const ws = await query(
          dbs.workspaceUrl,
          "SELECT company_unique_id AS k, address FROM company_needs_enrichment WHERE company_unique_id = ANY($1)",
          [[...written.addresses.keys()]]
        )
        const neon = await query(
          dbs.neonUrl,
          "SELECT company_unique_id AS k, website FROM marketing.company_invalid WHERE company_unique_id = ANY($1)",
          [[...written.websites.keys()]]
        )
        return (
          ws.every((r) => written.addresses.get(String(r.k)) === r.address) &&
          neon.every((r) => written.websites.get(String(r.k)) === r.website)
        )
      },
      60_000
    )

  it("the standby takes over within 10 s of the leader's SIGKILL, under two-way load, losing nothing", async () => {
    const { a, b } = await leaderAndStandby()
    assert.strictEqual((await readyz(b.port)).status, 503)

    const writing = load(4000, "kill")
    await new Promise((r) => setTimeout(r, 1500))
    await a.daemon.kill()
    const killedAt = Date.now()
    await ready(b, 10_000)
    assert.isBelow(Date.now() - killedAt, 10_000)
    assert.strictEqual((await readyz(b.port)).body.role, "leader")
    await converged(await writing)
    const conflicts = await query(dbs.workspaceUrl, "SELECT * FROM sync_conflicts")
    assert.deepStrictEqual(conflicts, [], "no field was edited on both sides")
  }, 120_000)

  it("a hung leader (SIGSTOP) is replaced within 10 s, and stands by when it wakes", async () => {
    const { a, b } = await leaderAndStandby()

    const writing = load(3000, "hang")
    await new Promise((r) => setTimeout(r, 1000))
    a.daemon.process.kill("SIGSTOP")
    const stoppedAt = Date.now()
    await ready(b, 10_000)
    assert.isBelow(Date.now() - stoppedAt, 10_000)
    const written = await writing
    a.daemon.process.kill("SIGCONT")
    await eventually(
      "the woken leader stands by",
      async () => (await readyz(a.port)).body.role === "standby",
      15_000
    )
    assert.match(a.daemon.output(), /no longer leading; standing by/)
    await converged(written)
    assert.strictEqual((await readyz(b.port)).body.role, "leader")
  }, 120_000)

  /** Whether a session of a daemon's pools on the workspace is in the state `condition` (pg_stat_activity) says. */
  const daemonSessionIs = async (condition: string) =>
    (
      await query(
        dbs.workspaceUrl,
        `SELECT 1 FROM pg_stat_activity WHERE application_name = 'enrich-sync syncd' AND ${condition}`
      )
    ).length > 0

  it("a leader hung inside a workspace transaction does not hold its successor up", async () => {
    const { a, b } = await leaderAndStandby()
    const [held, other] = [demoCompanyKey(7), demoCompanyKey(8)]
    // a person's edit in progress (not complete, so not pushed): Neon's next change of these rows is merged
    // with it, in a transaction of several statements
    await query(
      dbs.workspaceUrl,
      "UPDATE company_needs_enrichment SET website = 'https://in-progress.example' WHERE company_unique_id = ANY($1)",
      [[held, other]]
    )
    await new Promise((r) => setTimeout(r, 500))
    // then the person's open transaction holds one row, so the leader's next write of it waits part way
    const person = new pg.Client({ connectionString: dbs.workspaceUrl })
    await person.connect()
    try {
      await person.query("BEGIN")
      await person.query("SELECT 1 FROM company_needs_enrichment WHERE company_unique_id = $1 FOR UPDATE", [
        held
      ])
      await query(
        dbs.neonUrl,
        "UPDATE marketing.company_invalid SET city = 'Held Town' WHERE company_unique_id = ANY($1)",
        [[held, other]]
      )
      await eventually(
        "the leader's workspace write waits for the person's lock",
        () => daemonSessionIs("wait_event_type = 'Lock'"),
        15_000
      )
      a.daemon.process.kill("SIGSTOP")
      await person.query("COMMIT")
    } finally {
      await person.end()
    }
    const stoppedAt = Date.now()
    // the hung leader's transaction now sits open, holding the rows it wrote
    await eventually(
      "the hung leader's transaction holds its rows",
      () => daemonSessionIs("state = 'idle in transaction'"),
      5_000
    )
    await ready(b, 10_000)
    assert.isBelow(Date.now() - stoppedAt, 10_000)
    await query(
      dbs.neonUrl,
      "UPDATE marketing.company_invalid SET city = 'Moved On' WHERE company_unique_id = ANY($1)",
      [[held, other]]
    )
    // the successor writes both rows while the old leader still sleeps
    await eventually(
      "the successor wrote the rows the hung leader held",
      async () =>
        (
          await query(
            dbs.workspaceUrl,
            "SELECT city FROM company_needs_enrichment WHERE company_unique_id = ANY($1)",
            [[held, other]]
          )
        ).every((r) => r.city === "Moved On"),
      10_000
    )
    a.daemon.process.kill("SIGCONT")
    await eventually(
      "the woken leader stands by",
      async () => (await readyz(a.port)).body.role === "standby",
      15_000
    )
  }, 120_000)

  it("instances that split the entities each lead a slot of their own", async () => {
    const companies = await start({ ENRICH_SYNC_ENTITIES: "company" })
    const people = await start({ ENRICH_SYNC_ENTITIES: "people" })
    await Promise.all([ready(companies), ready(people)])
    const slots = await query(
      dbs.neonUrl,
      "SELECT slot_name FROM pg_replication_slots WHERE database = current_database() ORDER BY slot_name"
    )
    assert.deepStrictEqual(
      slots.map((r) => r.slot_name),
      ["enrich_sync_company", "enrich_sync_people"]
    )
    const published = await query(
      dbs.neonUrl,
      "SELECT pubname, tablename FROM pg_publication_tables WHERE pubname LIKE 'enrich_sync_source_%' ORDER BY pubname"
    )
    assert.deepStrictEqual(
      published.map((r) => `${r.pubname}:${r.tablename}`),
      ["enrich_sync_source_company:company_invalid", "enrich_sync_source_people:people_invalid"]
    )
    await query(
      dbs.neonUrl,
      "UPDATE marketing.company_invalid SET city = 'Split City' WHERE company_unique_id = $1",
      [demoCompanyKey(3)]
    )
    await query(dbs.neonUrl, "UPDATE marketing.people_invalid SET city = 'Split Town' WHERE unique_id = $1", [
      demoPersonKey(1)
    ])
    await eventually("both edits reached the workspace", async () => {
      const [c] = await query(
        dbs.workspaceUrl,
        "SELECT city FROM company_needs_enrichment WHERE company_unique_id = $1",
        [demoCompanyKey(3)]
      )
      const [p] = await query(
        dbs.workspaceUrl,
        "SELECT city FROM people_needs_enrichment WHERE unique_id = $1",
        [demoPersonKey(1)]
      )
      return c?.city === "Split City" && p?.city === "Split Town"
    })
  }, 120_000)
})
