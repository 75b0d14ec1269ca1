/**
 * Recovery of pushes whose workspace write never ran: the push journal entries (`PushJournal`) still on Neon
 * are applied to the workspace, for the keys of a merge round before it reads them (`MergeApply`), and all
 * of them when the daemon starts (`drainPushJournal`).
 *
 * A push and its entries commit together on Neon; what follows, and where a process can stop:
 *
 * ```
 * Neon: push + entries ─▶ workspace: receipts, row writes or rebases, conflicts ─▶ Neon: entries deleted ─▶ workspace: old receipts swept
 *   (1)                   (2)                                                    (3)                        (4)
 * ```
 * - stopped before (1) commits: nothing was pushed, nothing is journaled; the row keeps its pending edits,
 *   and the next merge pushes them.
 * - stopped after (1), before (2) commits: the entries wait on Neon without receipts. Whoever merges the key
 *   next, or the next start, applies them: claims each receipt, makes the entry's base the row's (only if
 *   no engine write changed the row since the push read it; a person's edit since stays, and merges against
 *   that base), logs the entry's conflicts, then deletes the entry. A recovery that stops part way is one
 *   of these cases again: its own workspace transaction commits whole or not at all.
 * - stopped after (2), before (3): the entries and their receipts are both there: a recovery claims no
 *   receipt, so it changes no row and logs nothing, and deletes the entries.
 * - stopped after (3): nothing is left to do; the receipts are swept a day later by any push or recovery.
 * A recovery and a push's own workspace write that race for an entry serialize on its receipt: the second
 * to claim it (even long after the first deleted the entry: a receipt outlives its entry by a day) finds it
 * and applies nothing, and the push's row write is then merged again.
 *
 * Invariant: every entry is applied exactly once, before its key is merged again or at the next start: its
 * conflicts are logged once, and the base its key is merged against is never older than what Neon holds
 * of the push.
 */
import type { Entity } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import type { ConflictRecord } from "../store/ConflictLog.ts"
import { describeConflict, logConflictRecords } from "../store/ConflictLog.ts"
import type { SourceDatabase } from "../store/Database.ts"
import { WorkspaceDatabase } from "../store/Database.ts"
import type { DatabaseError } from "../store/DatabaseError.ts"
import {
  claimReceipts,
  deleteJournal,
  journalIds,
  readJournal,
  rebaseRows,
  sweepReceipts
} from "../store/PushJournal.ts"
import { asEngineWrite } from "../store/WorkspaceStore.ts"

/** What applying journal entries did. */
export interface JournalRecovery {
  /** the entries found (applied now, or earlier by a write whose process stopped before deleting them) */
  readonly entries: number
  /** the keys whose workspace row took an entry's base */
  readonly rebased: ReadonlySet<string>
  /** the conflicts logged now */
  readonly conflicts: ReadonlyArray<ConflictRecord>
}

const nothing: JournalRecovery = { entries: 0, rebased: new Set(), conflicts: [] }

/**
 * Applies the journal entries of `entity` for `keys` (null: all of them) and deletes them (see the module
 * header); logs a line per conflict logged.
 */
export const applyPushJournal = (
  entity: Entity,
  keys: ReadonlyArray<string> | null
): Effect.Effect<JournalRecovery, DatabaseError, SourceDatabase | WorkspaceDatabase> =>
  Effect.gen(function* () {
    const entries = yield* readJournal(entity, keys)
    if (entries.length === 0) return nothing
    const db = yield* WorkspaceDatabase
    const pushIds = entries.map((e) => e.pushId)
    const applied = yield* db.transaction(
      (tx) =>
        Effect.gen(function* () {
          const claimed = yield* claimReceipts(tx, pushIds)
          const fresh = entries.filter((e) => claimed.has(e.pushId))
          const rebased = yield* rebaseRows(tx, entity, fresh)
          const conflicts = fresh.flatMap((e) => e.conflicts)
          yield* logConflictRecords(tx, conflicts)
          return { entries: entries.length, rebased, conflicts }
        }),
      asEngineWrite
    )
    yield* sweepReceipts(yield* deleteJournal(pushIds))
    for (const c of applied.conflicts) yield* Effect.logWarning(describeConflict(entity, c))
    return applied
  })

/**
 * Applies every journal entry of the entities, then sweeps the old receipts (run at start-up, before anything
 * is merged). Returns how many entries it found.
 */
export const drainPushJournal = (
  entities: ReadonlyArray<Entity>
): Effect.Effect<number, DatabaseError, SourceDatabase | WorkspaceDatabase> =>
  Effect.gen(function* () {
    let found = 0
    for (const entity of entities) {
      const recovery = yield* applyPushJournal(entity, null)
      found += recovery.entries
      if (recovery.entries > 0)
        yield* Effect.logInfo(
          `applied ${recovery.entries} ${entity.label} push journal entr${recovery.entries === 1 ? "y" : "ies"} left by a stopped push: ${recovery.rebased.size} workspace row(s) took the pushed base, ${recovery.conflicts.length} conflict(s) logged`
        )
    }
    yield* sweepReceipts(yield* journalIds())
    return found
  })
