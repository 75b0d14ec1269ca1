/**
 * The merge of Neon changes into workspace rows that nobody has written since the engine last did, on COPY
 * bytes from one database to the other: no row of it is ever a JavaScript object. For such a row (its
 * `xmin` is still the engine's transaction, `sync_xid`; no stored base, so no pending edit; active; Neon did
 * not change its enrichment status; the Neon version it was last merged with, `source_xmin`, is one the read
 * saw) the three-way merge is known without reading it: the row is its own base, so the new base is Neon's
 * projection and the edit time the later of both. `readCleanSlices` reads and projects a batch (one round
 * trip to Neon); `applyCleanSlices` writes it in slices, a short transaction each, all sent in one message
 * (one round trip to the workspace).
 *
 * Invariant: a row is written only if it still meets every condition above when it is updated (they are
 * checked on the row being updated), so a concurrent edit makes its key fall back to the full merge, never
 * lose, and so does a write of the engine made after the read (a push, whose values the read did not see:
 * the daemon reads a batch while it writes the one before); the keys returned as written are exactly the
 * rows written, and those returned as in sync are rows the full merge would leave as they are.
 */
import type { Entity } from "@enrich-sync/core"
import { applyingSetting, currentXidSql, qualified } from "@enrich-sync/core"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { SourceDatabase, WorkspaceDatabase } from "../store/Database.ts"
import type { DatabaseError } from "../store/DatabaseError.ts"
import { toDatabaseError } from "../store/DatabaseError.ts"
import { arrayLiteral, stringLiteral } from "../store/RecordSet.ts"
import { invisibleCountSql, untilVisible } from "../store/SourceStore.ts"
import { CopyProjection, projectionSourceColumns, projectionWorkspaceColumns } from "./CopyProjection.ts"

/** How `readCleanSlices` reads a batch and cuts it into slices. */
export interface SliceOptions {
  /**
   * the Neon transactions that changed the keys (32-bit ids, as the replication stream reports them): the
   * rows are read once they are all visible (see `awaitVisible`)
   */
  readonly xids?: ReadonlyArray<number>
  /**
   * rows of one page, as Neon ids count them (default 16: rows of about 450 bytes, as the entities' rows
   * are, fill a page of 8 kB at fillfactor 85 with about 16 of them)
   */
  readonly pageRows?: number
  /**
   * fewest rows worth a slice of their own (default 128): a slice's transaction has a fixed cost that the
   * HOT updates of fewer rows do not pay back (figures in `bench/README.md`)
   */
  readonly minSliceRows?: number
}

/** A batch of Neon rows, projected, in slices of workspace COPY text (`projectionWorkspaceColumns`). */
export interface CleanSlices {
  readonly slices: ReadonlyArray<ReadonlyArray<Buffer>>
  /** the Neon rows read (keys without a Neon row are not in any slice) */
  readonly rows: number
  /**
   * a Neon snapshot taken before the rows were read (`pg_current_snapshot()`, as text): a row version it
   * sees, the read saw too, or a later one
   */
  readonly snapshot: string
}

const newline = 0x0a

/** The field of the entity's Neon surrogate id (`neon_id` in the workspace): the order of the slices. */
const idField = (entity: Entity): number => entity.fields.findIndex((f) => f.workspace === "neon_id")

/**
 * The keys of a batch and their commit times reach the `COPY` through transaction-local settings, set with
 * the transaction's `BEGIN`, so its text is the same for every batch (statement statistics such as
 * `pg_stat_statements` keep one entry; they record the settings' statement with its values normalised).
 */
const keysSetting = "enrich_sync.batch_keys"
const commitsSetting = "enrich_sync.batch_commits"

const readSql = (entity: Entity) =>
  `COPY (SELECT ${projectionSourceColumns(entity, "greatest(t.updated_at, c.committed_at)")}
      FROM ${qualified(entity.sourceTable)} AS t
      JOIN unnest(current_setting('${keysSetting}')::text[], current_setting('${commitsSetting}')::timestamp[])
        AS c(key, committed_at) ON t.${entity.key} = c.key
     ORDER BY t.${entity.fields[idField(entity)]?.source ?? entity.key}) TO STDOUT`

/** The lines of COPY text (each with its newline). */
const linesOf = (text: Buffer): Array<Buffer> => {
  const lines: Array<Buffer> = []
  for (let from = 0; from < text.length; ) {
    const nl = text.indexOf(newline, from)
    const end = nl === -1 ? text.length : nl + 1
    lines.push(text.subarray(from, end))
    from = end
  }
  return lines
}

/** The integer in column `column` of a COPY line, or null. */
const integerAt = (line: Buffer, column: number): number | null => {
  let from = 0
  for (let c = 0; c < column; c++) from = line.indexOf(0x09, from) + 1
  let value = 0
  let digits = 0
  for (let i = from; i < line.length; i++) {
    const b = line[i]!
    if (b < 0x30 || b > 0x39) break
    value = value * 10 + b - 0x30
    digits++
  }
  return digits === 0 || digits > 15 ? null : value
}

/**
 * How many slices the rows need: rows whose ids fall in one run of `pageRows` ids most likely share a page
 * (tables fill in id order), and about two new row versions fit in a page's free space; so the fullest
 * run, halved, and no more than keep `minSliceRows` rows each. Rows spread over the table take one slice.
 */
const sliceCount = (ids: ReadonlyArray<number | null>, pageRows: number, minSliceRows: number): number => {
  const runs = new Map<number, number>()
  let fullest = 1
  for (const id of ids) {
    if (id === null) continue
    const run = Math.floor(id / pageRows)
    const n = (runs.get(run) ?? 0) + 1
    runs.set(run, n)
    if (n > fullest) fullest = n
  }
  return Math.max(1, Math.min(Math.ceil(fullest / 2), Math.floor(ids.length / minSliceRows)))
}

/** Deals lines (in id order) out to `n` slices, line `i` to slice `i mod n`. */
const dealLines = (lines: ReadonlyArray<Buffer>, n: number): Array<Buffer> => {
  const parts: Array<Array<Buffer>> = Array.from({ length: n }, () => [])
  for (let i = 0; i < lines.length; i++) parts[i % n]!.push(lines[i]!)
  return parts.map((p) => Buffer.concat(p))
}

/**
 * The statement sent before the read, in the same message: it sets the batch's keys and commit times for
 * the `COPY` (empty while a transaction of `xids` is not visible yet, so the `COPY` then reads nothing) and
 * returns Neon's snapshot and how many of `xids` are not visible yet.
 */
const settingsSql = (
  keys: ReadonlyArray<string>,
  committed: ReadonlyMap<string, string | null>,
  xids: ReadonlyArray<number>
) => {
  const when = (value: string) => `CASE WHEN v.invisible = 0 THEN ${value} ELSE '{}' END`
  return `SELECT set_config('${keysSetting}', ${when(stringLiteral(arrayLiteral(keys)))}, true),
      set_config('${commitsSetting}', ${when(stringLiteral(arrayLiteral(keys.map((k) => committed.get(k) ?? null))))}, true),
      pg_current_snapshot()::text AS snapshot, v.invisible
    FROM (${invisibleCountSql(`${stringLiteral(arrayLiteral([...new Set(xids)].map(String)))}::bigint[]`)}) AS v`
}

/**
 * Reads the Neon rows of `keys` with one `COPY (...) TO STDOUT` (Neon joins each key with the commit time of
 * the transaction that changed it, when known, and prints `max(updated_at, commit time)` as the edit time),
 * projects and hashes them with `CopyProjection`, and deals them out to slices: row `i`, in Neon id order,
 * to slice `i mod n`, with `n` as small as the rows' density allows (see `sliceCount`). Rows next to each
 * other sit on the same page, and a page has room for only a few new row versions until the transaction
 * that wrote them ends: a slice of every n-th row fits in its pages, so its updates stay HOT (no index
 * entry written).
 *
 * One message to Neon: the settings' statement (which also checks that the transactions `xids` are
 * visible, and takes the snapshot) and the `COPY`, one implicit transaction; while a transaction is not
 * visible yet, the message is sent again a moment later.
 */
export const readCleanSlices = (
  entity: Entity,
  keys: ReadonlyArray<string>,
  committed: ReadonlyMap<string, string | null>,
  slicing: SliceOptions = {}
): Effect.Effect<CleanSlices, DatabaseError, SourceDatabase> =>
  Effect.gen(function* () {
    if (keys.length === 0) return { slices: [], rows: 0, snapshot: "" }
    const source = yield* SourceDatabase
    const message = `${settingsSql(keys, committed, slicing.xids ?? [])};\n${readSql(entity)}`
    const read = yield* untilVisible(
      Effect.map(
        Effect.scoped(Effect.flatMap(source.session, (s) => s.exchange(message))),
        ({ rows: [row], copyOut }) => ({
          invisible: Number(row?.[3] ?? 0),
          read: { text: copyOut, snapshot: String(row?.[2] ?? "") }
        })
      )
    )
    const { text, snapshot } = read
    const lines = linesOf(text)
    if (lines.length === 0) return { slices: [], rows: 0, snapshot }
    const idAt = idField(entity)
    const n =
      idAt === -1
        ? 1
        : sliceCount(
            lines.map((line) => integerAt(line, idAt)),
            slicing.pageRows ?? 16,
            slicing.minSliceRows ?? 128
          )
    const projection = new CopyProjection(entity, new Date(yield* Clock.currentTimeMillis).toISOString())
    const slices = yield* Effect.try({
      try: () => dealLines(lines, n).map((part) => [...projection.write(part), ...projection.end()]),
      catch: (e) => toDatabaseError("source", e, `projecting changed ${entity.label} records`)
    })
    return { slices, rows: lines.length, snapshot }
  })

/** The staging table of an entity: one per session, emptied at every commit. */
const stagingTable = (entity: Entity) => `enrich_sync_clean_${entity.name}`

/** The Neon snapshot of the read (`CleanSlices.snapshot`), for the update (set with its transaction). */
export const snapshotSetting = "enrich_sync.source_snapshot"

/** A snapshot as `pg_snapshot` prints it: `xmin:xmax:xip,...` */
const snapshotText = /^\d+:\d+:[\d,]*$/

/**
 * A slice's transaction opens, marks itself as the engine's, records the snapshot of the Neon read, makes
 * sure the staging table exists, and receives the rows (`updateSql` follows).
 */
const copySql = (entity: Entity, snapshot: string) =>
  `BEGIN; SET LOCAL ${applyingSetting} = on; SET LOCAL ${snapshotSetting} = '${snapshot}';
   CREATE TEMPORARY TABLE IF NOT EXISTS ${stagingTable(entity)} ON COMMIT DELETE ROWS AS
     SELECT ${projectionWorkspaceColumns(entity).join(", ")} FROM ${qualified(entity.workspaceTable)} WITH NO DATA;
   COPY pg_temp.${stagingTable(entity)} (${projectionWorkspaceColumns(entity).join(", ")}) FROM STDIN`

/**
 * The 64-bit id of the Neon transaction that made the row version the workspace row was last merged with
 * (`source_xmin`, 32 bits), as near as can be to the snapshot's `xmax` (as `awaitVisible` does); negative
 * when it would precede the first epoch, which no real one does.
 */
const mergedXid8 = (() => {
  const near = "(snap.epoch | t.source_xmin)"
  return `CASE WHEN ${near} - snap.xmax > 2147483648 THEN ${near} - 4294967296
               WHEN snap.xmax - ${near} > 2147483648 THEN ${near} + 4294967296
               ELSE ${near} END`
})()

/**
 * The read's snapshot as integers, worked out once per statement (a materialized CTE: as a subquery the
 * planner folded it into the row filter, where it parsed the snapshot's text again, several times, for
 * every row, half the update's time). `epoch`: the high 32 bits of `xmax`.
 */
export const snapshotBoundsSql = `WITH snap AS MATERIALIZED (
      SELECT pg_snapshot_xmin(v.snap)::text::bigint AS xmin,
             pg_snapshot_xmax(v.snap)::text::bigint AS xmax,
             (pg_snapshot_xmax(v.snap)::text::bigint >> 32) << 32 AS epoch,
             ARRAY(SELECT pg_snapshot_xip(v.snap)::text::bigint) AS xip
        FROM (SELECT current_setting('${snapshotSetting}')::pg_snapshot AS snap) AS v)`

/**
 * Whether the row's Neon version (`mergedXid8`) had completed when the read's snapshot was taken, as
 * `pg_visible_in_snapshot` decides it (before `xmin`: yes; at or after `xmax`: no; between: unless in
 * progress then), on the integers of `snapshotBoundsSql`.
 */
export const mergedVisibleSql = `CASE WHEN ${mergedXid8} < 0 THEN false
               WHEN ${mergedXid8} < snap.xmin THEN true
               WHEN ${mergedXid8} >= snap.xmax THEN false
               ELSE ${mergedXid8} <> ALL (snap.xip) END`

/**
 * A slice's one statement after its COPY: the update of the rows that meet every condition (see the module
 * header), and the keys of the staged rows it did not write that are already in sync (`inSyncSql`, looked
 * up only for those: the rows it writes would be in sync after it), then the commit.
 */
const updateSql = (entity: Entity) => {
  const fields = entity.fields.filter((f) => f.name !== entity.key)
  const status = fields.find((f) => f.kind === "status")
  const sets = fields.map((f) => `${f.workspace} = s.${f.workspace}`)
  return `${snapshotBoundsSql}, written AS (
    UPDATE ${qualified(entity.workspaceTable)} AS t SET
      ${sets.join(",\n      ")},
      last_sync_hash = s.last_sync_hash,
      updated_at = greatest(t.updated_at, s.updated_at),
      pulled_from_neon_at = now() AT TIME ZONE 'UTC',
      source_xmin = s.source_xmin,
      sync_xid = ${currentXidSql}
    FROM pg_temp.${stagingTable(entity)} AS s, snap
    WHERE t.${entity.key} = s.${entity.key}
      AND t.xmin::text::bigint = t.sync_xid
      -- the Neon version the row holds is one the read saw (or an older one): an engine write since the read
      -- (a push that made the row clean) must not be undone by what the read found before it
      AND t.source_xmin IS NOT NULL
      AND ${mergedVisibleSql}
      AND t.sync_base IS NULL AND NOT t.sync_dirty AND t.sync_state = 'active'
      AND t.last_sync_hash IS NOT NULL AND t.last_sync_hash <> s.last_sync_hash${
        status === undefined
          ? ""
          : `
      AND (t.${status.workspace} = s.${status.workspace}
           OR enrich_sync.canonical_status(t.${status.workspace}) = to_json(s.${status.workspace})::text)`
      }
    RETURNING t.${entity.key} AS key)
    SELECT key, 'written' AS outcome FROM written
    UNION ALL
    ${inSyncSql(entity)} WHERE s.${entity.key} NOT IN (SELECT key FROM written);
    COMMIT`
}

/**
 * The keys whose workspace row is untouched since the engine's last write and already holds the Neon
 * version read (its hash and its `source_xmin`): the full merge would find nothing to do for them (a Neon
 * change that set the values the row holds, such as the echo of the engine's own push).
 *
 * Each staged key looks up its row by the key's index (`OFFSET 0` keeps the subquery from being flattened
 * into a join): the planner has no estimate for `xmin = sync_xid` and, on a table not analyzed yet (just
 * backfilled), took the workspace side for one row and joined every row of it with every staged row: 2 s
 * a slice of 500 keys on a table of 20,000 rows, growing with the table.
 */
export const inSyncSql = (entity: Entity) =>
  `SELECT s.${entity.key} AS key, 'in sync' AS outcome
     FROM pg_temp.${stagingTable(entity)} AS s
     CROSS JOIN LATERAL (
       SELECT 1 FROM ${qualified(entity.workspaceTable)} AS t
        WHERE t.${entity.key} = s.${entity.key}
          AND t.xmin::text::bigint = t.sync_xid
          AND t.sync_base IS NULL AND NOT t.sync_dirty AND t.sync_state = 'active'
          AND t.last_sync_hash = s.last_sync_hash AND t.source_xmin = s.source_xmin
        OFFSET 0) AS held`

/** What `applyCleanSlices` did with the keys of the slices. */
export interface CleanApplied {
  /** the rows written */
  readonly written: ReadonlySet<string>
  /** rows nobody touched that already held what was read: nothing to write */
  readonly inSync: ReadonlySet<string>
}

/**
 * Writes the slices (see the module header), each in a transaction of its own, in one message: the server
 * runs them one after the other, so each slice's update starts once the slice before it has committed (an
 * update running at the same time as another would keep it from pruning the row versions the slice before
 * them left, and pages would fill up again). Returns the keys written and those already in sync; the others
 * (touched since, pending edits, a status change, no workspace row) need the full merge. A failure leaves the
 * slices already committed written, which a second run finds unchanged, and the session's connection is
 * closed (its transaction rolls back).
 */
export const applyCleanSlices = (
  entity: Entity,
  read: CleanSlices
): Effect.Effect<CleanApplied, DatabaseError, WorkspaceDatabase> =>
  Effect.gen(function* () {
    const { slices, snapshot } = read
    if (slices.length === 0) return { written: new Set<string>(), inSync: new Set<string>() }
    if (!snapshotText.test(snapshot)) return yield* Effect.die(new Error(`not a Neon snapshot: ${snapshot}`))
    const db = yield* WorkspaceDatabase
    const slice = `${copySql(entity, snapshot)};\n${updateSql(entity)}`
    const answer = yield* Effect.scoped(
      Effect.flatMap(db.session, (session) => session.exchange(slices.map(() => slice).join(";\n"), slices))
    )
    const written = new Set<string>()
    const inSync = new Set<string>()
    for (const [key, outcome] of answer.rows) (outcome === "written" ? written : inSync).add(String(key))
    return { written, inSync }
  })
