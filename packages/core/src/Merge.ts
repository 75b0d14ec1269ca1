/**
 * The three-way, field-by-field merge of one record (sync-model.md, "The merge").
 *
 * Given the projection both sides last agreed on (the base) and each side's current projection, decides
 * what to write on each side, the new base, and which edits lose. Invariants, held by property tests:
 * - idempotent: merging the merged state again writes nothing (so the engine's own writes never echo);
 * - convergent: every shared field ends equal on both sides unless it is a gated pending workspace edit;
 * - nothing lost: every edit (a value that differs from the base) that is overwritten appears in `conflicts`;
 * - the enrichment status only moves forward (see `EnrichmentStatus`).
 *
 * Rules: a source-owned field takes the source's value; a shared field changed on one side only takes that
 * side's value; changed on both sides to different values, the newer edit wins (the source's edit time is
 * `max(updated_at, commit time)`), a tie goes to the source. Workspace edits reach the source only when the
 * workspace row's enrichment status is, or through this merge becomes, one of `policy.pushOn`; until then
 * they stay pending in the workspace.
 */
import { canMove, defaultPushOn } from "./EnrichmentStatus.ts"
import type { Entity, SyncField } from "./Entity.ts"
import type { SyncRecord, SyncValue } from "./Projection.ts"
import { emptyRecord } from "./Projection.ts"
import { sameValue } from "./SyncHash.ts"
import { compareTimestamps } from "./Timestamp.ts"

/** One side's current projection and when it was last edited. */
export interface SideState {
  readonly record: SyncRecord
  /** the row's `updated_at`, canonical (see `canonicalTimestamp`); null when unknown */
  readonly editedAt: string | null
}

/** The source side: also the commit time of the transaction that changed it, when replication told us. */
export interface SourceState extends SideState {
  /** commit timestamp of the last replicated transaction that touched the row, canonical */
  readonly committedAt?: string | null
}

/** How the merge treats workspace edits. */
export interface MergePolicy {
  /**
   * workspace edits are pushed only when the workspace row's `enrichment_status` is, or through the merge
   * becomes, one of these (default `["complete"]`)
   */
  readonly pushOn: ReadonlyArray<string>
}

/** The default policy: push `complete` rows, as the sync guide does. */
export const defaultPolicy: MergePolicy = { pushOn: defaultPushOn }

/** Why an edit lost. */
export type ConflictReason =
  /** both sides changed the field to different values: the newer edit won (a tie goes to the source) */
  | "both-changed"
  /** the status would have moved backwards: the more advanced status won, whatever the times */
  | "status-only-forward"
  /** the workspace edited a field that only the source may change */
  | "source-owned"

/** An edit that lost, with both values and both edit times. */
export interface Conflict {
  readonly field: string
  readonly reason: ConflictReason
  /** `base` when both sides moved the status backwards alike and the agreed status was kept */
  readonly winner: "source" | "workspace" | "base"
  /** the agreed value before the edits (null also when there was no base) */
  readonly base: SyncValue
  readonly source: { readonly value: SyncValue; readonly editedAt: string | null }
  readonly workspace: { readonly value: SyncValue; readonly editedAt: string | null }
  /** the winner is a workspace edit held back by push gating: the source's value is replaced when it is pushed */
  readonly pending: boolean
}

/** What the merge decided. */
export interface MergeResult {
  /** fields to write on Neon (never source-owned ones) */
  readonly toSource: { readonly [field: string]: SyncValue }
  /** fields to write in the workspace (the whole record when the workspace row does not exist) */
  readonly toWorkspace: { readonly [field: string]: SyncValue }
  /** what both sides hold after the writes; `last_sync_hash` is its hash */
  readonly newBase: SyncRecord
  readonly conflicts: ReadonlyArray<Conflict>
  /** shared fields that hold a workspace edit not yet pushed (gated) */
  readonly pending: ReadonlyArray<string>
  /** the `updated_at` to stamp on Neon when `toSource` is written: the newest edit it carries */
  readonly sourceUpdatedAt: string | null
  /** the `updated_at` to stamp in the workspace when `toWorkspace` is written */
  readonly workspaceUpdatedAt: string | null
}

/** The later of two edit times (`a` when they are the same instant; null is before any time). */
const maxTime = (a: string | null, b: string | null): string | null => (compareTimestamps(a, b) < 0 ? b : a)

interface Resolution {
  readonly value: SyncValue
  readonly conflicts: ReadonlyArray<{ readonly winner: Conflict["winner"]; readonly reason: ConflictReason }>
}

const noConflicts: Resolution["conflicts"] = []

/** A decision without a conflict (most fields of most merges: one allocation, no array). */
const agreed = (value: SyncValue): Resolution => ({ value, conflicts: noConflicts })

/** Decides a shared field. `base` is undefined when there is no base (every difference is then a conflict). */
const resolveShared = (
  field: SyncField,
  base: SyncValue | undefined,
  source: SyncValue,
  workspace: SyncValue,
  workspaceNewer: boolean
): Resolution => {
  const isStatus = field.kind === "status"
  let s = source
  let w = workspace
  if (isStatus && base !== undefined) {
    // a status that moved backwards from the agreed one is not a candidate: that side counts as unchanged
    const sourceValid = canMove(String(base), String(source))
    const workspaceValid = canMove(String(base), String(workspace))
    if (!sourceValid) s = base
    if (!workspaceValid) w = base
    if (!sourceValid || !workspaceValid) {
      // at most one side changed now, so the decision itself has no conflict; the rejected move is the loser
      const { value } = decide(field, base, s, w, workspaceNewer)
      const winner = sameValue(value, base) ? "base" : sourceValid ? "source" : "workspace"
      return { value, conflicts: [{ winner, reason: "status-only-forward" }] }
    }
  }
  return decide(field, base, s, w, workspaceNewer)
}

/** The three-way decision on candidate values (statuses already checked against the base). */
const decide = (
  field: SyncField,
  base: SyncValue | undefined,
  source: SyncValue,
  workspace: SyncValue,
  workspaceNewer: boolean
): Resolution => {
  if (sameValue(source, workspace)) return agreed(source)
  if (base !== undefined && sameValue(source, base)) return agreed(workspace)
  if (base !== undefined && sameValue(workspace, base)) return agreed(source)
  if (field.kind === "status") {
    const sourceAhead = canMove(String(workspace), String(source))
    const workspaceAhead = canMove(String(source), String(workspace))
    if (sourceAhead && !workspaceAhead) {
      return { value: source, conflicts: [{ winner: "source", reason: "status-only-forward" }] }
    }
    if (workspaceAhead && !sourceAhead) {
      return { value: workspace, conflicts: [{ winner: "workspace", reason: "status-only-forward" }] }
    }
  }
  return workspaceNewer
    ? { value: workspace, conflicts: [{ winner: "workspace", reason: "both-changed" }] }
    : { value: source, conflicts: [{ winner: "source", reason: "both-changed" }] }
}

const statusField = (entity: Entity): SyncField | undefined => entity.fields.find((f) => f.kind === "status")

/**
 * Merges one record. `workspace` is null when the workspace has no row for the key yet (the whole source
 * record is then written there). `base` is null when the sides never agreed (rows pulled before this
 * project: every difference is then treated as an edit on both sides).
 */
export const merge = (
  entity: Entity,
  base: SyncRecord | null,
  source: SourceState,
  workspace: SideState | null,
  policy: MergePolicy = defaultPolicy
): MergeResult => {
  const sourceEditedAt = maxTime(source.editedAt, source.committedAt ?? null)
  if (workspace === null) {
    return {
      toSource: {},
      toWorkspace: { ...source.record },
      newBase: { ...source.record },
      conflicts: [],
      pending: [],
      sourceUpdatedAt: null,
      workspaceUpdatedAt: sourceEditedAt
    }
  }
  // also checks the workspace's edit time is a timestamp (throws otherwise) before any field is looked at
  const workspaceOrder = compareTimestamps(workspace.editedAt, sourceEditedAt)
  const workspaceNewer = workspaceOrder > 0
  const s = source.record
  const w = workspace.record

  const fields = entity.fields
  const resolve = (field: SyncField, sv: SyncValue, wv: SyncValue): Resolution =>
    resolveShared(field, base === null ? undefined : (base[field.name] ?? null), sv, wv, workspaceNewer)
  // The gate is open when the workspace row is pushable before the merge (its edits were made in that
  // state) or becomes pushable through it. Deciding on either one alone would make the outcome depend on
  // whether a merge ran between two concurrent edits (see the order-independence property test).
  const status = statusField(entity)
  const statusResolution =
    status === undefined || status.owner !== "shared"
      ? undefined
      : resolve(status, s[status.name] ?? null, w[status.name] ?? null)
  const gateOpen =
    status === undefined ||
    policy.pushOn.includes(String(w[status.name] ?? null)) ||
    policy.pushOn.includes(String(statusResolution?.value ?? null))

  const toSource: { [field: string]: SyncValue } = {}
  const toWorkspace: { [field: string]: SyncValue } = {}
  const newBase = emptyRecord(entity)
  const conflicts: Array<Conflict> = []
  const pending: Array<string> = []
  const conflict = (field: SyncField, winner: Conflict["winner"], reason: ConflictReason, held: boolean) =>
    conflicts.push({
      field: field.name,
      reason,
      winner,
      base: base === null ? null : (base[field.name] ?? null),
      source: { value: s[field.name] ?? null, editedAt: sourceEditedAt },
      workspace: { value: w[field.name] ?? null, editedAt: workspace.editedAt },
      pending: held
    })

  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!
    const sv = s[field.name] ?? null
    const wv = w[field.name] ?? null
    if (field.owner === "source") {
      newBase[field.name] = sv
      if (!sameValue(wv, sv)) {
        toWorkspace[field.name] = sv
        const edited = base === null || !sameValue(wv, base[field.name] ?? null)
        if (edited) conflict(field, "source", "source-owned", false)
      }
      continue
    }
    const resolution = field === status ? statusResolution! : resolve(field, sv, wv)
    // the workspace always takes the merged value; the source takes it only through the gate
    const held = !gateOpen && !sameValue(sv, resolution.value)
    for (const c of resolution.conflicts) conflict(field, c.winner, c.reason, held)
    if (!sameValue(wv, resolution.value)) toWorkspace[field.name] = resolution.value
    if (held) {
      newBase[field.name] = sv
      pending.push(field.name)
      continue
    }
    newBase[field.name] = resolution.value
    if (!sameValue(sv, resolution.value)) toSource[field.name] = resolution.value
  }

  const writesSource = Object.keys(toSource).length > 0
  const writesWorkspace = Object.keys(toWorkspace).length > 0
  return {
    toSource,
    toWorkspace,
    newBase,
    conflicts,
    pending,
    sourceUpdatedAt: writesSource ? maxTime(source.editedAt, workspace.editedAt) : null,
    // maxTime(workspace.editedAt, sourceEditedAt), from the comparison already made
    workspaceUpdatedAt: writesWorkspace ? (workspaceOrder < 0 ? sourceEditedAt : workspace.editedAt) : null
  }
}
