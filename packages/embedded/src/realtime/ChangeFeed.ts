/**
 * The Realtime stand-in's change feed, read the way Supabase Realtime's poller reads it
 * (`realtime-protocol.md` §4): a temporary logical replication slot on the workspace database, polled with
 * `pg_logical_slot_get_binary_changes` (pgoutput over the `supabase_realtime` publication) for at most
 * `maxChangesPerPoll` changes (whole transactions), again at once after a poll that found changes and after
 * `idlePollIntervalMs` otherwise. Reading consumes the changes whether anyone listens or not: delivery is at
 * most once, as on the real server.
 *
 * Each change becomes what Realtime's `apply_rls` builds (§3.1): the table's columns with their type names,
 * `record` (INSERT, UPDATE) and `old_record` (UPDATE, DELETE: the replica identity's columns, all of them
 * with REPLICA IDENTITY FULL), values typed as `to_jsonb` types them, the commit time in milliseconds. An
 * unchanged TOAST value is missing from `record`, as on the real server.
 *
 * Each poll decodes from the slot's `restart_lsn`, which the server moves only past a "running
 * transactions" record (logged every 15 s by its background writer): until then every poll, even an empty
 * one, decodes all the WAL written since again (25 ms a poll after a 10,000-row update of a wide table).
 * After a poll that read changes the feed logs such a record (`pg_log_standby_snapshot()`, PostgreSQL 16 and
 * later, for a role allowed to run it; the feed stops trying where it is not), so the next poll moves the
 * slot on. What the feed delivers does not change; its cost does.
 *
 * Invariant: changes are handed on in commit order, each exactly once, and only after the poll that read
 * them succeeded. The feed's session (which holds the temporary slot) runs one query at a time: the poll
 * loop is its only user, and it awaits each query before the next.
 */
import pg from "pg"
import { type Pgoutput, PgoutputPlugin } from "pg-logical-replication"

/** A column of a change: its name and `pg_type.typname`. */
export interface ChangeColumn {
  readonly name: string
  readonly type: string
}

/** One row change, as Realtime's poller hands it to the channels. */
export interface RowChange {
  readonly schema: string
  readonly table: string
  readonly type: "INSERT" | "UPDATE" | "DELETE"
  /** `YYYY-MM-DDTHH:MM:SS.mmmZ`, the same for every change of a transaction */
  readonly commitTimestamp: string
  readonly columns: ReadonlyArray<ChangeColumn>
  readonly record?: Readonly<Record<string, unknown>>
  readonly oldRecord?: Readonly<Record<string, unknown>>
}

/** How the feed polls. */
export interface ChangeFeedOptions {
  readonly databaseUrl: string
  /** default `supabase_realtime` */
  readonly publication?: string
  /** pause between polls when the last one found nothing (default 500 ms, Realtime's idle interval) */
  readonly idlePollIntervalMs?: number
  /** most changes one poll reads, whole transactions (default 100, Realtime's) */
  readonly maxChangesPerPoll?: number
}

/** A running feed. */
export interface ChangeFeed {
  /** the slot's name (temporary: it goes with the feed's session) */
  readonly slot: string
  /** stops polling and closes the session (the slot goes with it) */
  readonly stop: () => Promise<void>
}

type Relation = Pgoutput.MessageRelation

const numeric = new Set(["int2", "int4", "int8", "float4", "float8", "numeric", "oid"])

/** A column's text as `to_jsonb` types it (§3.1: numbers, booleans, JSON, strings in ISO form). */
const jsonValue = (type: string, text: string): unknown => {
  if (type.startsWith("_"))
    return parseArray(text).map((e) => (e === null ? null : jsonValue(type.slice(1), e)))
  if (type === "bool") return text === "t"
  if (numeric.has(type)) {
    const n = Number(text)
    return Number.isFinite(n) ? n : text
  }
  if (type === "json" || type === "jsonb") return JSON.parse(text)
  if (type === "timestamp") return text.replace(" ", "T")
  if (type === "timestamptz") return text.replace(" ", "T").replace(/([+-]\d\d)$/, "$1:00")
  return text
}

/** The elements of a one-dimensional array literal (`{a,"b c",NULL}`), null for NULL. */
const parseArray = (text: string): Array<string | null> => {
  const inner = text.slice(text.indexOf("{") + 1, text.lastIndexOf("}"))
  const out: Array<string | null> = []
  if (inner === "") return out
  let i = 0
  while (i <= inner.length) {
    if (inner[i] === '"') {
      let value = ""
      i++
      while (i < inner.length && inner[i] !== '"') {
        if (inner[i] === "\\") i++
        value += inner[i]
        i++
      }
      out.push(value)
      i += 2 // the quote and the comma
    } else {
      const end = inner.indexOf(",", i)
      const raw = inner.slice(i, end === -1 ? inner.length : end)
      out.push(raw === "NULL" ? null : raw)
      i = end === -1 ? inner.length + 1 : end + 1
    }
  }
  return out
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** `micros` since the Unix epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ` (Realtime's `commit_timestamp`). */
const commitTimestamp = (micros: bigint): string => new Date(Number(micros / 1000n)).toISOString()

/**
 * Starts a feed: creates its temporary slot (so what commits from now on is kept for it), then polls until
 * stopped, handing every poll's changes to `onChanges`.
 */
export const startChangeFeed = async (
  options: ChangeFeedOptions,
  onChanges: (changes: ReadonlyArray<RowChange>) => void
): Promise<ChangeFeed> => {
  const publication = options.publication ?? "supabase_realtime"
  const idle = options.idlePollIntervalMs ?? 500
  const max = options.maxChangesPerPoll ?? 100
  const client = new pg.Client({
    connectionString: options.databaseUrl,
    application_name: "realtime stand-in"
  })
  client.on("error", () => undefined)
  await client.connect()
  const slot = `realtime_standin_${Math.random().toString(36).slice(2, 10)}`
  await client.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput', true)`, [slot])
  const types = new Map<number, string>()
  /** A type's name; a type not seen yet reloads the list (called one at a time, from the poll only). */
  const typeName = async (oid: number): Promise<string> => {
    if (!types.has(oid)) {
      for (const row of (await client.query(`SELECT oid::int AS oid, typname FROM pg_type`)).rows)
        types.set(Number(row.oid), String(row.typname))
    }
    return types.get(oid) ?? "text"
  }

  const plugin = new PgoutputPlugin({ protoVersion: 1, publicationNames: [publication] })
  let stopped = false
  let commitTime = 0n
  /** each relation's columns with their type names, from its latest Relation message */
  const columnsOf = new Map<number, ReadonlyArray<ChangeColumn>>()

  /** What the WAL holds of a row change: the new tuple, and the old one in full or only its key. */
  interface Tuples {
    readonly row: Record<string, unknown> | null
    /** the whole old row (REPLICA IDENTITY FULL) */
    readonly old: Record<string, unknown> | null
    /** the old row's replica identity columns (a DELETE, or an UPDATE that changed them) */
    readonly key: Record<string, unknown> | null
  }

  const toChange = (type: RowChange["type"], relation: Relation, t: Tuples): RowChange => {
    const columns = columnsOf.get(relation.relationOid) ?? []
    const typed = (tuple: Record<string, unknown>, only?: ReadonlyArray<string>) => {
      const out: Record<string, unknown> = {}
      for (const c of columns) {
        if (only !== undefined && !only.includes(c.name)) continue
        const v = tuple[c.name]
        if (v === undefined) continue // an unchanged TOAST value: not in the WAL
        out[c.name] = v === null ? null : jsonValue(c.type, String(v))
      }
      return out
    }
    // the old record: the whole old row, else its identity columns, else (an UPDATE that kept them) the
    // identity columns of the new row
    const oldRecord = () => (t.old !== null ? typed(t.old) : typed(t.key ?? t.row ?? {}, relation.keyColumns))
    const base = {
      schema: relation.schema,
      table: relation.name,
      type,
      commitTimestamp: commitTimestamp(commitTime),
      columns
    }
    if (type === "INSERT") return { ...base, record: typed(t.row!) }
    if (type === "UPDATE") return { ...base, record: typed(t.row!), oldRecord: oldRecord() }
    return { ...base, oldRecord: oldRecord() }
  }

  /** whether the server lets this session log a running-transactions record (unknown until tried) */
  let canLogSnapshot = true
  const moveRestartOn = async (): Promise<void> => {
    if (!canLogSnapshot) return
    await client.query(`SELECT pg_log_standby_snapshot()`).catch((e: { code?: string }) => {
      // a server before 16 has no such function (42883), a role may not be allowed it (42501): the slot then
      // moves on with the background writer's records, as it would anyway. Anything else: the next poll says
      if (e.code === "42883" || e.code === "42501") canLogSnapshot = false
    })
  }

  const poll = async (): Promise<number> => {
    const { rows } = await client.query(
      `SELECT data FROM pg_logical_slot_get_binary_changes($1, NULL, $2, 'proto_version', '1', 'publication_names', $3)`,
      [slot, max, publication]
    )
    const changes: Array<RowChange> = []
    for (const { data } of rows) {
      const message = plugin.parse(data as Buffer)
      switch (message.tag) {
        case "relation": {
          // values as the server printed them: this feed types them itself (`jsonValue`)
          for (const c of message.columns) c.parser = (raw: unknown) => raw
          // pgoutput sends a relation before its first change of every poll: its columns are known once
          // here. One column at a time: a type not seen yet is looked up on the feed's session, which must
          // not be given a query while another runs
          const columns: Array<ChangeColumn> = []
          for (const c of message.columns) columns.push({ name: c.name, type: await typeName(c.typeOid) })
          columnsOf.set(message.relationOid, columns)
          break
        }
        case "begin":
          commitTime = BigInt(message.commitTime as unknown as bigint)
          break
        case "insert":
          changes.push(toChange("INSERT", message.relation, { row: message.new, old: null, key: null }))
          break
        case "update":
          changes.push(
            toChange("UPDATE", message.relation, {
              row: message.new,
              old: message.old,
              key: message.key
            })
          )
          break
        case "delete":
          changes.push(
            toChange("DELETE", message.relation, { row: null, old: message.old, key: message.key })
          )
          break
      }
    }
    if (changes.length > 0) onChanges(changes)
    if (rows.length > 0) await moveRestartOn()
    return rows.length
  }

  const loop = (async () => {
    while (!stopped) {
      try {
        const read = await poll()
        if (read === 0) await sleep(idle)
      } catch {
        if (stopped) return
        await sleep(idle)
      }
    }
  })()

  return {
    slot,
    stop: async () => {
      stopped = true
      await loop
      await client.end().catch(() => undefined)
    }
  }
}
