/**
 * One run of the bench at one round trip: fresh databases (a clone of the seeded Neon database and an
 * empty workspace), the links (latency proxies in front of Neon, the workspace and the Realtime stand-in,
 * or none on loopback), the baselines through those links (a single-row UPDATE's round trip on each, the
 * raw COPY pipe, the guide's 50-row INSERT loop, `count(*)` of both tables), the CLI stages and the daemon
 * with the links between them and the servers.
 *
 * Invariant: the run's links, children and databases are gone when it ends, interrupted or not; a part
 * that fails is reported in its place and the rest still runs.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import type { BenchOptions } from "./BenchOptions.ts"
import { benchBackfill, benchPromote, benchSecondBackfill, benchVerify } from "./CliBench.ts"
import { measureCopyBaseline } from "./CopyBaseline.ts"
import { measureCount } from "./CountBaseline.ts"
import { benchDaemon, type DaemonRanges, pickPort } from "./DaemonBench.ts"
import { measureInsertBaseline } from "./InsertBaseline.ts"
import { openLinks, targetOf } from "./Links.ts"
import { measureRoundTrip } from "./RoundTripBaseline.ts"
import { type BenchServers, runDatabases } from "./Servers.ts"
import type { StageContext } from "./StageRunner.ts"
import { round } from "./Stats.ts"
import { failedPart } from "./Target.ts"

/** What a run needs from the bench. */
export interface RunContext {
  readonly servers: BenchServers
  readonly options: BenchOptions
  readonly rttMs: number
  readonly workDir: string
  readonly postmasters: {
    readonly neonPostmaster: number | null
    readonly workspacePostmaster: number | null
  }
  /** `verify`'s seconds in this bench's loopback run (null: none, or not yet) */
  readonly loopbackVerifySeconds: number | null
  readonly log: (line: string) => void
}

/** Runs `effect`; a failure becomes `{ error, pass: false }` in the results instead of ending the run. */
const section = <A, E>(log: (line: string) => void, name: string, effect: Effect.Effect<A, E>) =>
  Effect.catchCause(effect, (cause) => {
    if (Cause.hasInterruptsOnly(cause)) return Effect.failCause(cause as Cause.Cause<never>)
    log(`${name} failed: ${Cause.pretty(cause).split("\n")[0]}`)
    return Effect.succeed(failedPart(Cause.squash(cause)))
  })

/** The ids each part of the daemon's run writes (the promoted rows first, then one range per phase). */
export const idRanges = (options: BenchOptions): DaemonRanges => {
  const promoted = options.promoteRows
  const bulk = { from: promoted + 1, to: promoted + options.bulkRows }
  const pushLatencyRows = Math.ceil(
    options.pushLatencyRate * (options.pushLatencyWarmupSeconds + options.pushLatencySeconds)
  )
  const pushLatency = { from: bulk.to + 1, to: bulk.to + pushLatencyRows }
  const pushBulk = { from: pushLatency.to + 1, to: pushLatency.to + options.pushRows }
  const remaining = options.rows - pushBulk.to
  const latencyRows = Math.min(
    options.latencyRate * (options.latencyWarmupSeconds + options.latencySeconds),
    Math.floor(remaining / 2)
  )
  const latency = { from: pushBulk.to + 1, to: pushBulk.to + latencyRows }
  return { bulk, pushLatency, pushBulk, latency, stream: { from: latency.to + 1, to: options.rows } }
}

/** The mean of the two links' round trips (ms), null when either is missing. */
const meanRoundTrip = (a: number | null, b: number | null) =>
  a === null || b === null ? null : round((a + b) / 2, 2)

/** One run at `context.rttMs` (see the module header). */
export const benchRun = (context: RunContext) =>
  Effect.scoped(
    Effect.gen(function* () {
      const { options, rttMs, log, servers } = context
      const name = `rtt${rttMs}`
      log(
        `run at ${rttMs} ms round trips: fresh databases${rttMs === 0 ? " (loopback, no links)" : ", links"}`
      )
      const dbs = yield* runDatabases(servers, name)
      const realtimePort = yield* Effect.promise(pickPort)
      const links = yield* openLinks(rttMs, {
        neon: targetOf(dbs.neonUrl),
        workspace: targetOf(dbs.workspaceUrl),
        realtime: { host: "127.0.0.1", port: realtimePort }
      })
      const subjects = { ...context.postmasters, links: links.pid }
      const linked = {
        neonUrl: links.url("neon", dbs.neonUrl),
        workspaceUrl: links.url("workspace", dbs.workspaceUrl)
      }
      const results: Record<string, unknown> = {}

      log(`[${name}] baseline: single-row UPDATE round trips on each link`)
      const roundTrip = yield* Effect.promise(async () => ({
        neon: await measureRoundTrip(linked.neonUrl, dbs.neonUrl, options.roundTripSamples),
        workspace: await measureRoundTrip(linked.workspaceUrl, dbs.workspaceUrl, options.roundTripSamples)
      }))
      const roundTripMs = meanRoundTrip(roundTrip.neon.ms, roundTrip.workspace.ms)
      results.roundTrip = { ms: roundTripMs, note: "the mean of both links' medians", ...roundTrip }
      log(`[${name}] round trip: ${roundTripMs} ms`)

      if (!options.skip.has("cli")) {
        const stage: StageContext = {
          rttMs,
          neonUrl: dbs.neonUrl,
          workspaceUrl: dbs.workspaceUrl,
          linked,
          workDir: context.workDir,
          subjects,
          profile: options.profile,
          program: options.program,
          links
        }
        log(`[${name}] baseline: raw COPY pipe Neon -> workspace`)
        const copy = yield* Effect.promise(() =>
          measureCopyBaseline(linked.neonUrl, linked.workspaceUrl, options.rows, subjects)
        )
        results.copyBaseline = copy
        log(`[${name}] baseline COPY: ${copy.rowsPerSecond} rows/s`)
        log(`[${name}] baseline: batched INSERT of 50 rows on ${options.insertSample} rows`)
        const insert = yield* measureInsertBaseline(
          linked.neonUrl,
          servers.supabase,
          options.insertSample,
          (url) => links.url("workspace", url)
        )
        results.insertBaseline = insert
        log(`[${name}] baseline INSERT: ${insert.rowsPerSecond} rows/s`)
        log(`[${name}] cli: backfill into the empty workspace`)
        const backfill = yield* section(log, "backfill", benchBackfill(stage, options.rows, copy, insert))
        results.backfill = backfill
        log(
          `[${name}] cli: backfill ${JSON.stringify({ seconds: (backfill as { seconds?: unknown }).seconds })}`
        )
        const firstSeconds = "seconds" in backfill ? backfill.seconds : null
        results.secondBackfill = yield* section(
          log,
          "second backfill",
          benchSecondBackfill(stage, firstSeconds)
        )
        log(`[${name}] baseline: count(*) of both tables`)
        const count = yield* Effect.promise(() => measureCount(linked.neonUrl, linked.workspaceUrl))
        results.countBaseline = count
        log(`[${name}] cli: verify`)
        results.verify = yield* section(
          log,
          "verify",
          benchVerify(stage, options.rows, count, rttMs === 0 ? null : context.loopbackVerifySeconds)
        )
        log(`[${name}] cli: promote ${options.promoteRows} PASSED rows`)
        results.promote = yield* section(log, "promote", benchPromote(stage, options.promoteRows))
      }

      if (!options.skip.has("daemon")) {
        results.daemon = yield* section(
          log,
          "daemon",
          benchDaemon({
            rttMs,
            neonUrl: dbs.neonUrl,
            workspaceUrl: dbs.workspaceUrl,
            links,
            realtimePort,
            slot: dbs.slot,
            workDir: context.workDir,
            subjects,
            ranges: idRanges(options),
            options,
            roundTripMs,
            log: (line) => log(`[${name}] ${line}`),
            profile: options.profile
          })
        )
      }
      results.links = rttMs === 0 ? null : { rttMs, carried: yield* Effect.promise(() => links.stats()) }
      return results
    })
  )
