/**
 * Every value the randomized tests' writers wrote (side, key, field, value, and the value it replaced),
 * and the check that none of them was lost.
 *
 * What "not lost" means, per the sync model: for each field of each record, the last value each side's
 * writers wrote (earlier ones were replaced by that side itself; the model merges them as one edit) must
 * either
 *  (a) be the final value on both sides (only the workspace for a record deleted on Neon), or
 *  (b) have lost a conflict to the other side's edit: a `sync_conflicts` row for that record and field holds
 *      it as its side's value, the other side as the winner, and a value the other side's writers wrote, or
 *  (c) have been replaced by a writer of the other side that saw it (that writer's edit read it under a row
 *      lock before replacing it: a later edit made knowing it, not a loss).
 * Values are unique per write, so a value found anywhere came from exactly one write. A status is not
 * unique: the last status each side wrote must be the final one (a). Values are compared normalised
 * (`normalised` of `SyncedTables`).
 */
export type Side = "neon" | "workspace"

/** One field written by one of the test's writers, in a transaction known to have committed. */
export interface Edit {
  readonly side: Side
  readonly writer: string
  readonly entity: "company" | "people"
  readonly key: string
  readonly field: string
  /** normalised (see `normalised`) */
  readonly value: string | null
  /** the value the row held before (read under the row lock); undefined for an INSERT */
  readonly overwrote: string | null | undefined
  /** when the commit returned, in ms since the log began */
  readonly at: number
  /** the transaction's number in this log */
  readonly tx: number
}

/** A row of `sync_conflicts`, values as text. */
export interface LoggedConflict {
  readonly entity: string
  readonly key: string
  readonly field: string
  readonly reason: string
  readonly winner: string
  readonly sourceValue: string | null
  readonly workspaceValue: string | null
  /** the agreed value, both edit times and when it was logged, for messages */
  readonly details: string
}

/** Both sides' final values of a record: `neon` is null when the record is gone from Neon. */
export interface FinalRecord {
  readonly neon: Readonly<Record<string, string | null>> | null
  readonly workspace: Readonly<Record<string, string | null>> | null
}

/** A value `lostValues` found lost: where, and what happened to it. */
export interface LostValue {
  readonly entity: "company" | "people"
  readonly key: string
  readonly field: string
  readonly message: string
}

/** `entity key`, the identity of a record across both sides. */
export const recordId = (entity: string, key: string): string => `${entity} ${key}`

/** The writes of a test run, in commit order per writer. */
export class EditLog {
  readonly edits: Array<Edit> = []
  /** records deleted on Neon by the test (never inserted again) */
  readonly deleted = new Set<string>()
  private readonly started = Date.now()
  private transactions = 0

  /** Records a committed transaction's fields. */
  add(edits: ReadonlyArray<Omit<Edit, "at" | "tx">>) {
    const at = Date.now() - this.started
    const tx = ++this.transactions
    for (const e of edits) this.edits.push({ ...e, at, tx })
  }

  /** Records a committed delete on Neon. */
  delete(entity: string, key: string) {
    this.deleted.add(recordId(entity, key))
  }

  /** How many row writes the writers made (one per record and transaction). */
  rowWrites(): number {
    return new Set(this.edits.map((e) => `${e.tx} ${e.entity} ${e.key}`)).size
  }

  /** The last edit of each side, record and field. */
  lastEdits(): Array<Edit> {
    const last = new Map<string, Edit>()
    for (const e of this.edits) last.set(`${e.side} ${e.entity} ${e.key} ${e.field}`, e)
    return [...last.values()]
  }

  /** Every edit whose value is neither final, nor a logged conflict's loser, nor knowingly replaced (see the header). */
  lostValues(
    finals: ReadonlyMap<string, FinalRecord>,
    conflicts: ReadonlyArray<LoggedConflict>
  ): Array<LostValue> {
    const written = (side: Side, entity: string, key: string, field: string) =>
      new Set(
        this.edits
          .filter((e) => e.side === side && e.entity === entity && e.key === key && e.field === field)
          .map((e) => e.value)
      )
    const lost: Array<LostValue> = []
    const report = (edit: Edit, message: string) =>
      lost.push({ entity: edit.entity, key: edit.key, field: edit.field, message })
    for (const edit of this.lastEdits()) {
      const id = recordId(edit.entity, edit.key)
      const gone = this.deleted.has(id)
      // Neon's own delete came after every Neon edit of the record
      if (gone && edit.side === "neon") continue
      const final = finals.get(id)
      const onNeon = final?.neon?.[edit.field]
      const inWorkspace = final?.workspace?.[edit.field]
      const present = gone ? inWorkspace === edit.value : onNeon === edit.value && inWorkspace === edit.value
      if (present) continue
      if (edit.field === "enrichment_status") {
        report(
          edit,
          `${edit.side} set ${id} ${edit.field} to ${edit.value} last; it ends ${onNeon ?? "(none)"} on Neon, ${inWorkspace ?? "(none)"} in the workspace`
        )
        continue
      }
      const other: Side = edit.side === "neon" ? "workspace" : "neon"
      const otherWrote = written(other, edit.entity, edit.key, edit.field)
      const loggedLoss = conflicts.some(
        (c) =>
          c.entity === edit.entity &&
          c.key === edit.key &&
          c.field === edit.field &&
          c.winner === (other === "neon" ? "source" : "workspace") &&
          (edit.side === "neon" ? c.sourceValue : c.workspaceValue) === edit.value &&
          otherWrote.has(other === "neon" ? c.sourceValue : c.workspaceValue)
      )
      if (loggedLoss) continue
      const knowinglyReplaced = this.edits.some(
        (e) =>
          e.side === other &&
          e.entity === edit.entity &&
          e.key === edit.key &&
          e.field === edit.field &&
          e.overwrote === edit.value
      )
      if (knowinglyReplaced) continue
      report(
        edit,
        `${edit.side} (${edit.writer}) wrote ${JSON.stringify(edit.value)} to ${id} ${edit.field} last, at ${edit.at} ms; it ends ${JSON.stringify(onNeon ?? null)} on Neon${final?.neon === null ? " (gone)" : ""} and ${JSON.stringify(inWorkspace ?? null)} in the workspace, no conflict records it as the loser, and no ${other} writer replaced it`
      )
    }
    return lost
  }

  /** The writers' edits of one field of one record, one line each, in order (for messages). */
  history(entity: string, key: string, field: string): Array<string> {
    return this.edits
      .filter((e) => e.entity === entity && e.key === key && e.field === field)
      .map(
        (e) =>
          `${e.at} ms ${e.side} ${e.writer} tx ${e.tx}: ${JSON.stringify(e.value)} over ${e.overwrote === undefined ? "(inserted)" : JSON.stringify(e.overwrote)}`
      )
  }

  /** Whether a writer of `side` wrote `value` into the conflict's field. */
  private wrote(side: Side, c: LoggedConflict, value: string | null): boolean {
    return this.edits.some(
      (e) =>
        e.side === side &&
        e.entity === c.entity &&
        e.key === c.key &&
        e.field === c.field &&
        e.value === value
    )
  }

  /** Whether the Neon editor inserted the record (`recordId`) during the run. */
  insertedOnNeon(id: string): boolean {
    return this.edits.some(
      (e) => e.side === "neon" && e.overwrote === undefined && recordId(e.entity, e.key) === id
    )
  }

  /**
   * Conflicts whose values no writer wrote: a both-changed conflict is between an edit of each side, so both
   * of its values must be in this log (a conflict made of the engine's own writes would be an echo).
   */
  phantomConflicts(conflicts: ReadonlyArray<LoggedConflict>): Array<string> {
    return conflicts
      .filter((c) => c.reason === "both-changed")
      .filter((c) => !this.wrote("neon", c, c.sourceValue) || !this.wrote("workspace", c, c.workspaceValue))
      .map(
        (c) =>
          `${c.entity} ${c.key} ${c.field}: ${c.winner} won over ${JSON.stringify(c.winner === "source" ? c.workspaceValue : c.sourceValue)} with ${JSON.stringify(c.winner === "source" ? c.sourceValue : c.workspaceValue)}, values the writers did not both write (${c.details})`
      )
  }
}
