/**
 * `syncd check` against real servers: every check passes on migrated databases (and nothing is created:
 * no slot, no publication); a database without the tables, a Neon without logical replication, an
 * unreachable server, a bad configuration each fail with the line that names the fix; a slot held by a
 * running daemon is reported with its holder; Realtime is checked when configured.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { type RealtimeStandIn, startRealtimeStandIn } from "@enrich-sync/testing"
import { query, startDaemon } from "./support/DaemonProcess.ts"
import { type Databases, freshDatabases, withReplicaLevelNeon } from "./support/Databases.ts"

const check = async (env: Record<string, string>) => {
  const run = startDaemon(env, undefined, ["check"])
  const code = await run.exited
  const lines = run.output().trim().split("\n")
  return { code, lines, output: run.output() }
}

const line = (lines: ReadonlyArray<string>, name: string) =>
  lines.find((l) => l.slice(6).startsWith(`${name}:`))

describe("syncd check", () => {
  let dbs: Databases
  let bare: Databases
  let standIn: RealtimeStandIn

  beforeAll(async () => {
    ;[dbs, bare] = await Promise.all([freshDatabases({ seed: {} }), freshDatabases({ migrate: false })])
    standIn = await startRealtimeStandIn({ databaseUrl: dbs.workspaceUrl, idlePollIntervalMs: 20 })
  }, 60_000)

  afterAll(async () => {
    await standIn?.close()
    await Promise.all([dbs?.drop(), bare?.drop()])
  })

  const env = (d: Databases, extra: Record<string, string> = {}) => ({
    NEON_DATABASE_URL: d.neonUrl,
    SUPABASE_DATABASE_URL: d.workspaceUrl,
    ENRICH_SYNC_SLOT: "t_check",
    ...extra
  })

  it("passes on migrated databases, one line per check, and creates nothing", async () => {
    const { code, lines, output } = await check(
      env(dbs, { SUPABASE_URL: standIn.url, SUPABASE_SERVICE_ROLE_KEY: "check-service-key" })
    )
    assert.strictEqual(code, 0, output)
    for (const name of [
      "configuration",
      "neon",
      "neon schema",
      "neon replication host",
      "neon logical replication",
      "neon tables",
      "neon publication",
      "neon slot",
      "workspace",
      "workspace schema",
      "realtime"
    ]) {
      assert.match(line(lines, name) ?? "", /^ok {4}/, `${name} in\n${output}`)
    }
    assert.match(line(lines, "neon slot") ?? "", /does not exist yet: syncd creates it when it starts/)
    assert.match(lines.at(-1) ?? "", /^syncd check: 11 passed, 0 failed$/)
    const slots = await query(
      dbs.neonUrl,
      "SELECT slot_name FROM pg_replication_slots WHERE slot_name = 't_check'"
    )
    assert.deepStrictEqual(slots, [], "check creates no slot")
    assert.notInclude(output, "check-service-key")
  })

  it("names the holder of a slot a running daemon leads", async () => {
    const daemon = startDaemon(
      env(dbs, { ENRICH_SYNC_SLOT: "t_check_held", ENRICH_SYNC_ANTI_ENTROPY_MINUTES: "0" })
    )
    try {
      await daemon.waitFor(/streaming changes/, 60_000)
      const { code, lines } = await check(env(dbs, { ENRICH_SYNC_SLOT: "t_check_held" }))
      assert.strictEqual(code, 0)
      assert.match(line(lines, "neon slot") ?? "", /held now by PID \d+ \(enrich-sync/)
    } finally {
      await daemon.stop()
    }
  }, 90_000)

  it("fails on databases without the project's tables, saying to migrate", async () => {
    const { code, lines } = await check(env(bare))
    assert.strictEqual(code, 1)
    assert.match(line(lines, "neon schema") ?? "", /^FAIL .*run `enrich-sync migrate`/)
    assert.match(line(lines, "workspace schema") ?? "", /^FAIL .*run `enrich-sync migrate`/)
    assert.match(lines.at(-1) ?? "", /failed \(fix the FAIL lines and run it again\)$/)
  })

  it("fails on a Neon without logical replication, saying how to turn it on", async () => {
    await withReplicaLevelNeon("check-replica", async (d) => {
      const { code, lines } = await check(env(d))
      assert.strictEqual(code, 1)
      assert.match(
        line(lines, "neon logical replication") ?? "",
        /^FAIL .*wal_level is replica.*Logical Replication/
      )
    })
  }, 90_000)

  it("fails on an unreachable server and on a bad configuration, without secrets", async () => {
    const unreachable = await check({
      NEON_DATABASE_URL: "postgresql://u:secret-one@127.0.0.1:1/x",
      SUPABASE_DATABASE_URL: "postgresql://u:secret-two@127.0.0.1:1/y"
    })
    assert.strictEqual(unreachable.code, 1)
    assert.match(line(unreachable.lines, "neon") ?? "", /^FAIL .*connection refused/)
    assert.isUndefined(line(unreachable.lines, "neon slot"), "no replication checks without a connection")
    assert.notMatch(unreachable.output, /secret-one|secret-two/)
    const bad = await check({ NEON_DATABASE_URL: "postgresql://u:p@h/x", ENRICH_SYNC_BATCH_SIZE: "lots" })
    assert.strictEqual(bad.code, 1)
    assert.match(bad.output, /FAIL {2}configuration: SUPABASE_DATABASE_URL is not set/)
    assert.match(bad.output, /FAIL {2}configuration: ENRICH_SYNC_BATCH_SIZE must be a whole number/)
  })
})
