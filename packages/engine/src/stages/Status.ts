/**
 * `status`: where the pipeline stands, per entity and side: counts, enrichment statuses, validation
 * outcomes, last pull and push, pending pushes, unsynced edits, and conflicts (logged, and not reviewed
 * yet). Read-only.
 */
import type { Entity, MergePolicy } from "@enrich-sync/core"
import { defaultPolicy, qualified, workspaceHashFunction } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import { SourceDatabase, WorkspaceDatabase } from "../store/Database.ts"
import type { DatabaseError } from "../store/DatabaseError.ts"

/** The state of one entity. */
export interface EntityStatus {
  readonly entity: Entity["name"]
  readonly neon: {
    /** rows in the invalid table */
    readonly invalid: number
    /** of which re-validated as PASSED (waiting for promotion) */
    readonly passed: number
    readonly failed: number
    /** enrichment complete on Neon */
    readonly enriched: number
    readonly stillInvalid: number
    /** rows in the master table */
    readonly master: number
  }
  readonly workspace: {
    readonly rows: number
    readonly active: number
    readonly promoted: number
    readonly removed: number
    /** active rows by enrichment status */
    readonly byStatus: { readonly [status: string]: number }
    readonly lastPull: string | null
    readonly lastPush: string | null
    /** pushable rows holding edits not yet on Neon */
    readonly pendingPushes: number
    /** rows touched by a person since the engine last merged them */
    readonly touched: number
  }
  /** values the merge overwrote (`sync_conflicts`) */
  readonly conflicts: number
  /** of those, the ones nobody reviewed yet (`enrich-sync conflicts --unreviewed`) */
  readonly unreviewedConflicts: number
}

const num = (v: unknown) => Number(v ?? 0)

/** Reads the status of one entity. */
export const entityStatus = (
  entity: Entity,
  policy: MergePolicy = defaultPolicy
): Effect.Effect<EntityStatus, DatabaseError, SourceDatabase | WorkspaceDatabase> =>
  Effect.gen(function* () {
    const source = yield* SourceDatabase
    const workspace = yield* WorkspaceDatabase
    const [[neon], [master], byStatus, [ws], [conflicts]] = yield* Effect.all(
      [
        source.query(
          `SELECT count(*) AS invalid,
                  count(*) FILTER (WHERE validation_status = 'PASSED') AS passed,
                  count(*) FILTER (WHERE validation_status IS DISTINCT FROM 'PASSED') AS failed,
                  count(*) FILTER (WHERE enrich_sync.canonical_status(enrichment_status) = '"complete"') AS enriched,
                  count(*) FILTER (WHERE still_invalid) AS still_invalid
             FROM ${qualified(entity.sourceTable)}`
        ),
        source.query(`SELECT count(*) AS n FROM ${qualified(entity.masterTable)}`),
        workspace.query(
          `SELECT enrich_sync.canonical_status(enrichment_status)::json #>> '{}' AS status, count(*) AS n
             FROM ${qualified(entity.workspaceTable)} WHERE sync_state = 'active' GROUP BY 1 ORDER BY 1`
        ),
        workspace.query(
          `SELECT count(*) AS rows,
                  count(*) FILTER (WHERE sync_state = 'active') AS active,
                  count(*) FILTER (WHERE sync_state = 'promoted') AS promoted,
                  count(*) FILTER (WHERE sync_state = 'removed') AS removed,
                  max(pulled_from_neon_at)::text AS last_pull,
                  max(pushed_to_neon_at)::text AS last_push,
                  count(*) FILTER (WHERE sync_dirty AND sync_state = 'active') AS touched,
                  count(*) FILTER (WHERE sync_state = 'active'
                                     AND enrich_sync.canonical_status(enrichment_status)::json #>> '{}' = ANY($1::text[])
                                     AND ${workspaceHashFunction(entity)}(t) IS DISTINCT FROM last_sync_hash) AS pending
             FROM ${qualified(entity.workspaceTable)} AS t`,
          [policy.pushOn]
        ),
        workspace.query(
          `SELECT count(*) AS n, count(*) FILTER (WHERE reviewed_at IS NULL) AS unreviewed
             FROM public.sync_conflicts WHERE entity = $1`,
          [entity.name]
        )
      ],
      { concurrency: "unbounded" }
    )
    return {
      entity: entity.name,
      neon: {
        invalid: num(neon?.invalid),
        passed: num(neon?.passed),
        failed: num(neon?.failed),
        enriched: num(neon?.enriched),
        stillInvalid: num(neon?.still_invalid),
        master: num(master?.n)
      },
      workspace: {
        rows: num(ws?.rows),
        active: num(ws?.active),
        promoted: num(ws?.promoted),
        removed: num(ws?.removed),
        byStatus: Object.fromEntries(byStatus.map((r) => [String(r.status), num(r.n)])),
        lastPull: (ws?.last_pull as string | null) ?? null,
        lastPush: (ws?.last_push as string | null) ?? null,
        pendingPushes: num(ws?.pending),
        touched: num(ws?.touched)
      },
      conflicts: num(conflicts?.n),
      unreviewedConflicts: num(conflicts?.unreviewed)
    }
  })
