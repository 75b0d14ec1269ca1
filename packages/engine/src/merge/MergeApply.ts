/**
 * Merge-apply for a batch of keys of one entity: reads both sides (one query per side), plans each record
 * (`planSync`), writes Neon (one statement, with its log) and then the workspace (one statement, with the
 * conflicts), and merges again the keys whose compare-and-swap lost to a concurrent edit.
 *
 * A push journals what it decided in its own Neon transaction (`PushJournal`): the workspace write that
 * follows applies the entry (the row's write lands, or, when it lost its race to a person's edit, the row's
 * base becomes the entry's), and a round first applies the entries its keys still have (`PushJournalApply`:
 * a push whose process died before its workspace write), so no key is merged against a base older than
 * what Neon holds of it, and the Neon values a push overwrote are logged once whatever happens after it.
 *
 * Invariants: no event payload is trusted (an event only names a key; rows are read); Neon is written
 * before the workspace, so a push that did not land on Neon never becomes part of the agreed base; a key
 * is reported done only when both sides hold the plan's result (or it is left for the next pass after
 * `maxAttempts` lost races, and reported as contended, never dropped).
 */
import { randomUUID } from "node:crypto"
import type { Entity, MergePolicy, SyncPlan, SyncRecord, SyncValue } from "@enrich-sync/core"
import {
  canonicalTimestamp,
  defaultPolicy,
  md5,
  parseJsonb,
  planSync,
  projectBase,
  recordHash,
  recordJson,
  sameValue,
  timestampMicros
} from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import type { ConflictEntry, ConflictRecord } from "../store/ConflictLog.ts"
import { conflictRecords, describeConflict } from "../store/ConflictLog.ts"
import type { SourceDatabase, WorkspaceDatabase } from "../store/Database.ts"
import type { DatabaseError } from "../store/DatabaseError.ts"
import type { PushJournalEntry } from "../store/PushJournal.ts"
import { deleteJournal, readJournal, sweepReceipts } from "../store/PushJournal.ts"
import type { SourceRow, SourceWrite } from "../store/SourceStore.ts"
import { awaitVisible, readPromoted, readSource, writeSource } from "../store/SourceStore.ts"
import type {
  WorkspaceClean,
  WorkspaceInsert,
  WorkspaceRow,
  WorkspaceUpdate
} from "../store/WorkspaceStore.ts"
import { markGone, readWorkspace, writeWorkspace } from "../store/WorkspaceStore.ts"
import type { CleanSlices } from "./CleanApply.ts"
import { applyCleanSlices, readCleanSlices } from "./CleanApply.ts"
import { applyPushJournal } from "./PushJournalApply.ts"

/**
 * A key that changed, with the commit time of the Neon transaction that changed it when known (any
 * ISO-8601), and that transaction's id when it came from replication (the merge then waits until the
 * transaction is visible before reading the row).
 */
export interface KeyChange {
  readonly key: string
  readonly committedAt?: string | null
  readonly xid?: number
}

/** Options of a merge-apply run. */
export interface ApplyOptions {
  /** the merge policy (default: push `complete` rows) */
  readonly policy?: MergePolicy
  /** plan only, write nothing (default false) */
  readonly dryRun?: boolean
  /** how many times a key that lost a compare-and-swap race is merged again (default 5) */
  readonly maxAttempts?: number
  /**
   * try the clean path first (default true); false for keys a person edited in the workspace, which it
   * never takes (their rows are no longer the engine's): two round trips less
   */
  readonly clean?: boolean
}

/** What one key's merge decided, for dry runs and reports. */
export interface PlannedChange {
  readonly key: string
  readonly action: "insert" | "update" | "push" | "promote" | "remove" | "reactivate"
  readonly toSource: ReadonlyArray<string>
  readonly toWorkspace: ReadonlyArray<string>
  readonly conflicts: number
}

/** What a merge-apply run did (or, in a dry run, would do). */
export interface ApplyStats {
  readonly keys: number
  readonly inserted: number
  readonly updated: number
  readonly pushed: number
  readonly conflicts: number
  readonly promoted: number
  readonly removed: number
  readonly unchanged: number
  readonly retries: number
  /** keys still losing races after all attempts: left for the next event or pass */
  readonly contended: ReadonlyArray<string>
  /** what a dry run would do, key by key (empty in a real run) */
  readonly changes: ReadonlyArray<PlannedChange>
  /** the keys whose workspace edits were written to Neon (a real run) */
  readonly pushedKeys: ReadonlyArray<string>
  /** the keys of the conflicts logged, once per conflict (a real run) */
  readonly conflictKeys: ReadonlyArray<string>
}

/** What a merge that did nothing reports (a new object each time). */
export const emptyStats = (): ApplyStats => ({
  keys: 0,
  inserted: 0,
  updated: 0,
  pushed: 0,
  conflicts: 0,
  promoted: 0,
  removed: 0,
  unchanged: 0,
  retries: 0,
  contended: [],
  changes: [],
  pushedKeys: [],
  conflictKeys: []
})

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

const latest = (a: string | null | undefined, b: string | null | undefined): string | null => {
  const ma = timestampMicros(a ?? null)
  const mb = timestampMicros(b ?? null)
  if (mb !== null && (ma === null || mb > ma)) return b ?? null
  return a ?? null
}

const validationFieldNames = new Set([
  "validation_errors",
  "validation_warnings",
  "reason_code",
  "validation_status"
])

interface Planned {
  readonly key: string
  readonly source: SourceRow
  readonly workspace: WorkspaceRow | undefined
  readonly plan: SyncPlan
  readonly hash: string
  /** the new base is stored in `sync_base` (the row will hold pending edits) */
  readonly storeBase: boolean
  readonly writeWorkspace: boolean
}

/** Whether two records hold the same value in every field of the entity. */
const sameRecord = (entity: Entity, a: SyncRecord | null, b: SyncRecord): boolean => {
  if (a === null) return false
  if (a === b) return true
  for (const f of entity.fields) if (!sameValue(a[f.name] ?? null, b[f.name] ?? null)) return false
  return true
}

/** What a workspace row holds once `toWorkspace` is written on it. */
const heldAfter = (entity: Entity, record: SyncRecord, toWorkspace: SyncRecord): SyncRecord => {
  const held: { [field: string]: SyncValue } = {}
  for (const f of entity.fields)
    held[f.name] = f.name in toWorkspace ? (toWorkspace[f.name] ?? null) : (record[f.name] ?? null)
  return held
}

/** Plans one key whose Neon row exists. */
const planKey = (
  entity: Entity,
  source: SourceRow,
  workspace: WorkspaceRow | undefined,
  committedAt: string | null,
  policy: MergePolicy
): Planned => {
  const plan = planSync(
    entity,
    workspace?.base ?? null,
    { record: source.record, editedAt: source.updatedAt, committedAt },
    workspace === undefined ? null : { record: workspace.record, editedAt: workspace.updatedAt },
    policy
  )
  const hash = recordHash(entity, plan.newBase)
  if (workspace === undefined)
    return { key: source.key, source, workspace, plan, hash, storeBase: false, writeWorkspace: true }
  // the base is stored only where the row will differ from it (pending edits); elsewhere it is the row itself
  const storeBase =
    plan.pending.length > 0 ||
    !sameRecord(entity, heldAfter(entity, workspace.record, plan.toWorkspace), plan.newBase)
  const baseChanged = storeBase
    ? !workspace.storedBase || !sameRecord(entity, workspace.base, plan.newBase)
    : workspace.storedBase && !sameRecord(entity, workspace.base, plan.newBase)
  // a push is always followed by a workspace write, even when the row keeps its values: it records the Neon
  // version pushed and `pushed_to_neon_at`, and the conflicts of the push are logged with it (a Neon value
  // that lost, such as a status moved backwards, was overwritten there)
  const writeWorkspace =
    Object.keys(plan.toWorkspace).length > 0 ||
    Object.keys(plan.toSource).length > 0 ||
    workspace.lastSyncHash !== hash ||
    workspace.syncState !== "active" ||
    workspace.base === null ||
    baseChanged
  return { key: source.key, source, workspace, plan, hash, storeBase, writeWorkspace }
}

const describe = (p: Planned): PlannedChange => ({
  key: p.key,
  action:
    p.workspace === undefined
      ? "insert"
      : Object.keys(p.plan.toSource).length > 0
        ? "push"
        : p.workspace.syncState !== "active"
          ? "reactivate"
          : "update",
  toSource: Object.keys(p.plan.toSource),
  toWorkspace: Object.keys(p.plan.toWorkspace),
  conflicts: p.plan.conflicts.length
})

/**
 * The journal entry of a push (see `PushJournal`): the base its workspace row takes if the row's own write
 * does not land is the plan's new base, but with the values the row holds in every field that write would
 * set, so that the next merge brings Neon's side of them in (they read as Neon's edits) and sees the pushed
 * fields as agreed; and every conflict of the plan (the next merge would see none of them again).
 */
const journalEntryOf = (entity: Entity, p: Planned): PushJournalEntry => {
  const base: { [field: string]: SyncValue } = { ...p.plan.newBase }
  if (p.workspace !== undefined)
    for (const field of Object.keys(p.plan.toWorkspace)) base[field] = p.workspace.record[field] ?? null
  const json = recordJson(entity, base)
  return {
    pushId: randomUUID(),
    key: p.key,
    priorHash: p.workspace?.lastSyncHash ?? null,
    base: json,
    baseHash: md5(json),
    conflicts: conflictRecords(
      entity,
      p.plan.conflicts.map((conflict) => ({ key: p.key, conflict }))
    )
  }
}

const sourceWriteOf = (entity: Entity, p: Planned): SourceWrite => {
  const pushedFields = Object.keys(p.plan.toSource).filter((f) => !validationFieldNames.has(f))
  const details: SyncValue = { fields: pushedFields, enriched_by: p.plan.newBase.enriched_by ?? null }
  return {
    key: p.key,
    expectedHash: recordHash(entity, p.source.record),
    set: p.plan.toSource,
    updatedAt: p.plan.sourceUpdatedAt,
    journal: journalEntryOf(entity, p),
    log: {
      validationStatus: p.plan.validation === null ? null : p.plan.validation.status,
      validationErrors: p.plan.validation === null ? null : p.plan.validation.errors,
      details,
      batchId: (p.plan.newBase.batch_id as string | null | undefined) ?? null
    }
  }
}

/** One round of a merge: both sides read and every key planned; nothing written yet. */
interface Round {
  readonly plans: ReadonlyArray<Planned>
  readonly promoted: ReadonlyArray<string>
  readonly removed: ReadonlyArray<string>
  readonly clean: ReadonlyArray<WorkspaceClean>
  /** keys whose merge writes nothing (in sync, or gone on both sides) */
  readonly unchanged: number
  /** the conflicts of earlier pushes logged (or, in a dry run, that would be) before the round was read */
  readonly recovered: ReadonlyArray<ConflictRecord>
}

/**
 * A dry run's view of the journal entries of `keys` (see `PushJournal`): each workspace row as it reads once
 * its newest entry is applied, and the conflicts the entries would log. Writes nothing.
 */
const journaledView = (
  entity: Entity,
  keys: ReadonlyArray<string>,
  rows: ReadonlyMap<string, WorkspaceRow>
): Effect.Effect<
  { readonly rows: ReadonlyMap<string, WorkspaceRow>; readonly conflicts: ReadonlyArray<ConflictRecord> },
  DatabaseError,
  SourceDatabase
> =>
  Effect.map(readJournal(entity, keys), (entries) => {
    const view = new Map(rows)
    for (const e of entries) {
      const row = view.get(e.key)
      if (row === undefined || row.lastSyncHash !== e.priorHash) continue
      view.set(e.key, {
        ...row,
        base: projectBase(entity, parseJsonb(e.base)),
        storedBase: true,
        lastSyncHash: e.baseHash,
        dirty: true
      })
    }
    return { rows: view, conflicts: entries.flatMap((e) => e.conflicts) }
  })

/**
 * Reads both sides of `keys` (one query per side) and plans each one. The push journal entries of the keys
 * (Neon's read says which have one: a key whose Neon row is gone is looked up too) are applied first, and
 * the rows whose base they changed read again; a dry run plans as if they were applied.
 */
const planRound = (
  entity: Entity,
  keys: ReadonlyArray<string>,
  committed: ReadonlyMap<string, string | null>,
  policy: MergePolicy,
  dryRun = false
): Effect.Effect<Round, DatabaseError, SourceDatabase | WorkspaceDatabase> =>
  Effect.gen(function* () {
    const [sourceRows, read] = yield* Effect.all([readSource(entity, keys), readWorkspace(entity, keys)], {
      concurrency: 2
    })
    let workspaceRows = read
    let recovered: ReadonlyArray<ConflictRecord> = []
    const journaled = keys.filter((key) => {
      const source = sourceRows.get(key)
      return source === undefined ? workspaceRows.get(key)?.syncState === "active" : source.journaled
    })
    if (journaled.length > 0 && dryRun) {
      const view = yield* journaledView(entity, journaled, workspaceRows)
      workspaceRows = view.rows
      recovered = view.conflicts
    } else if (journaled.length > 0) {
      const recovery = yield* applyPushJournal(entity, journaled)
      recovered = recovery.conflicts
      if (recovery.rebased.size > 0) {
        const reread = yield* readWorkspace(entity, [...recovery.rebased])
        workspaceRows = new Map([...workspaceRows, ...reread])
      }
    }
    const plans: Array<Planned> = []
    const gone: Array<string> = []
    const clean: Array<WorkspaceClean> = []
    let unchanged = 0
    for (const key of keys) {
      const source = sourceRows.get(key)
      const workspace = workspaceRows.get(key)
      if (source === undefined) {
        if (workspace !== undefined && workspace.syncState === "active") gone.push(key)
        else unchanged++
        continue
      }
      const p = planKey(entity, source, workspace, committed.get(key) ?? null, policy)
      if (!p.writeWorkspace && Object.keys(p.plan.toSource).length === 0) {
        unchanged++
        if (workspace !== undefined && (workspace.dirty || workspace.sourceXmin !== source.xmin)) {
          clean.push({ key, expectedUpdatedAt: workspace.updatedAtRaw, sourceXmin: source.xmin })
        }
      } else {
        plans.push(p)
      }
    }
    const promotedKeys = yield* readPromoted(entity, gone)
    return {
      plans,
      promoted: gone.filter((k) => promotedKeys.has(k)),
      removed: gone.filter((k) => !promotedKeys.has(k)),
      clean,
      unchanged,
      recovered
    }
  })

/** Counts what a round would write, and describes it (dry runs). */
const describeRound = (round: Round, stats: Mutable<ApplyStats>, planned: Array<PlannedChange>) => {
  stats.unchanged += round.unchanged
  stats.conflicts += round.recovered.length
  for (const p of round.plans) planned.push(describe(p))
  for (const key of round.promoted)
    planned.push({ key, action: "promote", toSource: [], toWorkspace: [], conflicts: 0 })
  for (const key of round.removed)
    planned.push({ key, action: "remove", toSource: [], toWorkspace: [], conflicts: 0 })
  stats.promoted += round.promoted.length
  stats.removed += round.removed.length
  for (const p of round.plans) {
    if (p.workspace === undefined) stats.inserted++
    else stats.updated++
    if (Object.keys(p.plan.toSource).length > 0) stats.pushed++
    stats.conflicts += p.plan.conflicts.length
  }
}

/**
 * Writes a round: marks rows gone from Neon, writes Neon (pushes, compare-and-swap, each with its journal
 * entry), then the workspace (compare-and-swap, applying the journal entries of the pushes), then deletes
 * the entries and their receipts, counting into `stats`. Returns the keys that lost a race and must be
 * merged again.
 *
 * Should the process stop after the push commits, its journal entries are applied before the keys are merged
 * again (see `PushJournalApply` for every point where it can stop).
 */
const writeRound = (
  entity: Entity,
  round: Round,
  stats: Mutable<ApplyStats>
): Effect.Effect<ReadonlyArray<string>, DatabaseError, SourceDatabase | WorkspaceDatabase> =>
  Effect.gen(function* () {
    stats.unchanged += round.unchanged
    const { promoted, removed, plans } = round
    const conflictKeys: Array<string> = round.recovered.map((c) => c.record_key)
    stats.conflicts += round.recovered.length
    if (promoted.length > 0 || removed.length > 0) {
      yield* markGone(entity, promoted, removed)
      stats.promoted += promoted.length
      stats.removed += removed.length
      if (removed.length > 0) {
        yield* Effect.logWarning(
          `${removed.length} ${entity.label} record(s) were deleted on Neon without being promoted; their workspace rows are kept and marked removed`
        ).pipe(Effect.annotateLogs({ keys: removed.slice(0, 10).join(",") }))
      }
    }

    const retry = new Set<string>()
    const pushes = plans.filter((p) => Object.keys(p.plan.toSource).length > 0)
    const writes = pushes.map((p) => sourceWriteOf(entity, p))
    const pushedKeys = yield* writeSource(entity, writes)
    for (const p of pushes) if (!pushedKeys.has(p.key)) retry.add(p.key)
    const journal = writes.flatMap((w) => (pushedKeys.has(w.key) ? [w.journal] : []))

    const inserts: Array<WorkspaceInsert> = []
    const updates: Array<WorkspaceUpdate> = []
    const conflicts: Array<ConflictEntry> = []
    for (const p of plans) {
      if (retry.has(p.key) || !p.writeWorkspace) continue
      // the conflicts of a push travel in its journal entry, logged whether or not this write lands
      if (!pushedKeys.has(p.key))
        for (const conflict of p.plan.conflicts) conflicts.push({ key: p.key, conflict })
      if (p.workspace === undefined) {
        inserts.push({
          key: p.key,
          record: p.plan.newBase,
          hash: p.hash,
          updatedAt: p.plan.workspaceUpdatedAt,
          sourceXmin: p.source.xmin
        })
      } else {
        updates.push({
          key: p.key,
          expectedHash: p.workspace.lastSyncHash,
          expectedUpdatedAt: p.workspace.updatedAtRaw,
          set: p.plan.toWorkspace,
          base: p.storeBase ? p.plan.newBase : null,
          hash: p.hash,
          updatedAt: p.plan.workspaceUpdatedAt,
          pulled: Object.keys(p.plan.toWorkspace).length > 0,
          pushed: pushedKeys.has(p.key),
          syncState: "active",
          sourceXmin: pushedKeys.get(p.key) ?? p.source.xmin
        })
      }
    }
    const written = yield* writeWorkspace(entity, inserts, updates, conflicts, round.clean, journal)
    for (const i of inserts) if (!written.inserted.has(i.key)) retry.add(i.key)
    for (const u of updates) if (!written.updated.has(u.key)) retry.add(u.key)
    // the workspace holds every entry now (applied here, or by a recovery that claimed it first)
    if (journal.length > 0) yield* sweepReceipts(yield* deleteJournal(journal.map((e) => e.pushId)))

    // exactly the conflicts `writeWorkspace` logged: those of the rows it wrote, and those of the entries
    // it applied
    const logged: Array<ConflictRecord> = [
      ...conflictRecords(
        entity,
        conflicts.filter((c) => written.updated.has(c.key) || written.inserted.has(c.key))
      ),
      ...journal.flatMap((e) => (written.journaled.has(e.key) ? e.conflicts : []))
    ]
    for (const c of logged) {
      stats.conflicts++
      conflictKeys.push(c.record_key)
      yield* Effect.logWarning(describeConflict(entity, c))
    }
    const pushedList: Array<string> = []
    for (const p of plans) {
      if (pushedKeys.has(p.key)) {
        stats.pushed++
        pushedList.push(p.key)
      }
      if (retry.has(p.key) || !p.writeWorkspace) continue
      if (p.workspace === undefined) stats.inserted++
      else stats.updated++
    }
    stats.pushedKeys = [...stats.pushedKeys, ...pushedList]
    stats.conflictKeys = [...stats.conflictKeys, ...conflictKeys]
    return [...retry]
  })

/**
 * A batch of keys of one entity, read and not yet written: `prepareKeys` makes one, `applyPrepared` writes
 * it. Between the two, the batch's rows may change on either side; every write is compare-and-swap, so
 * such keys are merged again, never overwritten unseen.
 */
export interface PreparedKeys {
  readonly entity: Entity
  /** the distinct keys of the batch */
  readonly keys: ReadonlyArray<string>
  readonly committed: ReadonlyMap<string, string | null>
  /**
   * the Neon rows of the keys, projected and hashed, as `applyCleanSlices` writes them into workspace rows
   * nobody touched (read here, off the write's path)
   */
  readonly clean: CleanSlices
  /**
   * full merges (`clean: false`) and dry runs: the first round's plan, both sides read and planned here;
   * written (or, in a dry run, described) by `applyPrepared`
   */
  readonly round: Round | null
  readonly policy: MergePolicy
  readonly options: ApplyOptions
}

const noSlices: CleanSlices = { slices: [], rows: 0, snapshot: "" }

/**
 * The first half of `applyKeys`: reads the Neon rows of the given keys as `applyCleanSlices` writes them;
 * with `clean: false` (and in a dry run) reads both sides and plans every key in full instead. Keys may
 * repeat; each is merged once, with the newest commit time given for it. Writes nothing, except that a full
 * plan first applies the push journal entries its keys still have (as every round does, see
 * `PushJournalApply`; a dry run only reads them).
 */
export const prepareKeys = (
  entity: Entity,
  changes: ReadonlyArray<KeyChange>,
  options: ApplyOptions = {}
): Effect.Effect<PreparedKeys, DatabaseError, SourceDatabase | WorkspaceDatabase> =>
  Effect.gen(function* () {
    const policy = options.policy ?? defaultPolicy
    const committed = new Map<string, string | null>()
    for (const c of changes)
      committed.set(c.key, latest(committed.get(c.key), canonicalTimestamp(c.committedAt ?? null)))
    const xids = changes.flatMap((c) => (c.xid === undefined ? [] : [c.xid]))
    const keys = [...committed.keys()]
    if (options.dryRun === true) {
      yield* awaitVisible(xids)
      const round = yield* planRound(entity, keys, committed, policy, true)
      return { entity, keys, committed, clean: noSlices, round, policy, options }
    }
    if (options.clean === false) {
      yield* awaitVisible(xids)
      const round = yield* planRound(entity, keys, committed, policy)
      return { entity, keys, committed, clean: noSlices, round, policy, options }
    }
    // the read waits for the transactions to be visible itself (in the same round trip)
    const clean = yield* readCleanSlices(entity, keys, committed, { xids })
    return { entity, keys, committed, clean, round: null, policy, options }
  })

/**
 * Writes a prepared batch (the second half of `applyKeys`): first the keys whose workspace row nobody
 * touched since the engine's last write (`applyCleanSlices`: their merge is Neon's record); then the full
 * merge of the others (both sides read afresh, planned, written; a full merge's prepared plan is written as
 * it is), merging again from fresh reads the keys that lost a compare-and-swap race, up to `maxAttempts`
 * rounds in all.
 */
export const applyPrepared = (
  prepared: PreparedKeys
): Effect.Effect<ApplyStats, DatabaseError, SourceDatabase | WorkspaceDatabase> =>
  Effect.gen(function* () {
    const { entity, committed, policy, options } = prepared
    const maxAttempts = options.maxAttempts ?? 5
    const stats: Mutable<ApplyStats> = emptyStats()
    stats.keys = prepared.keys.length
    if (prepared.round !== null && options.dryRun === true) {
      const planned: Array<PlannedChange> = []
      describeRound(prepared.round, stats, planned)
      stats.changes = planned
      return stats as ApplyStats
    }
    let first = prepared.round
    if (first === null) {
      const applied = yield* applyCleanSlices(entity, prepared.clean)
      stats.updated += applied.written.size
      stats.unchanged += applied.inSync.size
      const rest = prepared.keys.filter((k) => !applied.written.has(k) && !applied.inSync.has(k))
      if (rest.length === 0) return stats as ApplyStats
      first = yield* planRound(entity, rest, committed, policy)
    }
    let pending = yield* writeRound(entity, first, stats)
    for (let attempt = 2; pending.length > 0; attempt++) {
      if (attempt > maxAttempts) {
        stats.contended = pending
        yield* Effect.logWarning(
          `${pending.length} ${entity.label} record(s) kept changing while being merged; they are merged again on the next pass`
        ).pipe(Effect.annotateLogs({ keys: pending.slice(0, 10).join(",") }))
        break
      }
      stats.retries += pending.length
      pending = yield* writeRound(entity, yield* planRound(entity, pending, committed, policy), stats)
    }
    return stats as ApplyStats
  })

/**
 * Merges the given keys of one entity (see the module header): `prepareKeys` then `applyPrepared`. Keys may
 * repeat; each is merged once, with the newest commit time given for it.
 */
export const applyKeys = (
  entity: Entity,
  changes: ReadonlyArray<KeyChange>,
  options: ApplyOptions = {}
): Effect.Effect<ApplyStats, DatabaseError, SourceDatabase | WorkspaceDatabase> =>
  Effect.flatMap(prepareKeys(entity, changes, options), applyPrepared)

/** Sums the stats of two merge-apply runs. */
export const addStats = (a: ApplyStats, b: ApplyStats): ApplyStats => ({
  keys: a.keys + b.keys,
  inserted: a.inserted + b.inserted,
  updated: a.updated + b.updated,
  pushed: a.pushed + b.pushed,
  conflicts: a.conflicts + b.conflicts,
  promoted: a.promoted + b.promoted,
  removed: a.removed + b.removed,
  unchanged: a.unchanged + b.unchanged,
  retries: a.retries + b.retries,
  contended: [...a.contended, ...b.contended],
  changes: [...a.changes, ...b.changes].slice(0, 1000),
  pushedKeys: [...a.pushedKeys, ...b.pushedKeys],
  conflictKeys: [...a.conflictKeys, ...b.conflictKeys]
})

/**
 * Merges `keys` in batches of `batchSize` (one `applyKeys` each, so a failed batch leaves the ones before it
 * applied), reporting `(done, total)` after each; the summed stats, or null when there was no key.
 */
export const applyKeysInBatches = (
  entity: Entity,
  keys: ReadonlyArray<string>,
  batchSize: number,
  options: ApplyOptions = {},
  onBatch?: (done: number, total: number) => void
): Effect.Effect<ApplyStats | null, DatabaseError, SourceDatabase | WorkspaceDatabase> =>
  Effect.gen(function* () {
    let merged: ApplyStats | null = null
    for (let i = 0; i < keys.length; i += batchSize) {
      const stats = yield* applyKeys(
        entity,
        keys.slice(i, i + batchSize).map((key) => ({ key })),
        options
      )
      merged = merged === null ? stats : addStats(merged, stats)
      onBatch?.(Math.min(i + batchSize, keys.length), keys.length)
    }
    return merged
  })
