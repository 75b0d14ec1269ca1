/**
 * `verify`: compares both sides without shipping rows. Each database hashes its own rows in SQL and folds
 * them into buckets (by the md5 of the key); only buckets whose digests differ are listed key by key and
 * diffed. What it reports, per entity:
 * - keys on Neon missing from the workspace, and active workspace rows whose Neon row is gone;
 * - rows whose Neon projection differs from what both sides last agreed on (`last_sync_hash`): a Neon change
 *   not merged yet;
 * - rows whose workspace projection differs from it: edits not synced yet (pending pushes included).
 *
 * Invariant: verify only reads; `repair` writes only through the merge, of exactly the keys it reported.
 */
import type { Entity, MergePolicy } from "@enrich-sync/core"
import { qualified, sourceHashFunction, workspaceHashFunction } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import type { ApplyStats } from "../merge/MergeApply.ts"
import { applyKeysInBatches } from "../merge/MergeApply.ts"
import { SourceDatabase, WorkspaceDatabase } from "../store/Database.ts"
import { mayDifferSql } from "../store/WorkspaceStore.ts"
import type { EntityStage } from "./EntityStage.ts"
import { timed } from "./EntityStage.ts"
import type { Progress } from "./Progress.ts"

/** Options of a verify. */
export interface VerifyOptions {
  /** number of buckets (default 4096) */
  readonly buckets?: number
  /** merge the differing keys afterwards (default false) */
  readonly repair?: boolean
  /**
   * compare every bucket by content (Neon projections against agreed hashes) instead of by row versions
   * first, and re-hash every workspace row instead of trusting untouched ones (default false)
   */
  readonly deep?: boolean
  /** the policy used by `repair` */
  readonly policy?: MergePolicy
  /** keys merged per batch by `repair` (default 2000) */
  readonly batchSize?: number
  /** most keys listed per category in the report (default 1000; counts are always complete) */
  readonly listLimit?: number
  readonly onProgress?: (progress: Progress) => void
}

/** Keys of one category, counted in full, listed up to the limit. */
export interface KeyList {
  readonly count: number
  readonly keys: ReadonlyArray<string>
}

/** What a verify of one entity found. */
export interface VerifyReport {
  readonly entity: Entity["name"]
  readonly neonRows: number
  /** active workspace rows */
  readonly workspaceRows: number
  readonly buckets: number
  /** how buckets were compared first: row versions (`xmin` / `source_xmin`) or content (deep) */
  readonly compared: "versions" | "content"
  /** buckets whose first comparison differed (by versions, they may still agree by content) */
  readonly differingBuckets: number
  readonly missingInWorkspace: KeyList
  readonly missingOnNeon: KeyList
  /** Neon changed since the last agreement */
  readonly neonChanged: KeyList
  /** the workspace changed since the last agreement (unsynced edits, pending pushes included) */
  readonly unsyncedEdits: KeyList
  /** rows whose stored base does not hash to their `last_sync_hash` (deep only) */
  readonly corruptBase: KeyList
  readonly inSync: boolean
  readonly repaired: ApplyStats | null
  readonly durationMs: number
}

const bucketOf = (key: string, buckets: number) =>
  `(('x' || substr(md5(${key}), 1, 8))::bit(32)::bigint % ${buckets})::int`

/** Folds a hash column into a 60-bit number whose sum is the bucket digest. */
const fold = (hash: string) => `('x' || substr(${hash}, 1, 15))::bit(60)::bigint`

/** A row's key and version, folded. */
const foldVersion = (key: string, version: string) =>
  fold(`md5(${key} || '/' || coalesce(${version}::text, ''))`)

const workspaceHash = (entity: Entity, deep: boolean) =>
  deep
    ? `${workspaceHashFunction(entity)}(t)`
    : `CASE WHEN ${mayDifferSql} THEN ${workspaceHashFunction(entity)}(t) ELSE t.last_sync_hash END`

const limited = (keys: ReadonlyArray<string>, limit: number): KeyList => ({
  count: keys.length,
  keys: keys.slice(0, limit)
})

/**
 * Verifies one entity (see the module header). By default the buckets are compared by row versions first:
 * Neon folds each row's key with its `xmin`, the workspace each row's key with the `source_xmin` it last
 * merged, which costs no projection; only buckets whose versions differ are compared by content (a row
 * updated on Neon without a change of content moves its version, and its bucket is then found equal by
 * content). The workspace side trusts a row's stored hash unless a person touched it since the engine last
 * merged it (`sync_dirty`) or it holds edits not synced yet (`sync_base`). `deep` compares every bucket by content, re-hashes every row, and checks each
 * stored base against its hash.
 */
export const verifyEntity: EntityStage<VerifyOptions, VerifyReport> = (entity, options = {}) =>
  Effect.gen(function* () {
    const buckets = options.buckets ?? 4096
    const limit = options.listLimit ?? 1000
    const deep = options.deep ?? false
    const source = yield* SourceDatabase
    const workspace = yield* WorkspaceDatabase
    const sourceTable = qualified(entity.sourceTable)
    const workspaceTable = qualified(entity.workspaceTable)
    const report = (stage: string, done: number, total: number) =>
      options.onProgress?.({ stage, entity: entity.name, done, total })

    // phase 1: bucket digests on both sides at once. By versions: Neon folds keys with xmin, the workspace
    // keys with the source_xmin it merged. Deep: Neon folds its projection hashes, the workspace the agreed
    // hashes (what Neon should hash to). Either way, of the workspace's active rows.
    report("verify: digests", 0, 2)
    const key = `t.${entity.key}`
    const [neonDigests, workspaceDigests, [localDrift]] = yield* Effect.all(
      [
        source.query(
          `SELECT b, count(*)::bigint AS n, sum(h)::text AS s
             FROM (SELECT ${bucketOf(key, buckets)} AS b,
                          ${deep ? fold(`${sourceHashFunction(entity)}(t)`) : foldVersion(key, "t.xmin")} AS h
                     FROM ${sourceTable} AS t) AS x
            GROUP BY b`
        ),
        workspace.query(
          `SELECT b, count(*)::bigint AS n, sum(h)::text AS s
             FROM (SELECT ${bucketOf(key, buckets)} AS b,
                          ${deep ? fold(`coalesce(t.last_sync_hash, '0')`) : foldVersion(key, "t.source_xmin")} AS h
                     FROM ${workspaceTable} AS t WHERE t.sync_state = 'active') AS x
            GROUP BY b`
        ),
        // the local check: rows whose projection moved away from their agreed hash
        workspace.query(
          `SELECT array_agg(t.${entity.key} ORDER BY t.${entity.key}) FILTER (WHERE ${workspaceHash(entity, deep)} IS DISTINCT FROM t.last_sync_hash) AS unsynced,
                  ${deep ? `array_agg(t.${entity.key} ORDER BY t.${entity.key}) FILTER (WHERE t.sync_base IS NOT NULL AND enrich_sync.sync_hash(t.sync_base) IS DISTINCT FROM t.last_sync_hash)` : "NULL::text[]"} AS corrupt
             FROM ${workspaceTable} AS t WHERE t.sync_state = 'active'${deep ? "" : ` AND ${mayDifferSql}`}`
        )
      ],
      { concurrency: "unbounded" }
    )
    report("verify: digests", 2, 2)
    const digest = (rows: ReadonlyArray<Record<string, unknown>>) =>
      new Map(rows.map((r) => [Number(r.b), `${String(r.n)}:${String(r.s)}`]))
    const neonByBucket = digest(neonDigests)
    const wsByBucket = digest(workspaceDigests)
    const differing: Array<number> = []
    for (let b = 0; b < buckets; b++) if (neonByBucket.get(b) !== wsByBucket.get(b)) differing.push(b)
    const count = (rows: ReadonlyArray<Record<string, unknown>>) => rows.reduce((n, r) => n + Number(r.n), 0)

    // phase 2: list the keys of differing buckets on both sides and diff them
    const missingInWorkspace: Array<string> = []
    const missingOnNeon: Array<string> = []
    const neonChanged: Array<string> = []
    if (differing.length > 0) {
      report("verify: diff", 0, differing.length)
      const [neonKeys, wsKeys] = yield* Effect.all(
        [
          source.query(
            `SELECT t.${entity.key} AS k, ${sourceHashFunction(entity)}(t) AS h FROM ${sourceTable} AS t
              WHERE ${bucketOf(`t.${entity.key}`, buckets)} = ANY($1::int[])`,
            [differing]
          ),
          workspace.query(
            `SELECT t.${entity.key} AS k, t.last_sync_hash AS h FROM ${workspaceTable} AS t
              WHERE t.sync_state = 'active' AND ${bucketOf(`t.${entity.key}`, buckets)} = ANY($1::int[])`,
            [differing]
          )
        ],
        { concurrency: "unbounded" }
      )
      const agreed = new Map(wsKeys.map((r) => [String(r.k), r.h as string | null]))
      for (const row of neonKeys) {
        const key = String(row.k)
        if (!agreed.has(key)) missingInWorkspace.push(key)
        else if (agreed.get(key) !== row.h) neonChanged.push(key)
        agreed.delete(key)
      }
      missingOnNeon.push(...agreed.keys())
      for (const list of [missingInWorkspace, missingOnNeon, neonChanged]) list.sort()
      report("verify: diff", differing.length, differing.length)
    }
    const unsynced = ((localDrift?.unsynced as Array<string> | null) ?? []).map(String)
    const corrupt = ((localDrift?.corrupt as Array<string> | null) ?? []).map(String)

    const repaired =
      options.repair === true
        ? yield* applyKeysInBatches(
            entity,
            [...new Set([...missingInWorkspace, ...missingOnNeon, ...neonChanged, ...unsynced, ...corrupt])],
            options.batchSize ?? 2000,
            options.policy === undefined ? {} : { policy: options.policy },
            (done, total) => report("repair", done, total)
          )
        : null
    const inSync =
      missingInWorkspace.length +
        missingOnNeon.length +
        neonChanged.length +
        unsynced.length +
        corrupt.length ===
      0
    return {
      entity: entity.name,
      neonRows: count(neonDigests),
      workspaceRows: count(workspaceDigests),
      buckets,
      compared: deep ? ("content" as const) : ("versions" as const),
      differingBuckets: differing.length,
      missingInWorkspace: limited(missingInWorkspace, limit),
      missingOnNeon: limited(missingOnNeon, limit),
      neonChanged: limited(neonChanged, limit),
      unsyncedEdits: limited(unsynced, limit),
      corruptBase: limited(corrupt, limit),
      inSync,
      repaired
    }
  }).pipe(timed)
