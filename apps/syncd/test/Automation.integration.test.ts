/**
 * The seeds' automated mode, with no command run: an enricher completes a row in the workspace, syncd
 * pushes and re-validates it, and (ENRICH_SYNC_AUTO_PROMOTE=on) promotes it to the master table with its
 * backup written first; and the webhook (ENRICH_SYNC_WEBHOOK_URL) gets the events, signed, at least once,
 * through a receiver that fails, hangs and recovers, while the sync goes on.
 */
import { createHmac } from "node:crypto"
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { demoCompanyAt, demoCompanyKey } from "@enrich-sync/testing"
import {
  type DaemonProcess,
  eventually,
  query,
  startDaemon,
  workspaceCompanyHas
} from "./support/DaemonProcess.ts"
import { type Databases, freshDatabases } from "./support/Databases.ts"

/** The guide's manual enrichment: this row passes the rules once its website is set. */
const key = "04.04.01.01.00101.101"
const complete = (dbs: Databases) =>
  query(
    dbs.workspaceUrl,
    `UPDATE company_needs_enrichment SET website = 'https://monongaliacounty.com', enrichment_status = 'complete'
      WHERE company_unique_id = $1`,
    [key]
  )

/** Where a company is on Neon: its website in the master table (undefined when not there), and whether the invalid table holds it. */
const whereIs = async (dbs: Databases, company: string) => {
  const [row] = await query(
    dbs.neonUrl,
    `SELECT (SELECT website FROM marketing.company_master WHERE company_unique_id = $1) AS master,
            EXISTS (SELECT 1 FROM marketing.company_invalid WHERE company_unique_id = $1) AS invalid`,
    [company]
  )
  return { master: (row?.master ?? undefined) as string | undefined, invalid: row?.invalid === true }
}

interface Delivery {
  readonly body: string
  readonly signature: string | undefined
}

/** A webhook receiver whose answer the test chooses: 200, 500, or no answer at all. */
const receiver = async () => {
  let mode: "ok" | "fail" | "hang" = "fail"
  const deliveries: Array<Delivery> = []
  const attempts: Array<string> = []
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = ""
    req.on("data", (c: Buffer) => {
      body += c.toString()
    })
    req.on("end", () => {
      attempts.push(mode)
      if (mode === "hang") return
      if (mode === "fail") {
        res.writeHead(500).end("down")
        return
      }
      deliveries.push({ body, signature: req.headers["x-enrich-sync-signature"] as string | undefined })
      res.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const address = server.address()
  const port = typeof address === "object" && address !== null ? address.port : 0
  return {
    url: `http://hook-user:hook-password@127.0.0.1:${port}/webhook/enrichment-trigger`,
    set: (next: typeof mode) => {
      mode = next
    },
    attempts,
    deliveries,
    events: () =>
      deliveries.flatMap(
        (d) =>
          (JSON.parse(d.body) as { events: Array<{ id: string; type: string; [k: string]: unknown }> }).events
      ),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

describe("syncd's automated mode", () => {
  let dbs: Databases
  let daemon: DaemonProcess
  let hook: Awaited<ReturnType<typeof receiver>>
  let backups: string
  const secret = "webhook-signing-secret"

  beforeAll(async () => {
    dbs = await freshDatabases({ seed: {} })
    hook = await receiver()
    backups = mkdtempSync(join(tmpdir(), "syncd-backups-"))
    chmodSync(backups, 0o755)
    daemon = startDaemon({
      NEON_DATABASE_URL: dbs.neonUrl,
      SUPABASE_DATABASE_URL: dbs.workspaceUrl,
      ENRICH_SYNC_SLOT: "t_automation",
      ENRICH_SYNC_WORKSPACE_POLL_MS: "100",
      ENRICH_SYNC_ANTI_ENTROPY_MINUTES: "0",
      ENRICH_SYNC_AUTO_PROMOTE: "on",
      ENRICH_SYNC_BACKUP_DIR: backups,
      ENRICH_SYNC_WEBHOOK_URL: hook.url,
      ENRICH_SYNC_WEBHOOK_SECRET: secret,
      ENRICH_SYNC_HEALTH_PORT: "0"
    })
    await daemon.waitFor(/syncd live/, 60_000)
  }, 90_000)

  afterAll(async () => {
    await daemon?.stop()
    await hook?.close()
    await dbs?.drop()
    rmSync(backups, { recursive: true, force: true })
  })

  it("a completed row reaches the master table with no command run, its backup written first", async () => {
    await complete(dbs)
    await eventually(
      "the record is in the master table and gone from the invalid one",
      async () => {
        const { master, invalid } = await whereIs(dbs, key)
        return master === "https://monongaliacounty.com" && !invalid
      },
      30_000
    )
    const files = readdirSync(backups)
    assert.isAtLeast(files.length, 1)
    const lines = files.flatMap((f) =>
      readFileSync(join(backups, f), "utf8")
        .split("\n")
        .filter((l) => l !== "")
    )
    assert.isTrue(
      lines.some((l) => l.includes(key)),
      "the promoted row is in a backup file"
    )
    await eventually(
      "the workspace row is marked promoted",
      workspaceCompanyHas(dbs.workspaceUrl, key, { sync_state: "promoted" })
    )
    const port = /health on http:\/\/127\.0\.0\.1:(\d+)\//.exec(daemon.output())?.[1]
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
    assert.match(metrics, /^enrich_sync_promoted_total [1-9]/m)
  }, 60_000)

  it("delivers the events at least once, signed, through a receiver that fails, hangs and recovers", async () => {
    // the receiver has refused everything so far: events wait in the outbox, the sync went on regardless
    await eventually("a delivery was refused", async () => hook.attempts.includes("fail"), 15_000).catch(
      (e: Error) => {
        throw new Error(`${e.message}\n${daemon.output()}`)
      }
    )
    assert.strictEqual(hook.deliveries.length, 0)
    hook.set("hang")
    await eventually("a delivery is tried while it hangs", async () => hook.attempts.includes("hang"), 30_000)
    hook.set("ok")
    await eventually(
      "pushed, re-validated PASSED and promoted events delivered",
      async () => {
        const types = new Set(hook.events().map((e) => e.type))
        return (
          types.has("records.pushed") && types.has("records.revalidated") && types.has("records.promoted")
        )
      },
      60_000
    )
    for (const delivery of hook.deliveries) {
      const expected = `sha256=${createHmac("sha256", secret).update(delivery.body).digest("hex")}`
      assert.strictEqual(delivery.signature, expected)
    }
    const revalidated = hook.events().find((e) => e.type === "records.revalidated")
    assert.deepStrictEqual(revalidated?.passed, [key])
    const ids = hook.events().map((e) => e.id)
    assert.strictEqual(new Set(ids).size, ids.length, "each event is delivered once it is taken")
    const [pending] = await query(
      dbs.workspaceUrl,
      "SELECT count(*)::int AS n FROM enrich_sync.webhook_outbox WHERE delivered_at IS NULL"
    )
    assert.strictEqual(pending?.n, 0)
    assert.notInclude(daemon.output(), "hook-password")
    assert.notInclude(daemon.output(), secret)
  }, 120_000)

  it("a PASSED row whose workspace edits are not pushed yet is promoted only with them", async () => {
    // a demo company whose only problem is its missing website
    const index = Array.from({ length: 100 }, (_, i) => i + 1).find((i) => {
      const row = demoCompanyAt(i)
      return (
        row.reason_code === "EMPTY_WEBSITE" &&
        Object.keys(row.validation_errors as object).join() === "website"
      )
    })!
    const other = demoCompanyKey(index)
    const website = `https://www.${other.replaceAll(".", "")}.example.com`
    // a person is still working on it (not complete: not pushed) ...
    await query(
      dbs.workspaceUrl,
      `UPDATE company_needs_enrichment SET website = $2, enrichment_status = 'in_progress' WHERE company_unique_id = $1`,
      [other, website]
    )
    // ... when something else marks it PASSED on Neon
    await query(
      dbs.neonUrl,
      "UPDATE marketing.company_invalid SET validation_status = 'PASSED' WHERE company_unique_id = $1",
      [other]
    )
    await daemon.waitFor(
      /1 PASSED company record\(s\) not promoted: their workspace rows hold edits not yet pushed to Neon/,
      30_000
    )
    // passes go on (every 2 s) without promoting it or saying it again
    await new Promise((resolve) => setTimeout(resolve, 5_000))
    assert.deepStrictEqual(await whereIs(dbs, other), { master: undefined, invalid: true })
    assert.strictEqual(daemon.output().match(/PASSED company record\(s\) not promoted/g)?.length, 1)

    // completed, it is pushed, re-validated and promoted with the person's website
    await query(
      dbs.workspaceUrl,
      "UPDATE company_needs_enrichment SET enrichment_status = 'complete' WHERE company_unique_id = $1",
      [other]
    )
    await eventually(
      "the record reaches the master table with the workspace's edit",
      async () => (await whereIs(dbs, other)).master === website,
      30_000
    )
  }, 90_000)
})
