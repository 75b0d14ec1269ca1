/**
 * Stage 4 on its own, re-validate: runs core's rules (`validate`) over the rows of a Neon invalid table
 * (all of them, or only those whose enrichment is `complete`) and writes the outcome back:
 * `validation_errors` (`{}` when passed), `validation_warnings`, `reason_code` (`PASSED` when passed), the
 * validation status, and the values the rules derive (a domain from the website).
 *
 * The table is read in keyset batches by `id`. Per batch, only rows whose outcome differs from what they
 * hold are written, in one UPDATE with compare-and-swap on the SQL projection hash, and each written row is
 * logged to `shq_validation_log` (action `revalidate`) in the same transaction. These Neon writes reach the
 * workspace like any Neon change (the daemon, or the next backfill).
 *
 * Invariant: a row is written only if its projection still hashes to what was validated, so an edit made
 * between the read and the write is never overwritten with an outcome computed from older values: the row
 * is read and validated again (up to `maxAttempts`), then left as it is and reported. After a run, every row
 * written holds the outcome of validating what it holds, so a re-run with nothing new writes nothing.
 */
import type { Entity, SyncRecord, SyncValue, ValidationOutcome } from "@enrich-sync/core"
import {
  projectSource,
  qualified,
  sameValue,
  sourceHashFunction,
  validate,
  validationFields
} from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import type { Row } from "../store/Database.ts"
import { SourceDatabase } from "../store/Database.ts"
import { fieldDefinitions, fieldKey, recordSetValue } from "../store/RecordSet.ts"
import { compareAndSwapRow, writableSourceFields } from "../store/SourceStore.ts"
import type { ValidationLogEntry } from "../store/ValidationLog.ts"
import { logValidation } from "../store/ValidationLog.ts"
import type { EntityStage } from "./EntityStage.ts"
import { timed } from "./EntityStage.ts"
import type { Progress } from "./Progress.ts"

/** Options of a re-validation. */
export interface RevalidateOptions {
  /** only rows whose enrichment status is `complete` (the guide's `revalidate-enriched`; default false) */
  readonly onlyEnriched?: boolean
  /** rows read and written per batch (default 5000) */
  readonly batchSize?: number
  /** validate and count, write nothing (default false) */
  readonly dryRun?: boolean
  /** how many times a row edited between its read and its write is validated again (default 3) */
  readonly maxAttempts?: number
  readonly onProgress?: (progress: Progress) => void
}

/** What a re-validation of one entity found and did. */
export interface RevalidateReport {
  readonly entity: Entity["name"]
  /** rows read and validated (a row deleted while it was being re-read is counted here only) */
  readonly checked: number
  /** rows that pass the rules (after the run; in a dry run, that would) */
  readonly passed: number
  readonly failed: number
  /** rows whose validation fields (or derived values) were written (dry run: would be) */
  readonly changed: number
  /** the keys of the rows that pass (the input of `promote`), batch by batch in `id` order */
  readonly passedIds: ReadonlyArray<string>
  /** rows edited by someone else between read and write on every attempt: left as they are, not counted as passed or failed */
  readonly contended: ReadonlyArray<string>
  readonly durationMs: number
}

/** The outcome of validating one row, and what would change. */
interface Checked {
  readonly key: string
  readonly id: number
  readonly hash: string
  readonly record: SyncRecord
  readonly outcome: ValidationOutcome
  /** field -> new value, only the fields that differ */
  readonly set: { readonly [field: string]: SyncValue }
}

/** The data fields a re-validation may fill in (derived values), as opposed to its own outcome fields. */
const outcomeFieldNames = new Set([
  "validation_errors",
  "validation_warnings",
  "reason_code",
  "validation_status"
])

/**
 * Validates a projected row. When the rules derive values, the outcome written is the one of the record
 * with them applied, so that the row then holds exactly the outcome of validating what it holds.
 */
export const revalidateRecord = (
  entity: Entity,
  record: SyncRecord
): { readonly outcome: ValidationOutcome; readonly set: { readonly [field: string]: SyncValue } } => {
  const first = validate(entity, record)
  const derived: { [field: string]: SyncValue } = {}
  for (const [field, value] of Object.entries(first.derived)) {
    if (!sameValue(record[field] ?? null, value)) derived[field] = value
  }
  const outcome = Object.keys(derived).length === 0 ? first : validate(entity, { ...record, ...derived })
  const set: { [field: string]: SyncValue } = { ...derived }
  for (const [field, value] of Object.entries(validationFields(outcome))) {
    if (!sameValue(record[field] ?? null, value)) set[field] = value
  }
  return { outcome, set }
}

const sourceColumns = (entity: Entity) =>
  [...new Set(["id", ...entity.fields.map((f) => f.source)])].map((c) => `t.${c}`).join(", ")

/** `enrichment_status` is `complete`, normalised as the projection does. */
const enrichedCondition = `enrich_sync.canonical_status(t.enrichment_status) = '"complete"'`

const batchSql = (entity: Entity, onlyEnriched: boolean, first: boolean) =>
  `SELECT ${sourceColumns(entity)}, ${sourceHashFunction(entity)}(t) AS sync_hash
     FROM ${qualified(entity.sourceTable)} AS t
    WHERE ${first ? "true" : "t.id > $2::bigint"}${onlyEnriched ? ` AND ${enrichedCondition}` : ""}
    ORDER BY t.id LIMIT $1`

const keysSql = (entity: Entity) =>
  `SELECT ${sourceColumns(entity)}, ${sourceHashFunction(entity)}(t) AS sync_hash
     FROM ${qualified(entity.sourceTable)} AS t WHERE t.${entity.key} = ANY($1::text[]) ORDER BY t.id`

const countSql = (entity: Entity, onlyEnriched: boolean) =>
  `SELECT count(*)::bigint AS n FROM ${qualified(entity.sourceTable)} AS t${onlyEnriched ? ` WHERE ${enrichedCondition}` : ""}`

/**
 * The compare-and-swap UPDATE of a batch: sets the fields named in each row's `set`, bumps `updated_at`
 * only when a data field is filled in (an outcome alone is not an edit of the record), and returns the
 * keys written. `validation_errors` and `reason_code` are NOT NULL in the seed's tables.
 */
export const revalidateUpdateSql = (entity: Entity): string => {
  const table = qualified(entity.sourceTable)
  const fields = writableSourceFields(entity)
  const sets = fields.map((f) => {
    const value =
      f.source === "validation_errors"
        ? `coalesce(${recordSetValue(f, "v")}, '{}'::jsonb)`
        : f.source === "reason_code"
          ? `coalesce(v.${fieldKey(f)}, '')`
          : recordSetValue(f, "v")
    return `${f.source} = CASE WHEN v.set ? '${f.name}' THEN ${value} ELSE t.${f.source} END`
  })
  return `UPDATE ${table} AS t SET
      ${sets.join(",\n      ")},
      updated_at = CASE WHEN v.edited THEN greatest(t.updated_at, now() AT TIME ZONE 'UTC') ELSE t.updated_at END
    FROM jsonb_to_recordset($1::jsonb) AS v(key text, expected text, set jsonb, edited boolean, ${fieldDefinitions(fields)})
    WHERE t.${entity.key} = v.key AND ${sourceHashFunction(entity)}(t) = v.expected
    RETURNING t.${entity.key} AS key`
}

const check = (entity: Entity, row: Row): Checked => {
  const record = projectSource(entity, row)
  const { outcome, set } = revalidateRecord(entity, record)
  return {
    key: String(row[entity.key]),
    id: Number(row.id),
    hash: String(row.sync_hash),
    record,
    outcome,
    set
  }
}

const logEntry = (c: Checked): ValidationLogEntry => ({
  recordId: c.key,
  action: "revalidate",
  validationStatus: c.outcome.status,
  validationErrors: c.outcome.errors,
  details: {
    fields: Object.keys(c.set),
    reason_code: c.outcome.reasonCode,
    previous_status: c.record.validation_status ?? null,
    previous_reason_code: c.record.reason_code ?? null
  },
  batchId: (c.record.batch_id as string | null | undefined) ?? null
})

/** Writes the changed rows of a batch with their log entries; returns the keys written. */
const writeBatch = (entity: Entity, changed: ReadonlyArray<Checked>) =>
  Effect.gen(function* () {
    if (changed.length === 0) return new Set<string>()
    const db = yield* SourceDatabase
    const fields = writableSourceFields(entity)
    const payload = changed.map((c) =>
      compareAndSwapRow(fields, c.key, c.hash, c.set, {
        edited: Object.keys(c.set).some((f) => !outcomeFieldNames.has(f))
      })
    )
    return yield* db.transaction((tx) =>
      Effect.gen(function* () {
        const rows = yield* tx.query(revalidateUpdateSql(entity), [JSON.stringify(payload)])
        const written = new Set(rows.map((r) => String(r.key)))
        yield* logValidation(tx, entity, changed.filter((c) => written.has(c.key)).map(logEntry))
        return written
      })
    )
  })

/** Re-validates one entity (see the module header). */
export const revalidateEntity: EntityStage<RevalidateOptions, RevalidateReport, SourceDatabase> = (
  entity,
  options = {}
) =>
  Effect.gen(function* () {
    const db = yield* SourceDatabase
    const onlyEnriched = options.onlyEnriched ?? false
    const dryRun = options.dryRun ?? false
    const batchSize = Math.max(1, Math.floor(options.batchSize ?? 5000))
    const maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? 3))
    const [counted] = yield* db.query(countSql(entity, onlyEnriched))
    const total = Number(counted?.n ?? 0)

    let checked = 0
    let changed = 0
    const passedIds: Array<string> = []
    let failed = 0
    const contended: Array<string> = []
    const settle = (c: Checked) => {
      if (c.outcome.status === "PASSED") passedIds.push(c.key)
      else failed++
    }

    let lastId: number | null = null
    while (true) {
      const rows: ReadonlyArray<Row> = yield* db.query(
        batchSql(entity, onlyEnriched, lastId === null),
        lastId === null ? [batchSize] : [batchSize, lastId]
      )
      if (rows.length === 0) break
      lastId = Number(rows[rows.length - 1]!.id)
      checked += rows.length
      let batch = rows.map((row) => check(entity, row))
      for (let attempt = 1; ; attempt++) {
        const toWrite = batch.filter((c) => Object.keys(c.set).length > 0)
        for (const c of batch) if (Object.keys(c.set).length === 0) settle(c)
        if (dryRun) {
          changed += toWrite.length
          for (const c of toWrite) settle(c)
          break
        }
        const written = yield* writeBatch(entity, toWrite)
        changed += written.size
        for (const c of toWrite) if (written.has(c.key)) settle(c)
        const lost = toWrite.filter((c) => !written.has(c.key)).map((c) => c.key)
        if (lost.length === 0) break
        // edited since it was read: validate what it holds now (a row deleted meanwhile simply drops out)
        batch = (yield* db.query(keysSql(entity), [lost])).map((row) => check(entity, row))
        if (attempt >= maxAttempts) {
          for (const c of batch) {
            if (Object.keys(c.set).length === 0) settle(c)
            else contended.push(c.key)
          }
          break
        }
      }
      options.onProgress?.({
        stage: "revalidate",
        entity: entity.name,
        done: checked,
        total: Math.max(total, checked)
      })
      if (rows.length < batchSize) break
    }
    return {
      entity: entity.name,
      checked,
      passed: passedIds.length,
      failed,
      changed,
      passedIds,
      contended
    }
  }).pipe(timed)
