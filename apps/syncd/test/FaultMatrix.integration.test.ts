/**
 * The fault matrix: one case per fault, each injected while both sides are edited (seeded edits of Neon
 * and of the workspace, see `support/TwoWayWorkload.ts`), each converging by itself, with no repair by the
 * test: a Neon server restart, a workspace server restart, the walsender terminated, the slot dropped while
 * the daemon is down, Realtime sockets dropped, a withheld "Subscribed", and the leader killed with a standby
 * present (which is ready within 10 s).
 *
 * The daemon follows the workspace through Realtime (the stand-in) with its poll an hour away and
 * anti-entropy off, so only the mechanisms under test (replication, Realtime, the catch-up after every
 * gap, the start-up reconcile) can bring the edits across. Every case ends with the checks of
 * `support/EndChecks.ts`: both sides equal by `verify` and by the test's own comparison, nothing lost, no
 * status backwards, no echo. The servers are the test's own, since cases restart them.
 */
import { writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import {
  type PostgresServer,
  type RealtimeStandIn,
  startPostgresServer,
  startRealtimeStandIn
} from "@enrich-sync/testing"
import { awaitConvergence } from "./support/Convergence.ts"
import { type DaemonProcess, eventually, query, startDaemon } from "./support/DaemonProcess.ts"
import { type Databases, freshDatabases } from "./support/Databases.ts"
import { endChecks } from "./support/EndChecks.ts"
import { awaitReadyz, healthPortOf } from "./support/HealthProbe.ts"
import { chaosSeed, SeededRandom } from "./support/SeededRandom.ts"
import { startTwoWayWorkload } from "./support/TwoWayWorkload.ts"
import { clearWriteAudit, installWriteAudit } from "./support/WriteAudit.ts"

const seed = chaosSeed()

// a plainly fake key, built at run time
const serviceKey = `sb_secret_${"FAKE".repeat(5)}`

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** One case's databases, Realtime stand-in and daemons. */
interface World {
  readonly dbs: Databases
  readonly slot: string
  standIn: RealtimeStandIn
  /** every daemon started, the latest last */
  readonly daemons: Array<DaemonProcess>
  /** starts one more daemon on the case's databases */
  readonly start: () => DaemonProcess
}

const standInFor = (workspaceUrl: string, port?: number) =>
  startRealtimeStandIn({
    databaseUrl: workspaceUrl,
    idlePollIntervalMs: 20,
    ...(port === undefined ? {} : { port })
  })

describe("syncd through each fault, under edits of both sides, converging by itself", () => {
  let neonServer: PostgresServer
  let workspaceServer: PostgresServer

  beforeAll(async () => {
    ;[neonServer, workspaceServer] = await Promise.all([
      startPostgresServer({ name: "neon-matrix" }),
      startPostgresServer({ name: "workspace-matrix" })
    ])
  }, 120_000)

  afterAll(async () => {
    await Promise.all([neonServer?.stop(), workspaceServer?.stop()])
  })

  /**
   * A case: the daemon live and in sync, edits of both sides for 1.5 s, the fault (which returns the daemon
   * that leads afterwards), 1.5 s more of edits, then the end checks.
   */
  const faultCase = (name: string, stream: number, fault: (world: World) => Promise<DaemonProcess>) =>
    it(name, async () => {
      const random = new SeededRandom(seed).fork(stream)
      const began = Date.now()
      const phases: Array<string> = []
      const lap = (phase: string) => phases.push(`${phase} at ${((Date.now() - began) / 1000).toFixed(1)} s`)
      const dbs = await freshDatabases({ seed: {}, neonServer, workspaceServer })
      const slot = `t_matrix_${stream}_${seed}`
      const world: World = {
        dbs,
        slot,
        standIn: await standInFor(dbs.workspaceUrl),
        daemons: [],
        start: () => {
          const daemon = startDaemon({
            NEON_DATABASE_URL: dbs.neonUrl,
            SUPABASE_DATABASE_URL: dbs.workspaceUrl,
            SUPABASE_URL: world.standIn.url,
            SUPABASE_SERVICE_ROLE_KEY: serviceKey,
            ENRICH_SYNC_SLOT: slot,
            ENRICH_SYNC_WORKSPACE_POLL_MS: "3600000",
            ENRICH_SYNC_ANTI_ENTROPY_MINUTES: "0",
            ENRICH_SYNC_HEARTBEAT_SECONDS: "1",
            ENRICH_SYNC_HEALTH_PORT: "0"
          })
          world.daemons.push(daemon)
          return daemon
        }
      }
      try {
        await installWriteAudit(dbs.neonUrl, dbs.workspaceUrl)
        lap("databases ready")
        await world.start().waitFor(/Realtime subscribed: catching up/, 60_000)
        lap("daemon live")
        await awaitConvergence(dbs.neonUrl, dbs.workspaceUrl, 30_000, { verify: false })
        await clearWriteAudit(dbs.neonUrl, dbs.workspaceUrl)
        lap("in sync")
        const workload = startTwoWayWorkload({
          neonUrl: dbs.neonUrl,
          workspaceUrl: dbs.workspaceUrl,
          random: random.fork(1)
        })
        let leader: DaemonProcess
        try {
          await sleep(1500)
          leader = await fault(world)
          await sleep(1500)
        } finally {
          await workload.stop()
        }
        lap("edits stopped")
        const report = await endChecks({
          neonUrl: dbs.neonUrl,
          workspaceUrl: dbs.workspaceUrl,
          log: workload.log,
          healthPort: await healthPortOf(leader),
          convergeWithinMs: 60_000,
          quietMs: 3000
        })
        lap("checked")
        console.info(`${name} (seed ${seed}): ${report.summary}; ${phases.join(", ")}`)
        assert.deepStrictEqual(
          report.problems,
          [],
          `${report.summary}; ${report.problems.length} problem(s):\n${report.problems.slice(0, 40).join("\n")}\n${report.forensics.join("\n")}`
        )
        assert.isNull(leader.process.exitCode, "the daemon that leads at the end is still running")
      } catch (error) {
        const file = join(tmpdir(), `enrich-sync-fault-matrix-${stream}-${seed}.log`)
        writeFileSync(
          file,
          world.daemons.map((d, i) => `==== daemon ${i + 1}\n${d.output()}`).join("\n"),
          "utf8"
        )
        throw new Error(
          `${name} failed (seed ${seed}, replay with ENRICH_SYNC_CHAOS_SEED=${seed}; the daemons' logs are in ${file}): ${error instanceof Error ? error.message : String(error)}`
        )
      } finally {
        await Promise.all(world.daemons.map((d) => d.kill()))
        await world.standIn.close()
        await dbs.drop().catch(() => undefined)
      }
    }, 180_000)

  const running = (world: World) => world.daemons.at(-1)!

  faultCase("a Neon server restart", 1, async (world) => {
    await neonServer.restart("fast")
    return running(world)
  })

  faultCase("a workspace server restart (Realtime reconnects to it as well)", 2, async (world) => {
    await workspaceServer.restart("fast")
    // Realtime's own replication from the workspace died with the server: it starts again, on the same URL,
    // and its sockets are closed meanwhile (what a hosted Realtime does when its database restarts)
    const port = Number(new URL(world.standIn.url).port)
    await world.standIn.close()
    world.standIn = await standInFor(world.dbs.workspaceUrl, port)
    return running(world)
  })

  faultCase("its walsender terminated, three times", 3, async (world) => {
    let terminated = 0
    for (let i = 0; i < 3; i++) {
      const [row] = await query(
        world.dbs.neonUrl,
        `SELECT count(*) FILTER (WHERE pg_terminate_backend(active_pid))::int AS n
           FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL`,
        [world.slot]
      )
      terminated += Number(row?.n)
      await sleep(400)
    }
    assert.isAtLeast(terminated, 1, "a walsender was terminated")
    return running(world)
  })

  faultCase("its slot dropped while it is down", 4, async (world) => {
    await running(world).kill()
    await eventually(
      "the slot is dropped",
      async () => {
        try {
          await query(world.dbs.neonUrl, `SELECT pg_drop_replication_slot($1)`, [world.slot])
          return true
        } catch {
          return false
        }
      },
      15_000
    )
    // edited meanwhile, with no slot to keep it: only the start-up reconcile can bring it
    await sleep(1000)
    const next = world.start()
    await next.waitFor(/syncd live/, 60_000)
    const [slot] = await query(
      world.dbs.neonUrl,
      `SELECT count(*)::int AS n FROM pg_replication_slots WHERE slot_name = $1`,
      [world.slot]
    )
    assert.strictEqual(slot?.n, 1, "the slot was created again")
    return next
  })

  faultCase("Realtime sockets dropped (abruptly, and with a close code)", 5, async (world) => {
    world.standIn.faults.dropConnections()
    await sleep(700)
    world.standIn.faults.dropConnections(1001)
    await sleep(700)
    world.standIn.faults.dropConnections()
    return running(world)
  })

  faultCase("Realtime withholding 'Subscribed' after a reconnect", 6, async (world) => {
    const port = await healthPortOf(running(world))
    world.standIn.faults.setSubscribeDelay(3000)
    world.standIn.faults.dropConnections()
    await awaitReadyz(
      port,
      "the daemon says it is not ready while Realtime has not subscribed",
      (r) => r.status === 503 && /Realtime/.test(r.reason ?? ""),
      2500
    )
    await awaitReadyz(port, "the daemon is ready once Realtime subscribed", (r) => r.status === 200, 10_000)
    world.standIn.faults.setSubscribeDelay(10)
    return running(world)
  })

  faultCase("the leader killed (SIGKILL) with a standby present", 7, async (world) => {
    const leader = running(world)
    const leaderPort = await healthPortOf(leader)
    const standby = world.start()
    const standbyPort = await healthPortOf(standby)
    await awaitReadyz(leaderPort, "the first daemon leads", (r) => r.status === 200, 20_000)
    await awaitReadyz(
      standbyPort,
      "the second stands by",
      (r) => r.status === 503 && r.role === "standby",
      20_000
    )
    await leader.kill()
    const killed = Date.now()
    await awaitReadyz(standbyPort, "the standby is ready", (r) => r.status === 200, 10_000)
    assert.isBelow(Date.now() - killed, 10_000)
    return standby
  })
})
