/**
 * Which of a batch's keys may be promoted, and why the others may not: a row is promoted only when its
 * stored `validation_status` is `PASSED`; a key not on Neon is reported as promoted before, not there, or
 * not a Barton ID.
 */
import type { Entity } from "@enrich-sync/core"
import { isBartonId, qualified, quoteIdent } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import type { Row, Session } from "../../store/Database.ts"
import { byKeysSql } from "./PromoteSql.ts"

/** A key that was not promoted, and why. */
export interface SkippedKey {
  readonly key: string
  readonly reason: string
  /** set when the key was left out because its workspace row holds edits Neon has not received */
  readonly unpushedEdits?: true
}

/** A row read for promotion: its key and its status. */
interface Candidate {
  readonly key: string
  readonly status: string | null
  readonly reasonCode: string | null
}

const toCandidate = (row: Row): Candidate => ({
  key: String(row.key),
  status: row.validation_status === null ? null : String(row.validation_status),
  reasonCode: row.reason_code === null ? null : String(row.reason_code)
})

/** Why a row may not be promoted, or null when it may (its stored status is `PASSED`). */
const refusal = (row: Candidate): string | null => {
  if (row.status === "PASSED") return null
  if (row.status === null || row.status.trim() === "") {
    return "not validated (no validation_status): run revalidate first"
  }
  const reason = row.reasonCode === null || row.reasonCode === "" ? "" : ` (reason_code ${row.reasonCode})`
  return `validation_status is ${row.status}${reason}, not PASSED: enrich it, push it, and run revalidate`
}

/** Why keys asked for are not on Neon: promoted before, or never there. */
const missingReasons = (entity: Entity, session: Pick<Session, "query">, keys: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    if (keys.length === 0) return []
    const master = qualified(entity.masterTable)
    const invalid = qualified(entity.sourceTable)
    const promoted = new Set(
      (yield* session.query(
        `SELECT ${quoteIdent(entity.key)} AS key FROM ${master} WHERE ${quoteIdent(entity.key)} = ANY($1::text[])`,
        [keys]
      )).map((r) => String(r.key))
    )
    return keys.map(
      (key): SkippedKey => ({
        key,
        reason: promoted.has(key)
          ? `already in ${master} and not in ${invalid} (promoted before)`
          : isBartonId(key)
            ? `not in ${invalid}`
            : `not a Barton ID (NN.NN.NN.NN.NNNNN.NNN), and not in ${invalid}`
      })
    )
  })

/** The rows of one batch of keys, sorted into those to promote and those skipped. */
export interface Batch {
  /** the keys promoted (in a dry run: that would be) */
  readonly promote: ReadonlyArray<string>
  readonly skipped: ReadonlyArray<SkippedKey>
}

/** Reads the rows of `keys` and sorts them into those that may be promoted and those that may not (why). */
export const readBatch = (entity: Entity, session: Pick<Session, "query">, keys: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const rows = (yield* session.query(byKeysSql(entity), [keys])).map(toCandidate)
    const promote: Array<string> = []
    const skipped: Array<SkippedKey> = []
    for (const row of rows) {
      const reason = refusal(row)
      if (reason === null) promote.push(row.key)
      else skipped.push({ key: row.key, reason })
    }
    const found = new Set(rows.map((r) => r.key))
    skipped.push(
      ...(yield* missingReasons(
        entity,
        session,
        keys.filter((k) => !found.has(k))
      ))
    )
    const batch: Batch = { promote, skipped }
    return batch
  })
