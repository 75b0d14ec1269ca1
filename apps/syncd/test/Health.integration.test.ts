/**
 * The health server an operator relies on: bound at the very start (a daemon that cannot reach Neon yet
 * answers /healthz 200 and /readyz 503 with the reason, not "connection refused"), /readyz 200 once the
 * daemon leads and follows both sides, /metrics with the production gauges, 405 for other methods, 404
 * for other paths. And the log: JSON lines (time, level, msg, fields, no fiber ids) unless a format is
 * chosen, the level filter, and no secret in either format.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { type DaemonProcess, eventually, startDaemon } from "./support/DaemonProcess.ts"
import { type Databases, freshDatabases } from "./support/Databases.ts"
import { freePort } from "./support/Ports.ts"

const get = async (port: number, path: string, method = "GET") => {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method })
  const text = await response.text()
  return { status: response.status, text, json: () => JSON.parse(text) as Record<string, unknown> }
}

const jsonLines = (daemon: DaemonProcess) =>
  daemon
    .output()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>)

describe("syncd's health server", () => {
  let dbs: Databases
  let daemon: DaemonProcess
  let port: number

  beforeAll(async () => {
    dbs = await freshDatabases({ seed: {} })
    port = await freePort()
    daemon = startDaemon({
      NEON_DATABASE_URL: dbs.neonUrl,
      SUPABASE_DATABASE_URL: dbs.workspaceUrl,
      ENRICH_SYNC_SLOT: `t_health_${Math.random().toString(36).slice(2, 8)}`,
      ENRICH_SYNC_WORKSPACE_POLL_MS: "100",
      ENRICH_SYNC_ANTI_ENTROPY_MINUTES: "0",
      ENRICH_SYNC_HEALTH_PORT: String(port)
    })
    await daemon.waitFor(/syncd live/, 60_000)
  }, 90_000)

  afterAll(async () => {
    await daemon?.stop()
    await dbs?.drop()
  })

  it("is ready once it leads and streams; /healthz answers, /metrics has the production gauges", async () => {
    await eventually("/readyz is 200", async () => (await get(port, "/readyz")).status === 200, 15_000)
    const ready = (await get(port, "/readyz")).json()
    assert.strictEqual(ready.role, "leader")
    assert.strictEqual((await get(port, "/healthz")).status, 200)
    await eventually("an observation", async () =>
      (await get(port, "/metrics")).text.includes("enrich_sync_lag_bytes")
    )
    const metrics = (await get(port, "/metrics")).text
    for (const name of [
      "enrich_sync_lag_seconds{",
      "enrich_sync_lag_bytes{",
      "enrich_sync_rows_applied_total{",
      "enrich_sync_pushes_pending{",
      "enrich_sync_conflicts_total",
      "enrich_sync_catch_ups_total",
      "enrich_sync_anti_entropy_runs_total",
      "enrich_sync_anti_entropy_differences_total",
      "enrich_sync_batch_duration_seconds_bucket{",
      "enrich_sync_clock_skew_seconds{",
      'enrich_sync_role{role="leader"} 1',
      "process_resident_memory_bytes"
    ]) {
      assert.include(metrics, name)
    }
  })

  it("answers 405 to other methods and 404 to other paths", async () => {
    for (const path of ["/healthz", "/readyz", "/metrics", "/health"]) {
      const post = await get(port, path, "POST")
      assert.strictEqual(post.status, 405, path)
    }
    assert.strictEqual((await get(port, "/nope")).status, 404)
  })

  it("logs one JSON object per line with time, level and msg, and no fiber ids", () => {
    const lines = jsonLines(daemon)
    assert.isAtLeast(lines.length, 5)
    for (const line of lines) {
      assert.isString(line.time)
      assert.include(["debug", "info", "warn", "error"], line.level)
      assert.isString(line.msg)
      assert.notProperty(line, "fiber")
      assert.notProperty(line, "fiberId")
    }
    assert.notInclude(daemon.output(), "fiber=#")
    const reconciled = lines.find((l) => String(l.msg).startsWith("reconciled company"))
    assert.strictEqual(reconciled?.direction, "reconcile")
    assert.strictEqual(reconciled?.entity, "company")
  })
})

describe("syncd before it reaches Neon", () => {
  it("binds the health port at once: /healthz 200, /readyz 503 saying why", async () => {
    const port = await freePort()
    const closed = await freePort()
    const daemon = startDaemon({
      NEON_DATABASE_URL: `postgresql://u:unreachable-pw@127.0.0.1:${closed}/x`,
      SUPABASE_DATABASE_URL: `postgresql://u:unreachable-pw@127.0.0.1:${closed}/y`,
      ENRICH_SYNC_HEALTH_PORT: String(port)
    })
    try {
      await eventually(
        "the health port answers",
        async () => (await get(port, "/healthz").catch(() => null))?.status === 200
      )
      const ready = await get(port, "/readyz")
      assert.strictEqual(ready.status, 503)
      assert.match(String(ready.json().reason), /cannot reach Neon/)
      await eventually("the problem is logged once", async () =>
        daemon.output().includes("could not reach Neon")
      )
      await new Promise((r) => setTimeout(r, 2500))
      assert.strictEqual(
        daemon.output().split("could not reach Neon").length - 1,
        1,
        "said once, not every second"
      )
      assert.notInclude(daemon.output(), "unreachable-pw")
    } finally {
      await daemon.stop()
    }
  })
})

describe("syncd's log settings", () => {
  it("pretty text, a level filter, and no secret in JSON or text", async () => {
    const secret = ["FAKE", "in", "the", "url"].join("-")
    const bad = {
      NEON_DATABASE_URL: `http://u:${secret}@db.example.com/x`,
      SUPABASE_DATABASE_URL: "postgresql://u:p@h/db"
    }
    const json = startDaemon({ ...bad })
    await json.exited
    const [line] = jsonLines(json).filter((l) => l.level === "error")
    assert.isDefined(line, json.output())
    assert.include(String(line?.msg), "NEON_DATABASE_URL has the scheme")
    assert.notInclude(json.output(), secret)

    const pretty = startDaemon({ ...bad, ENRICH_SYNC_LOG_FORMAT: "pretty" })
    await pretty.exited
    assert.match(pretty.output(), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} ERROR syncd stopped: /m)
    assert.notInclude(pretty.output(), secret)
    assert.notInclude(pretty.output(), '{"time"')

    const quiet = startDaemon({ ...bad, ENRICH_SYNC_LOG_LEVEL: "error", ENRICH_SYNC_LOG_FORMAT: "json" })
    await quiet.exited
    assert.deepStrictEqual(
      jsonLines(quiet).map((l) => l.level),
      ["error"]
    )

    const wrong = startDaemon({ ...bad, ENRICH_SYNC_LOG_LEVEL: "loud" })
    await wrong.exited
    assert.include(wrong.output(), "ENRICH_SYNC_LOG_LEVEL must be one of debug, info, warn, error")
  })
})
