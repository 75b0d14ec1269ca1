/**
 * The randomized tests' writers: one that edits Neon as its applications do (updates of random fields,
 * multi-row transactions, inserts of new records, deletes) and enrichers that edit the workspace as people
 * do (a few fields at a time, the enrichment status only forward: pending -> in_progress -> complete).
 * Every value written is unique and recorded in an `EditLog` with the value it replaced (read under the row
 * lock), once its transaction is known to have committed: a write cut off by a fault is looked up in
 * `chaos.committed` (see `WriteAudit`) after reconnecting.
 */
import { demoCompanyKey } from "@enrich-sync/testing"
import pg from "pg"
import { query } from "./DaemonProcess.ts"
import type { Edit, EditLog, Side } from "./EditLog.ts"
import type { SeededRandom } from "./SeededRandom.ts"
import {
  columnOf,
  companyTable,
  normalised,
  normalisedSql,
  peopleTable,
  type SyncedTable,
  uniqueValue
} from "./SyncedTables.ts"
import { writerApplication } from "./WriteAudit.ts"

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Postgres errors after which the transaction is rolled back and simply did not happen. */
const abandoned = new Set(["40P01", "40001", "55P03"])

type Pending = Omit<Edit, "at" | "tx">

/** A writer's connection, reconnecting after faults; each transaction is committed or known not to be. */
export class WriterSession {
  private client: pg.Client | null = null
  private writes = 0
  private readonly url: string
  readonly name: string
  constructor(url: string, name: string) {
    this.url = url
    this.name = name
  }

  private async connect(deadline: number): Promise<pg.Client> {
    for (;;) {
      if (this.client !== null) return this.client
      const client = new pg.Client({
        connectionString: this.url,
        application_name: `${writerApplication} ${this.name}`
      })
      client.on("error", () => {
        if (this.client === client) this.client = null
      })
      try {
        await client.connect()
        this.client = client
        return client
      } catch (error) {
        await client.end().catch(() => undefined)
        if (Date.now() > deadline)
          throw new Error(`writer ${this.name} could not reach its database for 60 s: ${String(error)}`)
        await sleep(100)
      }
    }
  }

  private drop() {
    const client = this.client
    this.client = null
    void client?.end().catch(() => undefined)
  }

  /**
   * Runs `body` in a transaction; returns what it returned once the transaction committed, or null when it
   * did not (`body` returned null, a deadlock, or a fault before the commit).
   */
  async transact<A>(body: (client: pg.Client) => Promise<A | null>): Promise<A | null> {
    const deadline = Date.now() + 60_000
    const writeId = `${this.name}-${++this.writes}`
    let result: A | null = null
    try {
      const client = await this.connect(deadline)
      await client.query("BEGIN")
      result = await body(client)
      if (result === null) {
        await client.query("ROLLBACK")
        return null
      }
      await client.query("INSERT INTO chaos.committed (write_id) VALUES ($1)", [writeId])
      await client.query("COMMIT")
      return result
    } catch (error) {
      const code = (error as { code?: string }).code
      if (code !== undefined && abandoned.has(code)) {
        await this.client?.query("ROLLBACK").catch(() => this.drop())
        return null
      }
      if (code !== undefined && !code.startsWith("57") && !code.startsWith("08")) throw error
      this.drop()
      if (result === null) return null
      // the connection went away around the COMMIT: did it commit?
      for (;;) {
        try {
          const client = await this.connect(deadline)
          const found = await client.query("SELECT 1 FROM chaos.committed WHERE write_id = $1", [writeId])
          return found.rows.length > 0 ? result : null
        } catch (again) {
          this.drop()
          if (Date.now() > deadline) throw again
          await sleep(100)
        }
      }
    }
  }

  async close() {
    await this.client?.end().catch(() => undefined)
    this.client = null
  }
}

/** The records alive on Neon as the writers know them, with a hot subset that most edits go to. */
export class KeySpace {
  private readonly alive = new Map<SyncedTable, Array<string>>()
  private readonly hot = new Map<SyncedTable, Set<string>>()
  constructor(
    initial: ReadonlyMap<SyncedTable, ReadonlyArray<string>>,
    random: SeededRandom,
    hotShare = 0.3
  ) {
    for (const [table, keys] of initial) {
      this.alive.set(table, [...keys])
      this.hot.set(table, new Set(random.sample(keys, Math.max(2, Math.round(keys.length * hotShare)))))
    }
  }
  /** alive keys of `table` that `accept` takes; hot ones most of the time */
  pick(
    random: SeededRandom,
    table: SyncedTable,
    accept: (key: string) => boolean = () => true
  ): string | null {
    const all = (this.alive.get(table) ?? []).filter(accept)
    const hot = all.filter((k) => this.hot.get(table)?.has(k))
    const from = hot.length > 0 && random.chance(0.7) ? hot : all
    return from.length === 0 ? null : random.pick(from)
  }
  add(table: SyncedTable, key: string, hot: boolean) {
    this.alive.get(table)?.push(key)
    if (hot) this.hot.get(table)?.add(key)
  }
  remove(table: SyncedTable, key: string) {
    const keys = this.alive.get(table) ?? []
    const at = keys.indexOf(key)
    if (at >= 0) keys.splice(at, 1)
  }
}

/** Reads `fields` of the rows `keys` of `table` on `side` under a row lock, normalised, by key. */
const lockRows = async (
  client: pg.Client,
  side: Side,
  table: SyncedTable,
  keys: ReadonlyArray<string>,
  fields: ReadonlyArray<string>,
  extra = ""
) => {
  const columns = fields.map((f) => {
    const c = columnOf(table, f)
    return `${normalisedSql(c.kind, side === "neon" ? c.neon : c.workspace)} AS "${f}"`
  })
  const rows = await client.query(
    `SELECT ${table.key} AS key, ${[...columns, ...(extra === "" ? [] : [extra])].join(", ")}
       FROM ${side === "neon" ? table.neonTable : table.workspaceTable}
      WHERE ${table.key} = ANY($1) ORDER BY ${table.key} FOR UPDATE`,
    [[...keys]]
  )
  return new Map(rows.rows.map((r) => [String(r.key), r as Record<string, unknown>]))
}

/** `SET a = $2, b = $3 ...` for an UPDATE whose $1 is the key; a timestamp value is cast. */
const assignments = (table: SyncedTable, values: ReadonlyArray<readonly [string, string | number]>) =>
  values
    .map(([f, _], i) => `${f} = $${i + 2}${columnOf(table, f).kind === "timestamp" ? "::timestamp" : ""}`)
    .join(", ")

type NeonAction =
  | {
      readonly kind: "update"
      readonly table: SyncedTable
      readonly key: string
      readonly fields: ReadonlyArray<string>
    }
  | { readonly kind: "insert"; readonly key: string }
  | { readonly kind: "delete"; readonly table: SyncedTable; readonly key: string }

/** Edits Neon as its applications do, one transaction per step. */
export class NeonEditor {
  readonly session: WriterSession
  private seq = 0
  private inserts = 0
  private deletes = 0
  private readonly log: EditLog
  private readonly keys: KeySpace
  private readonly random: SeededRandom
  private readonly options: { readonly maxDeletes: number; readonly insertFrom: number }
  constructor(
    url: string,
    log: EditLog,
    keys: KeySpace,
    random: SeededRandom,
    /** at most `maxDeletes` deletes; new records get `demoCompanyKey(insertFrom + n)` */
    options: { readonly maxDeletes: number; readonly insertFrom: number } = {
      maxDeletes: 6,
      insertFrom: 1000
    }
  ) {
    this.session = new WriterSession(url, "neon")
    this.log = log
    this.keys = keys
    this.random = random
    this.options = options
  }

  private update(table: SyncedTable, accept?: (key: string) => boolean): NeonAction | null {
    const key = this.keys.pick(this.random, table, accept)
    if (key === null) return null
    return { kind: "update", table, key, fields: this.random.sample(table.editable, this.random.int(1, 2)) }
  }

  /** What the next transaction does: one update, several, an insert, a delete, or a mix. */
  private plan(): ReadonlyArray<NeonAction> {
    const r = this.random.next()
    const insert = (): NeonAction => ({
      kind: "insert",
      key: demoCompanyKey(this.options.insertFrom + this.inserts++)
    })
    const remove = (): Array<NeonAction> => {
      if (this.deletes >= this.options.maxDeletes) return []
      const key = this.keys.pick(this.random, companyTable)
      if (key === null) return []
      this.deletes++
      return [{ kind: "delete", table: companyTable, key }]
    }
    if (r < 0.6) {
      const table = this.random.chance(0.85) ? companyTable : peopleTable
      return [this.update(table)].filter((a) => a !== null)
    }
    if (r < 0.9) {
      const n = this.random.int(2, 4)
      const chosen = new Set<string>()
      const actions: Array<NeonAction> = []
      for (let i = 0; i < n; i++) {
        const a = this.update(
          i === n - 1 && this.random.chance(0.3) ? peopleTable : companyTable,
          (k) => !chosen.has(k)
        )
        if (a !== null && a.kind === "update") {
          chosen.add(a.key)
          actions.push(a)
        }
      }
      return actions
    }
    if (r < 0.95) return [insert(), ...[this.update(companyTable)].filter((a) => a !== null)]
    if (r < 0.98) return remove()
    return [this.update(companyTable), insert(), ...remove()].filter((a) => a !== null)
  }

  /** One transaction; returns the number of rows it wrote (0 when it did not commit). */
  async step(): Promise<number> {
    const actions = this.plan()
    if (actions.length === 0) return 0
    const bump = this.random.chance(0.5)
    const values = actions.map((a) =>
      a.kind === "update"
        ? a.fields.map((f) => [f, uniqueValue(f, "n", ++this.seq, 7)] as const)
        : a.kind === "insert"
          ? companyTable.editable.map((f) => [f, uniqueValue(f, "n", ++this.seq, 7)] as const)
          : []
    )
    const done = await this.session.transact(async (client) => {
      const edits: Array<Pending> = []
      const deleted: Array<{ table: SyncedTable; key: string }> = []
      const inserted: Array<string> = []
      for (const table of [companyTable, peopleTable]) {
        const mine = actions.filter((a) => a.kind !== "insert" && a.table === table) as Array<
          Extract<NeonAction, { table: SyncedTable }>
        >
        if (mine.length === 0) continue
        const locked = await lockRows(
          client,
          "neon",
          table,
          mine.map((a) => a.key),
          table.editable
        )
        for (const action of mine) {
          const row = locked.get(action.key)
          if (row === undefined) continue
          if (action.kind === "delete") {
            await client.query(`DELETE FROM ${table.neonTable} WHERE ${table.key} = $1`, [action.key])
            deleted.push({ table, key: action.key })
            continue
          }
          const set = values[actions.indexOf(action)]!
          await client.query(
            `UPDATE ${table.neonTable} SET ${assignments(table, set)}${bump ? ", updated_at = now() AT TIME ZONE 'UTC'" : ""} WHERE ${table.key} = $1`,
            [action.key, ...set.map(([, v]) => v)]
          )
          for (const [field, value] of set)
            edits.push({
              side: "neon",
              writer: "neon",
              entity: table.entity,
              key: action.key,
              field,
              value: normalised(value),
              overwrote: normalised(row[field])
            })
        }
      }
      for (const action of actions) {
        if (action.kind !== "insert") continue
        const set = values[actions.indexOf(action)]!
        await client.query(
          `INSERT INTO ${companyTable.neonTable} (${companyTable.key}, ${set.map(([f]) => f).join(", ")}, state, reason_code, validation_errors)
           VALUES ($1, ${set.map((_, i) => `$${i + 2}`).join(", ")}, 'WV', 'INVALID_PHONE', '{"phone": "not a phone number"}')`,
          [action.key, ...set.map(([, v]) => v)]
        )
        inserted.push(action.key)
        for (const [field, value] of set)
          edits.push({
            side: "neon",
            writer: "neon",
            entity: "company",
            key: action.key,
            field,
            value: normalised(value),
            overwrote: undefined
          })
      }
      return edits.length + deleted.length === 0 ? null : { edits, deleted, inserted }
    })
    if (done === null) return 0
    this.log.add(done.edits)
    for (const d of done.deleted) {
      this.log.delete(d.table.entity, d.key)
      this.keys.remove(d.table, d.key)
    }
    for (const key of done.inserted) this.keys.add(companyTable, key, this.random.chance(0.5))
    return new Set(done.edits.map((e) => e.key)).size + done.deleted.length
  }
}

/** Where an enrichment status goes next, forward only. */
const nextStatus = (random: SeededRandom, status: string): string =>
  status === "pending" ? "in_progress" : status === "in_progress" && random.chance(0.3) ? "complete" : status

/** Edits workspace rows as a person does: the rows of its share of the keys, a few fields at a time. */
export class Enricher {
  readonly session: WriterSession
  private seq = 0
  private readonly log: EditLog
  private readonly keys: KeySpace
  private readonly random: SeededRandom
  private readonly index: number
  private readonly of: number
  constructor(
    url: string,
    log: EditLog,
    keys: KeySpace,
    random: SeededRandom,
    /** this enricher's number (1-based), and how many share the keys */
    index: number,
    of: number
  ) {
    this.session = new WriterSession(url, `w${index}`)
    this.log = log
    this.keys = keys
    this.random = random
    this.index = index
    this.of = of
  }

  private get tag() {
    return `w${this.index}`
  }

  /** Whether `key` is this enricher's (each record has one enricher, so its edits are ordered). */
  owns(key: string): boolean {
    let h = 0
    for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) >>> 0
    return h % this.of === this.index - 1
  }

  /** Edits one row: `fields` (random ones when not given) and the status `to` (the next one when not given). */
  private async edit(table: SyncedTable, key: string, fields: ReadonlyArray<string>, to?: string) {
    const statusField = ["enrichment_status", "enriched_by", "enriched_at"]
    const done = await this.session.transact(async (client) => {
      const row = (
        await lockRows(client, "workspace", table, [key], [...fields, ...statusField], "sync_state")
      ).get(key)
      if (row === undefined || row.sync_state !== "active") return null
      const status = String(row.enrichment_status)
      const next = to ?? nextStatus(this.random, status)
      if (to !== undefined && status !== "in_progress") return null
      const set: Array<readonly [string, string | number]> = fields.map(
        (f) => [f, uniqueValue(f, this.tag, ++this.seq, 7 + this.index)] as const
      )
      if (next !== status) {
        set.push(
          ["enrichment_status", next],
          ["enriched_by", uniqueValue("enriched_by", this.tag, ++this.seq, 0)]
        )
        if (next === "complete")
          set.push(["enriched_at", uniqueValue("enriched_at", this.tag, ++this.seq, this.index)])
      }
      if (set.length === 0) return null
      await client.query(
        `UPDATE ${table.workspaceTable} SET ${assignments(table, set)} WHERE ${table.key} = $1`,
        [key, ...set.map(([, v]) => v)]
      )
      return set.map(
        ([field, value]): Pending => ({
          side: "workspace",
          writer: this.tag,
          entity: table.entity,
          key,
          field,
          value: normalised(value),
          overwrote: normalised(row[field])
        })
      )
    })
    if (done !== null) this.log.add(done)
    return done === null ? 0 : 1
  }

  /** One edit of a random row of this enricher's; returns the rows written (0 or 1). */
  async step(): Promise<number> {
    const table = this.random.chance(0.85) ? companyTable : peopleTable
    const key = this.keys.pick(this.random, table, (k) => this.owns(k))
    if (key === null) return 0
    return this.edit(table, key, this.random.sample(table.editable, this.random.int(1, 3)))
  }

  /** Completes every row of this enricher's still in progress (what an enricher does at the end of the day). */
  async finish(url: string): Promise<number> {
    let written = 0
    for (const table of [companyTable, peopleTable]) {
      const rows = await query(
        url,
        `SELECT ${table.key} AS key FROM ${table.workspaceTable} WHERE enrichment_status = 'in_progress' AND sync_state = 'active' ORDER BY 1`
      )
      for (const key of rows.map((r) => String(r.key)).filter((k) => this.owns(k)))
        written += await this.edit(table, key, [], "complete")
    }
    return written
  }
}

/** Runs `step` with a random pause after each until `stop` resolves; returns the rows written. */
export const keepEditing = async (
  step: () => Promise<number>,
  random: SeededRandom,
  pauseMs: readonly [number, number],
  stop: Promise<void>
): Promise<number> => {
  let stopped = false
  void stop.then(() => {
    stopped = true
  })
  let rows = 0
  while (!stopped) {
    rows += await step()
    await Promise.race([sleep(random.int(pauseMs[0], pauseMs[1])), stop])
  }
  return rows
}
