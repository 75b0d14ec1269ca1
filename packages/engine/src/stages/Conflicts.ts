/**
 * Conflict review: the values merges overwrote (`sync_conflicts`) read back, marked reviewed, and restored.
 * A restore writes the losing value back as a new edit on the side where it lost, with a fresh edit time,
 * and then merges the key like any edit, so it reaches the other side (or waits for its push, as a person's
 * edit does). The value it replaces is logged as a conflict of its own (reason `restored #ID`), so a restore
 * can be restored in turn.
 *
 * Invariants: a restore writes only over the value that won the conflict (a field changed since is refused,
 * never overwritten unseen), only into a row that still exists and syncs, and only once per conflict (the
 * conflict row is locked while the restore is written); the conflict is marked restored, and the replaced
 * value logged, in the workspace transaction that commits last (on Neon, the edit commits inside it).
 */
import type { Entity, MergePolicy, SyncField, SyncRecord, SyncValue } from "@enrich-sync/core"
import {
  canonicalJson,
  canonicalTimestamp,
  defaultPolicy,
  entities,
  projectSource,
  projectWorkspace,
  qualified,
  quoteIdent,
  sameValue
} from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { ApplyStats } from "../merge/MergeApply.ts"
import { applyKeys } from "../merge/MergeApply.ts"
import type { LoggedConflict } from "../store/ConflictLog.ts"
import { appendConflict, conflictValuesJson, markRestored, readConflict } from "../store/ConflictLog.ts"
import type { Session } from "../store/Database.ts"
import { SourceDatabase, WorkspaceDatabase } from "../store/Database.ts"
import type { DatabaseError } from "../store/DatabaseError.ts"

/** Why a conflict cannot be shown or restored. */
export const ConflictReviewReason = Schema.Literals([
  /** no conflict has that id */
  "NotFound",
  /** its losing value was restored before */
  "AlreadyRestored",
  /** the merge would decide against it again (a status moved backwards, a source-owned field), or it is not lost */
  "NotRestorable",
  /** the row to write it into is gone (promoted, deleted) or no longer syncs */
  "RowGone",
  /** the field changed since the conflict: restoring would overwrite that edit */
  "Changed"
])
export type ConflictReviewReason = typeof ConflictReviewReason.Type

/** A conflict that cannot be shown or restored: one line, the problem and the fix. */
export class ConflictReviewError extends Schema.TaggedError<ConflictReviewError>()("ConflictReviewError", {
  reason: ConflictReviewReason,
  message: Schema.String
}) {}

/** Where a conflict's losing value lost, and what the restore would write. */
export type Restorable =
  | {
      readonly restorable: true
      /** the side whose value was overwritten, where the restore writes it back */
      readonly side: "source" | "workspace"
      readonly value: SyncValue
      /** the value that won, which the restore replaces */
      readonly replaces: SyncValue
    }
  | { readonly restorable: false; readonly why: string }

const review = (id: number) => `mark it reviewed with \`enrich-sync conflicts review ${id}\``

const shown = (value: SyncValue) => (value === null ? "NULL" : canonicalJson(value))

/** The entity a logged conflict belongs to. */
const entityOf = (conflict: LoggedConflict): Entity | undefined =>
  entities.find((e) => e.name === conflict.entity)

/**
 * Whether a conflict's losing value can be written back, and where: a value that lost to a newer edit
 * (`both-changed`, or a value a restore replaced) can; a status that moved backwards cannot (the status only
 * moves forward: the merge would reject it again), nor a workspace edit of a field only Neon changes, nor a
 * Neon value that is still there because the edit that beat it waits for its push.
 */
export const restorable = (conflict: LoggedConflict): Restorable => {
  const entity = entityOf(conflict)
  const field = entity?.fields.find((f) => f.name === conflict.field)
  if (entity === undefined || field === undefined)
    return { restorable: false, why: `${conflict.entity}.${conflict.field} is not a field enrich-sync syncs` }
  if (conflict.reason === "status-only-forward")
    return {
      restorable: false,
      why: `it is ${field.name} moved backwards, which the merge always rejects (the status only moves forward: pending, in_progress, complete or failed, failed back to in_progress)`
    }
  if (conflict.reason === "source-owned" || field.owner !== "shared")
    return {
      restorable: false,
      why: `${field.name} is changed only on Neon (source-owned): a workspace edit of it is always replaced by Neon's value; correct it on Neon if the workspace's value was right`
    }
  if (conflict.winner === "base")
    return {
      restorable: false,
      why: "the agreed value was kept on both sides, so no edit of one side lost to the other"
    }
  if (conflict.pending && conflict.winner === "workspace")
    return {
      restorable: false,
      why: `Neon still holds ${shown(conflict.source.value)}: the workspace edit that won waits for its push (its row is not yet pushable); to keep Neon's value, set the workspace's ${field.workspace} back to it`
    }
  return conflict.winner === "source"
    ? {
        restorable: true,
        side: "workspace",
        value: conflict.workspace.value,
        replaces: conflict.source.value
      }
    : { restorable: true, side: "source", value: conflict.source.value, replaces: conflict.workspace.value }
}

/** Reads one conflict, or fails with `NotFound`. */
export const showConflict = (
  id: number
): Effect.Effect<LoggedConflict, DatabaseError | ConflictReviewError, WorkspaceDatabase> =>
  Effect.gen(function* () {
    const conflict = yield* readConflict(yield* WorkspaceDatabase, id)
    return conflict === undefined ? yield* notFound(id) : conflict
  })

const notFound = (id: number) =>
  new ConflictReviewError({
    reason: "NotFound",
    message: `there is no conflict ${id} in sync_conflicts; list them with \`enrich-sync conflicts\` (the id is the first column)`
  })

/** Options of a restore. */
export interface RestoreOptions {
  /** who restores it (recorded as its reviewer when nobody reviewed it before); default null */
  readonly by?: string | null
  /** the policy of the merge that follows (default: push `complete` rows) */
  readonly policy?: MergePolicy
}

/** What a restore did. */
export interface RestoreReport {
  readonly conflict: LoggedConflict
  /** where the value was written back */
  readonly side: "source" | "workspace"
  readonly value: SyncValue
  /** the value it replaced there (the one that had won) */
  readonly replaced: SyncValue
  /** the edit time the restore carries, canonical */
  readonly editedAt: string | null
  /** the id of the conflict that logs the replaced value */
  readonly loggedAs: number
  /** the merge of the key that followed */
  readonly merge: ApplyStats
}

/** The column of a field on a side, and its SQL type. */
const columnOf = (entity: Entity, field: SyncField, side: "source" | "workspace") => {
  const name = side === "source" ? field.source : field.workspace
  const columns = side === "source" ? entity.sourceColumns : entity.workspaceColumns
  const type = columns.find((c) => c.name === name)?.type ?? "text"
  return { name: quoteIdent(name), type }
}

/** The value of a JSON text parameter as a column's type: `$n::jsonb #>> '{}'`, cast (NULL stays NULL). */
const fromJson = (param: string, type: string) =>
  type === "jsonb" ? `${param}::jsonb` : `(${param}::jsonb #>> '{}')::${type}`

const changedSince = (
  entity: Entity,
  conflict: LoggedConflict,
  sideLabel: string,
  current: SyncValue,
  won: SyncValue,
  lost: SyncValue
) =>
  new ConflictReviewError({
    reason: "Changed",
    message: `${sideLabel}'s ${conflict.field} of ${entity.label} ${conflict.key} changed since conflict ${conflict.id} (it holds ${shown(current)}, not ${shown(won)}): restoring ${shown(lost)} would overwrite that newer edit unseen; if ${shown(lost)} is still right, write it there by hand, then ${review(conflict.id)}`
  })

/** What a restore writes back on one side. */
interface RestoreWrite {
  readonly entity: Entity
  readonly field: SyncField
  readonly conflict: LoggedConflict
  /** the losing value, as JSON text (NULL for SQL NULL) */
  readonly json: string | null
  /** the value that won, which the side must still hold */
  readonly won: SyncValue
  /** the value that lost, the one restored */
  readonly lost: SyncValue
}

/** Reads and locks the row of `key` in `table` (`FOR UPDATE`). */
const lockRow = (tx: Session, table: string, entity: Entity, key: string) =>
  Effect.map(
    tx.query(`SELECT * FROM ${table} WHERE ${quoteIdent(entity.key)} = $1 FOR UPDATE`, [key]),
    ([row]) => row
  )

/** Writes the losing value on Neon (inside the workspace transaction `tx`); returns the edit time it carries. */
const writeOnSource = ({ entity, field, conflict, json, won, lost }: RestoreWrite) =>
  Effect.gen(function* () {
    const neon = yield* SourceDatabase
    const table = qualified(entity.sourceTable)
    const column = columnOf(entity, field, "source")
    return yield* neon.transaction((tx) =>
      Effect.gen(function* () {
        const row = yield* lockRow(tx, table, entity, conflict.key)
        if (row === undefined) {
          return yield* new ConflictReviewError({
            reason: "RowGone",
            message: `${entity.label} ${conflict.key} is no longer in ${table} (promoted to ${qualified(entity.masterTable)}, or deleted): there is no Neon row to restore ${conflict.field} into; ${review(conflict.id)}`
          })
        }
        const current = projectSource(entity, row)[field.name] ?? null
        if (!sameValue(current, won)) return yield* changedSince(entity, conflict, "Neon", current, won, lost)
        // a fresh edit time (UTC, as every timestamp enrich-sync writes), so the merge takes it as the newest edit
        const [written] = yield* tx.query(
          `UPDATE ${table} SET ${column.name} = ${fromJson("$2", column.type)}, updated_at = now() AT TIME ZONE 'UTC'
            WHERE ${quoteIdent(entity.key)} = $1 RETURNING updated_at::text AS updated_at`,
          [conflict.key, json]
        )
        return canonicalTimestamp(written?.updated_at)
      })
    )
  })

/** Writes the losing value in the workspace as a person's edit (the trigger stamps it and marks it dirty). */
const writeOnWorkspace = (tx: Session, { entity, field, conflict, json, won, lost }: RestoreWrite) =>
  Effect.gen(function* () {
    const table = qualified(entity.workspaceTable)
    const column = columnOf(entity, field, "workspace")
    const row = yield* lockRow(tx, table, entity, conflict.key)
    if (row === undefined || row.sync_state !== "active") {
      return yield* new ConflictReviewError({
        reason: "RowGone",
        message:
          row === undefined
            ? `${table} has no row for ${entity.label} ${conflict.key} any more: there is no workspace row to restore ${conflict.field} into; ${review(conflict.id)}`
            : `the workspace row of ${entity.label} ${conflict.key} is marked ${String(row.sync_state)} (its Neon record is gone), so nothing would sync it; ${review(conflict.id)}`
      })
    }
    const record: SyncRecord = projectWorkspace(entity, row)
    const current = record[field.name] ?? null
    if (!sameValue(current, won))
      return yield* changedSince(entity, conflict, "the workspace", current, won, lost)
    const [written] = yield* tx.query(
      `UPDATE ${table} SET ${column.name} = ${fromJson("$2", column.type)}
        WHERE ${quoteIdent(entity.key)} = $1 RETURNING updated_at::text AS updated_at`,
      [conflict.key, json]
    )
    return { editedAt: canonicalTimestamp(written?.updated_at), record }
  })

/**
 * Restores the losing value of conflict `id` (see the module header): on Neon when Neon's value lost, in the
 * workspace when the workspace's did; then merges the key. Fails with a `ConflictReviewError` naming the
 * problem and the fix when it cannot.
 */
export const restoreConflict = (
  id: number,
  options: RestoreOptions = {}
): Effect.Effect<RestoreReport, DatabaseError | ConflictReviewError, SourceDatabase | WorkspaceDatabase> =>
  Effect.gen(function* () {
    const workspace = yield* WorkspaceDatabase
    const policy = options.policy ?? defaultPolicy
    const by = options.by ?? null
    const restored = yield* workspace.transaction((tx) =>
      Effect.gen(function* () {
        const conflict = yield* readConflict(tx, id, { lock: true })
        if (conflict === undefined) return yield* notFound(id)
        if (conflict.restoredAt !== null) {
          return yield* new ConflictReviewError({
            reason: "AlreadyRestored",
            message: `conflict ${id} was already restored (${conflict.restoredAt}); the value it replaced is logged as a conflict of its own: \`enrich-sync conflicts --key ${conflict.key}\``
          })
        }
        const plan = restorable(conflict)
        if (!plan.restorable) {
          return yield* new ConflictReviewError({
            reason: "NotRestorable",
            message: `conflict ${id} cannot be restored: ${plan.why}; ${review(id)}`
          })
        }
        const entity = entityOf(conflict)!
        const field = entity.fields.find((f) => f.name === conflict.field)!
        const json = yield* conflictValuesJson(tx, id)
        const other = plan.side === "source" ? conflict.workspace : conflict.source
        let editedAt: string | null
        let pending = false
        const write = { entity, field, conflict, won: plan.replaces, lost: plan.value }
        if (plan.side === "source") {
          editedAt = yield* writeOnSource({ ...write, json: json.source })
        } else {
          const written = yield* writeOnWorkspace(tx, { ...write, json: json.workspace })
          editedAt = written.editedAt
          // the restored edit waits in the workspace, as a person's would, unless the row is pushable
          const status = entity.fields.find((f) => f.kind === "status")
          const statusAfter =
            status === undefined
              ? null
              : status === field
                ? plan.value
                : (written.record[status.name] ?? null)
          pending = status !== undefined && !policy.pushOn.includes(String(statusAfter))
        }
        const replacedJson = plan.side === "source" ? json.workspace : json.source
        const loggedAs = yield* appendConflict(tx, {
          entity: entity.name,
          key: conflict.key,
          field: conflict.field,
          reason: `restored #${id}`,
          winner: plan.side,
          base: replacedJson,
          source:
            plan.side === "source"
              ? { json: json.source, editedAt }
              : { json: replacedJson, editedAt: other.editedAt },
          workspace:
            plan.side === "workspace"
              ? { json: json.workspace, editedAt }
              : { json: replacedJson, editedAt: other.editedAt },
          pending
        })
        yield* markRestored(tx, id, by)
        return {
          conflict,
          entity,
          side: plan.side,
          value: plan.value,
          replaced: plan.replaces,
          editedAt,
          loggedAs
        }
      })
    )
    const merge = yield* applyKeys(restored.entity, [{ key: restored.conflict.key }], { policy })
    return {
      conflict: restored.conflict,
      side: restored.side,
      value: restored.value,
      replaced: restored.replaced,
      editedAt: restored.editedAt,
      loggedAs: restored.loggedAs,
      merge
    }
  })
