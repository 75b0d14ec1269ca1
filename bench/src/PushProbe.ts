/**
 * The workspace -> Neon half of the daemon's benchmarks: an enricher's edits in the workspace (directly,
 * as a person's client writes them: never through the links) and, on Neon, a bench-only AFTER UPDATE
 * trigger on the invalid table that records Neon's `clock_timestamp()` when the daemon's push writes an
 * edited row (`bench.push_latency`).
 *
 * An edit completes a row (`enrichment_status = 'complete'`, the push's condition) and sets its `address`
 * to `wsbench <marker> <the workspace's clock_timestamp() in epoch microseconds>`, taken inside the edit's
 * UPDATE; the Neon stamp is taken inside the push's transaction (which also re-validates the row). Both
 * servers share this machine's clock: latency = Neon stamp - workspace stamp.
 *
 * Invariant: the trigger writes only `bench.push_latency`, and is dropped (`removePushProbe`) before the
 * phases that write Neon at high rates, so it costs them nothing.
 */
import { Company, qualified } from "@enrich-sync/core"
import { connect, type SqlClient } from "./Sql.ts"
import {
  dropStampTrigger,
  installStampProbe,
  measuredStampLatencies,
  measuredStamps,
  type StampProbe
} from "./StampProbe.ts"
import { distribution } from "./Stats.ts"

/** The prefix of an edit's `address`: `wsbench <marker> <epoch microseconds>`. */
export const pushPrefix = "wsbench "

const source = qualified(Company.sourceTable)
const workspace = qualified(Company.workspaceTable)

const probe: StampProbe = {
  table: "push_latency",
  function: "stamp_push",
  trigger: "bench_push_latency",
  on: source,
  key: Company.key,
  prefix: pushPrefix
}

/** Creates `bench.push_latency` and the trigger on Neon (idempotent). */
export const installPushProbe = (neon: SqlClient): Promise<void> => installStampProbe(neon, probe)

/** Drops the trigger (its table stays, with what it recorded). */
export const removePushProbe = (neon: SqlClient): Promise<number> => dropStampTrigger(neon, probe)

/** The Barton IDs of the Neon rows `from`..`to` (by id), in id order. */
export const keysOf = (neon: SqlClient, from: number, to: number): Promise<Array<string>> =>
  neon
    .query<{ key: string }>(
      `SELECT ${Company.key} AS key FROM ${source} WHERE id BETWEEN $1 AND $2 ORDER BY id`,
      [from, to]
    )
    .then((rows) => rows.map((r) => r.key))

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** What a run of enricher edits did. */
export interface EditRun {
  readonly rate: number
  readonly warmupEdits: number
  readonly measuredEdits: number
  /** how long one edit took from the client (ms) */
  readonly editMs: ReturnType<typeof distribution>
}

/**
 * One person's edits, one after the other at `rate` per second (edit i due at start + i/rate), each
 * completing one row of `keys` (a row each): `w` markers for the warm-up, `m` for the measured ones.
 */
export const enricherEdits = async (
  workspaceUrl: string,
  keys: ReadonlyArray<string>,
  options: { readonly rate: number; readonly warmupSeconds: number; readonly seconds: number }
): Promise<EditRun> => {
  const warmup = Math.round(options.warmupSeconds * options.rate)
  const count = Math.min(keys.length, warmup + Math.round(options.seconds * options.rate))
  const sql = await connect(workspaceUrl, "enrich-sync bench enricher")
  const durations: Array<number> = []
  try {
    const startedAt = performance.now() + 20
    for (let i = 0; i < count; i++) {
      const wait = startedAt + (i * 1000) / options.rate - performance.now()
      if (wait > 1) await sleep(wait)
      const began = performance.now()
      await sql.execute(
        `UPDATE ${workspace}
            SET address = '${pushPrefix}' || $2 || ' ' || (extract(epoch FROM clock_timestamp()) * 1000000)::bigint,
                enrichment_status = 'complete', enriched_by = 'bench enricher'
          WHERE ${Company.key} = $1`,
        [keys[i], `${i < warmup ? "w" : "m"}${i}`]
      )
      if (i >= warmup) durations.push(performance.now() - began)
    }
  } finally {
    await sql.end()
  }
  return {
    rate: options.rate,
    warmupEdits: Math.min(warmup, count),
    measuredEdits: Math.max(0, count - warmup),
    editMs: distribution(durations)
  }
}

/** How many measured (`m`) edits Neon has received. */
export const pushArrivals = (neon: SqlClient): Promise<number> => measuredStamps(neon, probe, "markers")

/** The latency of every measured edit, in milliseconds (the first arrival of each marker). */
export const pushLatencies = (neon: SqlClient): Promise<Array<number>> => measuredStampLatencies(neon, probe)

/**
 * A person completes `keys` in one statement (`address = '<tag> <neon id>'`, status `complete`); returns
 * the rows it changed and when it started and committed (performance.now).
 */
export const completeInOneStatement = async (
  workspaceUrl: string,
  keys: ReadonlyArray<string>,
  tag: string
) => {
  const sql = await connect(workspaceUrl, "enrich-sync bench enricher")
  try {
    const startedAt = performance.now()
    const rows = await sql.execute(
      `UPDATE ${workspace} SET address = $2 || ' ' || neon_id, enrichment_status = 'complete', enriched_by = 'bench enricher'
        WHERE ${Company.key} = ANY($1::text[])`,
      [keys, tag]
    )
    return { rows, startedAt, committedAt: performance.now() }
  } finally {
    await sql.end()
  }
}

/** How many Neon rows of ids `from`..`to` hold the completed edit (pushed, so re-validated with it). */
export const pushedRows = (neon: SqlClient, from: number, to: number, tag: string): Promise<number> =>
  neon
    .query<{ n: string }>(
      `SELECT count(*) AS n FROM ${source}
        WHERE id BETWEEN $1 AND $2 AND address = $3 || ' ' || id AND enrichment_status = 'complete'`,
      [from, to, tag]
    )
    .then(([row]) => Number(row?.n ?? 0))

/** How many of `keys` the workspace holds settled again (the push's outcome merged back, nothing pending). */
export const settledInWorkspace = (sql: SqlClient, keys: ReadonlyArray<string>): Promise<number> =>
  sql
    .query<{ n: string }>(
      `SELECT count(*) AS n FROM ${workspace} WHERE ${Company.key} = ANY($1::text[]) AND NOT sync_dirty`,
      [keys]
    )
    .then(([row]) => Number(row?.n ?? 0))
