/**
 * The daemon as a real process against real databases: Neon changes of every kind reach the workspace,
 * complete workspace edits reach Neon, an idle slot advances, a dropped slot is recreated and reconciled,
 * and a daemon killed between apply and acknowledgement converges when it comes back.
 */

import { randomBytes } from "node:crypto"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { parseLsn } from "@enrich-sync/core"
import { demoCompanyKey } from "@enrich-sync/testing"
import { type DaemonProcess, eventually, query, startDaemon } from "./support/DaemonProcess.ts"
import { type Databases, freshDatabases } from "./support/Databases.ts"

const slotName = () => `t_${randomBytes(5).toString("hex")}`

const daemonEnv = (dbs: Databases, slot: string, extra: Record<string, string> = {}) => ({
  NEON_DATABASE_URL: dbs.neonUrl,
  SUPABASE_DATABASE_URL: dbs.workspaceUrl,
  ENRICH_SYNC_SLOT: slot,
  ENRICH_SYNC_WORKSPACE_POLL_MS: "100",
  ENRICH_SYNC_ANTI_ENTROPY_MINUTES: "0",
  ENRICH_SYNC_HEARTBEAT_SECONDS: "1",
  ...extra
})

const workspaceRow = async (dbs: Databases, key: string) =>
  (
    await query(dbs.workspaceUrl, `SELECT * FROM company_needs_enrichment WHERE company_unique_id = $1`, [
      key
    ])
  )[0]

const assertNoSecrets = (dbs: Databases, daemon: DaemonProcess) => {
  for (const url of [dbs.neonUrl, dbs.workspaceUrl]) {
    const password = decodeURIComponent(new URL(url).password)
    assert.notInclude(daemon.output(), password, "a password was printed")
  }
}

describe("syncd following both sides", () => {
  let dbs: Databases
  let daemon: DaemonProcess
  const slot = slotName()

  beforeAll(async () => {
    dbs = await freshDatabases({ seed: {} })
    daemon = startDaemon(daemonEnv(dbs, slot, { ENRICH_SYNC_HEALTH_PORT: "0" }))
    await daemon.waitFor(/syncd live/)
  }, 60_000)

  afterAll(async () => {
    await daemon?.stop()
    await dbs?.drop()
  })

  it("copies the seed into the workspace at start-up and logs one line when live", async () => {
    const [counts] = await query(dbs.workspaceUrl, `SELECT count(*)::int AS n FROM company_needs_enrichment`)
    assert.strictEqual(counts?.n, 119)
    assert.strictEqual(
      daemon
        .output()
        .split("\n")
        .filter((l) => l.includes("syncd live")).length,
      1
    )
    assertNoSecrets(dbs, daemon)
  })

  it("serves its counters, position and memory on /health and /metrics", async () => {
    const live = await daemon.waitFor(/syncd live/)
    const port = /health on http:\/\/127\.0\.0\.1:(\d+)\/health/.exec(live)?.[1]
    assert.isDefined(port, live)
    const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as {
      live: boolean
      reconciles: number
      memory: { rss: number; heapUsed: number }
      listener: { confirmed: string }
    }
    assert.isTrue(health.live)
    assert.isAtLeast(health.reconciles, 1)
    assert.isAbove(health.memory.rss, health.memory.heapUsed)
    assert.isAbove(health.memory.heapUsed, 1_000_000)
    assert.match(health.listener.confirmed, /^[0-9A-F]+\/[0-9A-F]+$/)
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
    assert.match(metrics, /^enrich_sync_live 1$/m)
    assert.match(metrics, /^enrich_sync_reconciles_total [1-9]\d*$/m)
    const rss = Number(/^process_resident_memory_bytes (\d+)$/m.exec(metrics)?.[1])
    assert.isAbove(rss, 10_000_000)
  })

  it("brings inserts, updates, deletes and multi-row transactions from Neon", async () => {
    await query(
      dbs.neonUrl,
      `BEGIN;
       INSERT INTO marketing.company_invalid (company_unique_id, company_name, reason_code, validation_errors) VALUES ('04.04.01.01.90001.001', 'Fresh Co', 'EMPTY_WEBSITE', '{"website": "empty or blank"}');
       UPDATE marketing.company_invalid SET city = 'Star City' WHERE company_unique_id IN ('${demoCompanyKey(1)}', '${demoCompanyKey(2)}');
       COMMIT`
    )
    // an UPDATE that does not bump updated_at still counts, at its commit time
    await query(
      dbs.neonUrl,
      `UPDATE marketing.company_invalid SET industry = 'Timber' WHERE company_unique_id = $1`,
      [demoCompanyKey(3)]
    )
    // a promotion (master insert + delete) and a plain delete
    await query(
      dbs.neonUrl,
      `BEGIN;
       INSERT INTO marketing.company_master (company_unique_id, company_name) SELECT company_unique_id, company_name FROM marketing.company_invalid WHERE company_unique_id = '${demoCompanyKey(4)}';
       DELETE FROM marketing.company_invalid WHERE company_unique_id = '${demoCompanyKey(4)}';
       COMMIT`
    )
    await query(dbs.neonUrl, `DELETE FROM marketing.company_invalid WHERE company_unique_id = $1`, [
      demoCompanyKey(5)
    ])
    await eventually("every change is in the workspace", async () => {
      const fresh = await workspaceRow(dbs, "04.04.01.01.90001.001")
      const a = await workspaceRow(dbs, demoCompanyKey(1))
      const b = await workspaceRow(dbs, demoCompanyKey(2))
      const c = await workspaceRow(dbs, demoCompanyKey(3))
      const promoted = await workspaceRow(dbs, demoCompanyKey(4))
      const removed = await workspaceRow(dbs, demoCompanyKey(5))
      return (
        fresh?.company_name === "Fresh Co" &&
        fresh.enrichment_status === "pending" &&
        a?.city === "Star City" &&
        b?.city === "Star City" &&
        c?.industry === "Timber" &&
        promoted?.sync_state === "promoted" &&
        removed?.sync_state === "removed"
      )
    })
  })

  it("pushes complete workspace edits to Neon, re-validated, and brings the outcome back", async () => {
    const key = demoCompanyKey(0)
    await query(
      dbs.workspaceUrl,
      `UPDATE company_needs_enrichment SET website = 'https://monongaliacounty.com', enrichment_status = 'complete', enriched_by = 'enricher@example.com', enriched_at = now()
        WHERE company_unique_id = $1`,
      [key]
    )
    await eventually("the push reached Neon and came back re-validated", async () => {
      const [neon] = await query(
        dbs.neonUrl,
        `SELECT website, domain, enrichment_status, validation_status FROM marketing.company_invalid WHERE company_unique_id = $1`,
        [key]
      )
      const ws = await workspaceRow(dbs, key)
      return (
        neon?.website === "https://monongaliacounty.com" &&
        neon.enrichment_status === "complete" &&
        neon.domain === "monongaliacounty.com" &&
        ws?.domain === "monongaliacounty.com" &&
        ws.validation_status === neon.validation_status &&
        ws.pushed_to_neon_at !== null
      )
    })
    // an in-progress edit stays in the workspace
    await query(
      dbs.workspaceUrl,
      `UPDATE company_needs_enrichment SET phone = '(304) 555-0100', enrichment_status = 'in_progress' WHERE company_unique_id = $1`,
      [demoCompanyKey(6)]
    )
    await eventually(
      "the in-progress row was looked at",
      async () => (await workspaceRow(dbs, demoCompanyKey(6)))?.sync_dirty === false
    )
    const [neon] = await query(
      dbs.neonUrl,
      `SELECT phone FROM marketing.company_invalid WHERE company_unique_id = $1`,
      [demoCompanyKey(6)]
    )
    assert.notStrictEqual(neon?.phone, "(304) 555-0100")
  })

  it("keeps an idle slot moving", async () => {
    const confirmed = async () => {
      const [row] = await query(
        dbs.neonUrl,
        `SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1`,
        [slot]
      )
      return parseLsn(String(row?.lsn))
    }
    const before = await confirmed()
    await eventually(
      "the slot's confirmed position moved without any change",
      async () => (await confirmed()) > before,
      15_000
    )
  })

  it("recreates a slot dropped while it runs, and reconciles what was missed", async () => {
    // take the slot away: end the walsender and drop the slot before the listener reconnects
    await eventually(
      "the slot is dropped",
      async () => {
        try {
          await query(
            dbs.neonUrl,
            `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL`,
            [slot]
          )
          await query(dbs.neonUrl, `SELECT pg_drop_replication_slot($1)`, [slot])
          return true
        } catch {
          return false
        }
      },
      15_000
    )
    // a change committed while there is no slot is never streamed: only the reconcile can bring it
    await query(
      dbs.neonUrl,
      `UPDATE marketing.company_invalid SET zip = '26501' WHERE company_unique_id = $1`,
      [demoCompanyKey(7)]
    )
    await daemon.waitFor(/created again|slot .* was gone/, 30_000)
    await eventually(
      "the missed change arrived",
      async () => (await workspaceRow(dbs, demoCompanyKey(7)))?.zip === "26501"
    )
    assertNoSecrets(dbs, daemon)
  })
})

/** Whether the applied position recorded in the workspace is ahead of what the slot confirmed. */
const appliedPastConfirmed = async (dbs: Databases, slot: string): Promise<boolean> => {
  const [progress] = await query(
    dbs.workspaceUrl,
    `SELECT applied_lsn::text AS lsn FROM enrich_sync.replication_progress WHERE slot = $1`,
    [slot]
  )
  const [confirmed] = await query(
    dbs.neonUrl,
    `SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1`,
    [slot]
  )
  return progress !== undefined && parseLsn(String(progress.lsn)) > parseLsn(String(confirmed?.lsn))
}

describe("syncd killed between apply and acknowledgement", () => {
  it("converges on restart, with nothing lost and nothing merged twice into a conflict", async () => {
    const dbs = await freshDatabases({ seed: {} })
    const slot = slotName()
    try {
      const keys = Array.from({ length: 119 }, (_, i) => demoCompanyKey(i))
      let round = 0
      let caughtBetween = false
      for (let attempt = 0; attempt < 6 && !caughtBetween; attempt++) {
        // acknowledgements coalesced over 3 s: a kill in a stream lands between apply and ack
        const daemon = startDaemon(
          daemonEnv(dbs, slot, { ENRICH_SYNC_BATCH_WAIT_MS: "0", ENRICH_SYNC_ACK_INTERVAL_MS: "3000" })
        )
        await daemon.waitFor(/syncd live/, 60_000)
        // a steady stream of small transactions, then SIGKILL in the middle of it
        const writer = (async () => {
          for (let i = 0; i < 150; i++) {
            round++
            await query(
              dbs.neonUrl,
              `UPDATE marketing.company_invalid SET address = $2 WHERE company_unique_id = $1`,
              [keys[round % keys.length], `${round} Main St`]
            )
          }
        })()
        // kill as soon as the daemon has applied past what the slot confirmed (a busy machine may take a while
        // to apply the first transactions; a fixed delay then killed it before it applied anything)
        const started = Date.now()
        while (!(await appliedPastConfirmed(dbs, slot)) && Date.now() - started < 5000)
          await new Promise((r) => setTimeout(r, 10 + attempt * 10))
        await daemon.kill()
        await writer
        // was it between apply and ack? The applied position recorded in the workspace is ahead of what the
        // slot confirmed.
        caughtBetween = await appliedPastConfirmed(dbs, slot)
      }
      assert.isTrue(caughtBetween, "never caught the daemon between apply and ack")
      const daemon = startDaemon(daemonEnv(dbs, slot))
      await daemon.waitFor(/syncd live/, 60_000)
      await eventually("the workspace holds every Neon address", async () => {
        const neon = await query(
          dbs.neonUrl,
          `SELECT company_unique_id AS k, address FROM marketing.company_invalid ORDER BY 1`
        )
        const ws = await query(
          dbs.workspaceUrl,
          `SELECT company_unique_id AS k, address FROM company_needs_enrichment ORDER BY 1`
        )
        return JSON.stringify(neon) === JSON.stringify(ws)
      })
      const [conflicts] = await query(dbs.workspaceUrl, `SELECT count(*)::int AS n FROM sync_conflicts`)
      assert.strictEqual(conflicts?.n, 0)
      const [hashes] = await query(
        dbs.workspaceUrl,
        `SELECT count(*)::int AS n FROM company_needs_enrichment t WHERE enrich_sync.company_workspace_hash(t) <> t.last_sync_hash`
      )
      assert.strictEqual(hashes?.n, 0)
      await daemon.stop()
    } finally {
      await dbs.drop()
    }
  }, 180_000)
})
