/**
 * The plan for one record: the merge, plus stage 4 riding along with stage 3. Whenever the merge pushes
 * workspace edits to Neon, the pushed record is re-validated and the outcome (errors, warnings, reason code,
 * status, and values the rules derive, such as a domain from the website) is written in the same Neon
 * write, becomes part of the new base, and flows back to the workspace so enrichers see what is still wrong.
 *
 * Invariant: a plan is a merge result whose writes leave both sides equal to `newBase` except for pending
 * (gated) workspace edits, exactly like `merge` itself; re-planning the written state writes nothing.
 */
import type { Entity } from "./Entity.ts"
import type { MergePolicy, MergeResult, SideState, SourceState } from "./Merge.ts"
import { defaultPolicy, merge } from "./Merge.ts"
import type { SyncRecord, SyncValue } from "./Projection.ts"
import { sameValue } from "./SyncHash.ts"
import type { ValidationOutcome } from "./validation/Validation.ts"
import { validate } from "./validation/Validation.ts"

/** A merge result, with the re-validation of the pushed record when there is a push. */
export interface SyncPlan extends MergeResult {
  /** the outcome of re-validating what Neon holds after the push; null when nothing is pushed */
  readonly validation: ValidationOutcome | null
}

/** The source-owned fields that re-validation writes, from an outcome. */
export const validationFields = (outcome: ValidationOutcome): { readonly [field: string]: SyncValue } => ({
  validation_errors: outcome.errors,
  validation_warnings: Object.keys(outcome.warnings).length === 0 ? null : outcome.warnings,
  reason_code: outcome.reasonCode,
  validation_status: outcome.status
})

/** Plans the sync of one record (see the module header). */
export const planSync = (
  entity: Entity,
  base: SyncRecord | null,
  source: SourceState,
  workspace: SideState | null,
  policy: MergePolicy = defaultPolicy
): SyncPlan => {
  const result = merge(entity, base, source, workspace, policy)
  if (Object.keys(result.toSource).length === 0) return { ...result, validation: null }
  return revalidated(entity, result, source.record, workspace?.record ?? null)
}

/**
 * Adds the re-validation of `source ⊕ toSource` to a merge result: derived values that the workspace does
 * not hold as a pending edit and the validation fields join the Neon write, the new base and the
 * workspace write.
 */
export const revalidated = (
  entity: Entity,
  result: MergeResult,
  source: SyncRecord,
  workspace: SyncRecord | null
): SyncPlan => {
  const pushed: SyncRecord = { ...source, ...result.toSource }
  const outcome = validate(entity, pushed)
  const updates: { [field: string]: SyncValue } = { ...validationFields(outcome) }
  for (const [field, value] of Object.entries(outcome.derived)) {
    if (!result.pending.includes(field)) updates[field] = value
  }
  const toSource: { [field: string]: SyncValue } = { ...result.toSource }
  const toWorkspace: { [field: string]: SyncValue } = { ...result.toWorkspace }
  const newBase: { [field: string]: SyncValue } = { ...result.newBase }
  for (const [field, value] of Object.entries(updates)) {
    newBase[field] = value
    if (!sameValue(source[field] ?? null, value)) toSource[field] = value
    else delete toSource[field]
    const held = workspace === null ? null : (workspace[field] ?? null)
    if (workspace === null || !sameValue(held, value)) toWorkspace[field] = value
    else delete toWorkspace[field]
  }
  return {
    ...result,
    toSource,
    toWorkspace,
    newBase,
    workspaceUpdatedAt:
      Object.keys(toWorkspace).length > 0 ? (result.workspaceUpdatedAt ?? result.sourceUpdatedAt) : null,
    validation: outcome
  }
}
