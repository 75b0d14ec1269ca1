/**
 * Stage 1, pull / backfill: brings every Neon invalid row into the workspace.
 *
 * Two paths, both safe to re-run:
 * - into an empty workspace table, rows stream from Neon's `COPY TO` through a projection in Node
 *   (`CopyProjection`: core's projection and hash, worked on the COPY bytes) straight into the workspace's
 *   `COPY FROM`, in one transaction: new rows arrive `pending`, with `last_sync_hash` and
 *   `pulled_from_neon_at` (each row is its own base, so `sync_base` stays NULL: see `WorkspaceMigrations`);
 * - otherwise, a merge-join of (key, row version) from both sides, streamed in key order, finds the keys
 *   that are new, changed on Neon since their last merge, or gone from Neon, and runs the merge on exactly
 *   those (never a blind overwrite: workspace edits are merged, conflicts logged). Rows whose Neon version
 *   did not move are not read at all, which is what makes a re-run cheap; the join itself reads both
 *   streams a batch of lines at a time.
 *
 * Invariant: a backfill writes nothing that a merge of the same key would not write.
 */

import { Readable } from "node:stream"
import type { Entity, MergePolicy } from "@enrich-sync/core"
import { compareCodePoints, failureOfCode, qualified } from "@enrich-sync/core"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import {
  CopyProjection,
  projectionSourceColumns,
  projectionWorkspaceColumns
} from "../merge/CopyProjection.ts"
import type { ApplyStats } from "../merge/MergeApply.ts"
import { applyKeysInBatches } from "../merge/MergeApply.ts"
import { CopyLineCursor, parseCopyLine, unescapeField } from "../store/CopyFormat.ts"
import { type Database, SourceDatabase, WorkspaceDatabase } from "../store/Database.ts"
import { toDatabaseError } from "../store/DatabaseError.ts"
import type { EntityStage } from "./EntityStage.ts"
import { timed } from "./EntityStage.ts"
import type { Progress } from "./Progress.ts"

/** Options of a backfill. */
export interface BackfillOptions {
  /** keys merged per batch on the merge path (default 2000) */
  readonly batchSize?: number
  /** plan and count, write nothing (default false) */
  readonly dryRun?: boolean
  readonly policy?: MergePolicy
  readonly onProgress?: (progress: Progress) => void
}

/** What a backfill of one entity did. */
export interface BackfillReport {
  readonly entity: Entity["name"]
  /** `copy` into an empty table, or `merge` of what differs */
  readonly path: "copy" | "merge"
  readonly sourceRows: number
  /** rows created by the copy path */
  readonly copied: number
  /** keys that were new, changed on Neon, or gone from Neon (merged) */
  readonly candidates: number
  /** rows whose Neon version had not moved since their last merge */
  readonly unchanged: number
  readonly merge: ApplyStats | null
  readonly durationMs: number
}

/** Turns the chunks of Neon's COPY text into workspace COPY text (see `CopyProjection`). */
async function* toWorkspaceRows(
  entity: Entity,
  chunks: AsyncIterable<Buffer>,
  pulledAt: string,
  onRows: (rows: number) => void
): AsyncGenerator<Buffer> {
  const projection = new CopyProjection(entity, pulledAt)
  for await (const chunk of chunks) {
    const before = projection.rows
    yield* projection.write(chunk)
    onRows(projection.rows - before)
  }
  const before = projection.rows
  yield* projection.end()
  onRows(projection.rows - before)
}

/** Both sides' databases, read once by `backfillEntity` for both of its paths. */
interface Sides {
  readonly source: Database
  readonly workspace: Database
}

/** Copies all Neon rows of an entity into its (empty) workspace table in one transaction. */
const copyPath = ({ source, workspace }: Sides, entity: Entity, options: BackfillOptions, total: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const neon = yield* source.session
      const pulledAt = new Date(yield* Clock.currentTimeMillis).toISOString()
      let done = 0
      const report = () => options.onProgress?.({ stage: "backfill", entity: entity.name, done, total })
      const copied = yield* workspace.transaction((tx) =>
        Effect.gen(function* () {
          const out = yield* neon.copyOut(
            `COPY (SELECT ${projectionSourceColumns(entity)} FROM ${qualified(entity.sourceTable)} AS t) TO STDOUT`
          )
          const lines = Readable.from(
            toWorkspaceRows(entity, out, pulledAt, (rows) => {
              const before = done
              done += rows
              if (Math.floor(done / 10_000) > Math.floor(before / 10_000)) report()
            })
          )
          return yield* tx.copyIn(
            `COPY ${qualified(entity.workspaceTable)} (${projectionWorkspaceColumns(entity).join(", ")}) FROM STDIN`,
            lines
          )
        })
      )
      report()
      return copied
    })
  )

/** The value of a COPY text column that is not NULL. */
const copyText = (raw: string): string => (raw.includes("\\") ? unescapeField(raw) : raw)

/** Compares keys in the order `COLLATE "C"` sorts them. */
const compareKeys = compareCodePoints

interface Classified {
  readonly candidates: Array<string>
  readonly unchanged: number
}

/** Merge-joins (key, version) of both sides in key order, and lists the keys that need a merge. */
const classify = ({ source, workspace }: Sides, entity: Entity, options: BackfillOptions, total: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const neon = yield* source.session
      const ws = yield* workspace.session
      const neonOut = yield* neon.copyOut(
        `COPY (SELECT t.${entity.key}, t.xmin::text::bigint FROM ${qualified(entity.sourceTable)} AS t
                ORDER BY t.${entity.key} COLLATE "C") TO STDOUT`
      )
      const wsOut = yield* ws.copyOut(
        `COPY (SELECT t.${entity.key}, t.source_xmin, t.sync_state, t.last_sync_hash IS NULL
                 FROM ${qualified(entity.workspaceTable)} AS t ORDER BY t.${entity.key} COLLATE "C") TO STDOUT`
      )
      return yield* Effect.tryPromise({
        try: async (): Promise<Classified> => {
          const left = new CopyLineCursor(neonOut)
          const right = new CopyLineCursor(wsOut)
          const candidates: Array<string> = []
          let unchanged = 0
          let done = 0
          for (;;) {
            // awaits only when a side's batch of lines runs out
            if (left.exhausted()) await left.fill()
            if (right.exhausted()) await right.fill()
            const l = left.line()
            const r = right.line()
            if (l === null && r === null) break
            const lTab = l === null ? -1 : l.indexOf("\t")
            const rTab = r === null ? -1 : r.indexOf("\t")
            const lKey = l === null ? null : copyText(l.slice(0, lTab))
            const rKey = r === null ? null : copyText(r.slice(0, rTab))
            const order = lKey === null ? 1 : rKey === null ? -1 : compareKeys(lKey, rKey)
            if (order < 0) {
              candidates.push(lKey!) // new on Neon
            } else if (order > 0) {
              if (parseCopyLine(r!)[2] === "active") candidates.push(rKey!) // gone from Neon
            } else if (r!.slice(rTab + 1) === `${l!.slice(lTab + 1)}\tactive\tf`) {
              // the same Neon version as last merged, active, hashed (COPY prints these without escapes)
              unchanged++
            } else candidates.push(lKey!)
            if (order <= 0) {
              left.advance()
              if (++done % 50_000 === 0)
                options.onProgress?.({ stage: "compare", entity: entity.name, done, total })
            }
            if (order >= 0) right.advance()
          }
          options.onProgress?.({ stage: "compare", entity: entity.name, done, total })
          return { candidates, unchanged }
        },
        catch: (e) => toDatabaseError("source", e, "comparing the keys of both sides")
      })
    })
  )

/** Backfills one entity (see the module header). */
export const backfillEntity: EntityStage<BackfillOptions, BackfillReport> = (entity, options = {}) =>
  Effect.gen(function* () {
    const source = yield* SourceDatabase
    const workspace = yield* WorkspaceDatabase
    const [count] = yield* source.query(`SELECT count(*)::bigint AS n FROM ${qualified(entity.sourceTable)}`)
    const total = Number(count?.n ?? 0)
    const [any] = yield* workspace.query(
      `SELECT EXISTS (SELECT 1 FROM ${qualified(entity.workspaceTable)}) AS present`
    )
    if (any?.present !== true && options.dryRun !== true) {
      const copied = yield* copyPath({ source, workspace }, entity, options, total).pipe(
        // someone inserted rows meanwhile: fall back to the merge path
        Effect.catchIf(
          (e) => failureOfCode(e.code) === "UniqueViolation",
          () => Effect.succeed(-1)
        )
      )
      if (copied >= 0) {
        return {
          entity: entity.name,
          path: "copy" as const,
          sourceRows: total,
          copied,
          candidates: 0,
          unchanged: 0,
          merge: null
        }
      }
    }
    const { candidates, unchanged } = yield* classify({ source, workspace }, entity, options, total)
    const merged = yield* applyKeysInBatches(
      entity,
      candidates,
      options.batchSize ?? 2000,
      {
        ...(options.policy === undefined ? {} : { policy: options.policy }),
        dryRun: options.dryRun ?? false
      },
      (done, total) => options.onProgress?.({ stage: "merge", entity: entity.name, done, total })
    )
    return {
      entity: entity.name,
      path: "merge" as const,
      sourceRows: total,
      copied: 0,
      candidates: candidates.length,
      unchanged,
      merge: merged
    }
  }).pipe(timed)
