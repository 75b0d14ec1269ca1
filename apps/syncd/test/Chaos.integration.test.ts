/**
 * The randomized two-way kill test. A seeded generator edits Neon as its applications do (updates of
 * random fields, multi-row transactions, inserts, deletes) and the workspace as two enrichers do (field
 * edits, the status moving forward to complete), while the daemon follows the workspace through Realtime
 * (the stand-in) with its faults switched on at random (dropped sockets, a withheld "Subscribed", lost
 * events, truncated payloads, crashed channels), and is killed with SIGKILL at random moments, at least
 * `ENRICH_SYNC_CHAOS_KILLS` (20) times over at least `ENRICH_SYNC_CHAOS_SECONDS` (45) seconds; then the
 * edits stop, the enrichers complete what they have in progress, and the daemon is left to settle.
 *
 * At the end (see `support/EndChecks.ts`): both sides are equal by `enrich-sync verify` and by the test's
 * own comparison; no value is lost: the last value each side wrote to each field of each record is the final
 * value on both sides, or lost a conflict to the other side's edit and is in `sync_conflicts` with both
 * values, or was replaced by an edit of the other side made after seeing it (`support/EditLog.ts` says this
 * precisely); a record deleted on Neon is kept in the workspace, marked removed; no enrichment status ever
 * moved backwards on either side; and once both sides agree the engine's writes stop, having been a bounded
 * number per edit.
 *
 * The seed is printed when the run fails; `ENRICH_SYNC_CHAOS_SEED=<seed>` replays its decisions (which
 * edits, values, faults and kill delays; the interleaving of real processes is the machine's).
 */
import { writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { type RealtimeStandIn, startRealtimeStandIn } from "@enrich-sync/testing"
import { awaitConvergence } from "./support/Convergence.ts"
import { type DaemonProcess, startDaemon } from "./support/DaemonProcess.ts"
import { type Databases, freshDatabases } from "./support/Databases.ts"
import { endChecks } from "./support/EndChecks.ts"
import { healthPortOf } from "./support/HealthProbe.ts"
import { chaosSeed, positiveFromEnv, SeededRandom } from "./support/SeededRandom.ts"
import { startTwoWayWorkload } from "./support/TwoWayWorkload.ts"
import { clearWriteAudit, installWriteAudit } from "./support/WriteAudit.ts"

const seed = chaosSeed()
const seconds = positiveFromEnv("ENRICH_SYNC_CHAOS_SECONDS", 45)
const minKills = positiveFromEnv("ENRICH_SYNC_CHAOS_KILLS", 20)

// a plainly fake key, built at run time
const serviceKey = `sb_secret_${"FAKE".repeat(5)}`

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Switches the stand-in's faults on (and off) at random until `stop`; returns how many of each it injected. */
const injectRealtimeFaults = async (standIn: RealtimeStandIn, random: SeededRandom, stop: Promise<void>) => {
  const counts: Record<string, number> = {}
  let stopped = false
  void stop.then(() => {
    stopped = true
  })
  const fault = standIn.faults
  const faults: ReadonlyArray<readonly [string, () => void]> = [
    ["dropped sockets", () => fault.dropConnections(random.chance(0.5) ? undefined : 1001)],
    [
      "withheld Subscribed",
      () => {
        fault.setSubscribeDelay(random.int(500, 4000))
        fault.dropConnections()
      }
    ],
    ["Subscribed on time", () => fault.setSubscribeDelay(10)],
    ["lost events", () => fault.loseChanges(random.int(1, 5))],
    ["truncated payloads", () => fault.setMaxRecordBytes(random.int(200, 1500))],
    ["whole payloads", () => fault.setMaxRecordBytes(1_048_576)],
    ["crashed channels", () => fault.crashChannels()],
    ["Subscribed again", () => fault.resendSubscribed()]
  ]
  while (!stopped) {
    await Promise.race([sleep(random.int(300, 2500)), stop])
    if (stopped) break
    const [name, inject] = random.pick(faults)
    inject()
    counts[name] = (counts[name] ?? 0) + 1
  }
  fault.setSubscribeDelay(10)
  fault.setMaxRecordBytes(1_048_576)
  return counts
}

describe("syncd under random edits on both sides, Realtime faults and SIGKILL", () => {
  let dbs: Databases | undefined
  let standIn: RealtimeStandIn | undefined
  const runs: Array<DaemonProcess> = []

  afterAll(async () => {
    await runs.at(-1)?.stop()
    await standIn?.close()
    await dbs?.drop()
  })

  it(
    `converges with nothing lost, no status backwards and no echo (seed ${seed})`,
    async () => {
      const random = new SeededRandom(seed)
      const editsRandom = random.fork(1)
      const faultRandom = random.fork(2)
      const killRandom = random.fork(3)
      const started = Date.now()
      try {
        dbs = await freshDatabases({ seed: {} })
        await installWriteAudit(dbs.neonUrl, dbs.workspaceUrl)
        standIn = await startRealtimeStandIn({ databaseUrl: dbs.workspaceUrl, idlePollIntervalMs: 20 })
        const env = {
          NEON_DATABASE_URL: dbs.neonUrl,
          SUPABASE_DATABASE_URL: dbs.workspaceUrl,
          SUPABASE_URL: standIn.url,
          SUPABASE_SERVICE_ROLE_KEY: serviceKey,
          ENRICH_SYNC_SLOT: `t_chaos_${seed}`,
          // the poll is Realtime's safety net for the events it loses silently (the "lost events" fault)
          ENRICH_SYNC_WORKSPACE_POLL_MS: "2000",
          ENRICH_SYNC_ANTI_ENTROPY_MINUTES: "0",
          ENRICH_SYNC_HEARTBEAT_SECONDS: "1",
          ENRICH_SYNC_HEALTH_PORT: "0"
        }
        const start = () => {
          const daemon = startDaemon(env)
          runs.push(daemon)
          return daemon
        }
        let daemon = start()
        await daemon.waitFor(/syncd live/, 60_000)
        await awaitConvergence(dbs.neonUrl, dbs.workspaceUrl, 30_000, { verify: false })
        await clearWriteAudit(dbs.neonUrl, dbs.workspaceUrl)

        const workload = startTwoWayWorkload({
          neonUrl: dbs.neonUrl,
          workspaceUrl: dbs.workspaceUrl,
          random: editsRandom
        })
        let stop = () => {}
        const stopped = new Promise<void>((resolve) => {
          stop = resolve
        })
        const faulting = injectRealtimeFaults(standIn, faultRandom, stopped)

        let kills = 0
        const until = Date.now() + seconds * 1000
        while (Date.now() < until || kills < minKills) {
          // mostly while it follows both sides; sometimes while it starts up and reconciles
          if (killRandom.chance(0.7)) {
            await daemon.waitFor(/syncd live/, 60_000)
            await sleep(killRandom.int(0, 1000))
          } else await sleep(killRandom.int(200, 1500))
          if (daemon.process.exitCode !== null)
            throw new Error(
              `the daemon exited by itself (code ${daemon.process.exitCode}):\n${daemon.output()}`
            )
          await daemon.kill()
          kills++
          await sleep(killRandom.int(0, 300))
          daemon = start()
        }
        stop()
        const faults = await faulting
        await workload.stop()

        const report = await endChecks({
          neonUrl: dbs.neonUrl,
          workspaceUrl: dbs.workspaceUrl,
          log: workload.log,
          healthPort: await healthPortOf(daemon),
          convergeWithinMs: 60_000,
          quietMs: 5000
        })
        const figures = `${kills} kills, Realtime faults ${JSON.stringify(faults)}; ${report.summary}; ${Math.round((Date.now() - started) / 1000)} s`
        console.info(`chaos seed ${seed}: ${figures}`)
        assert.deepStrictEqual(
          report.problems,
          [],
          `${figures}; ${report.problems.length} problem(s):\n${report.problems.slice(0, 40).join("\n")}\n${report.forensics.join("\n")}`
        )
        assert.isAtLeast(kills, minKills)
      } catch (error) {
        const file = join(tmpdir(), `enrich-sync-chaos-${seed}.log`)
        writeFileSync(file, runs.map((d, i) => `==== daemon run ${i + 1}\n${d.output()}`).join("\n"), "utf8")
        throw new Error(
          `the chaos run with seed ${seed} failed (replay it with ENRICH_SYNC_CHAOS_SEED=${seed}; the daemon's logs are in ${file}): ${error instanceof Error ? error.message : String(error)}`
        )
      }
    },
    (seconds + 180) * 1000
  )
})
