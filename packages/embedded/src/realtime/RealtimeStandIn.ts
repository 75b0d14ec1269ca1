/**
 * A stand-in for Supabase Realtime's `postgres_changes`, faithful to `realtime-protocol.md` for what
 * `@supabase/realtime-js` sees on the wire, fed by real logical decoding of a database (`ChangeFeed`), with
 * the faults a sync engine must survive at hand.
 *
 * Wire (§1-§3): `GET /realtime/v1/websocket` (or `/socket/websocket`) with `apikey` (any value) and `vsn`
 * (1.0.0 objects, default; 2.0.0 arrays); heartbeats answered; `phx_join` answered with the client's
 * bindings verbatim and a stable, non-zero id each, then, once the subscription is "inserted"
 * (`subscribeDelayMs` later), the system message `Subscribed to PostgreSQL` (or its error when a binding's
 * table is not in the publication: then no binding of the channel is active); changes of an active channel
 * as `postgres_changes` frames with the ids of the bindings they match (schema, table, event, a single
 * `column=op.value` filter; a DELETE is matched against its old record), one frame per `select` (a
 * binding's list of columns: then only those and the primary key are sent, the filter still sees the whole
 * row); `phx_leave` answered, then
 * `phx_close`; a push to a topic not joined answered `unmatched topic`; a second join of a topic closes the
 * first; sockets idle for `idleTimeoutMs` closed.
 *
 * Delivery (§4): at most once. Changes are read whether anyone listens or not; a channel gets only what
 * commits while its subscription is active; nothing is replayed after a reconnect; a change whose JSON is
 * over `maxRecordBytes` keeps only the fields whose value is at most 64 bytes of JSON and says
 * `Error 413: Payload Too Large`.
 *
 * Faults (§6): dropped sockets (abrupt, or a close code), a late "Subscribed", lost changes (the rate
 * limiter's silent skip), truncated payloads, "Subscribed" sent again, channels crashed (`phx_error`: the
 * client rejoins) or closed (`phx_close`: it does not).
 */
import { createServer, type IncomingMessage } from "node:http"
import type { Duplex } from "node:stream"
import * as Effect from "effect/Effect"
import pg from "pg"
import { type WebSocket, WebSocketServer } from "ws"
import { type RowChange, startChangeFeed } from "./ChangeFeed.ts"

export type { RowChange } from "./ChangeFeed.ts"

import { decodeFrame, encodeFrame, type Frame, type Vsn, vsnOf } from "./RealtimeFrames.ts"

/** How the stand-in runs. */
export interface RealtimeStandInOptions {
  /** the database whose changes it streams (its `supabase_realtime` publication) */
  readonly databaseUrl: string
  /** default `supabase_realtime` */
  readonly publication?: string
  /** pause between polls of the slot when the last one found nothing (default 500 ms) */
  readonly idlePollIntervalMs?: number
  /** most changes per poll (default 100) */
  readonly maxChangesPerPoll?: number
  /** time from a join's reply to its subscription being active and announced (default 10 ms) */
  readonly subscribeDelayMs?: number
  /** a change whose JSON is larger is truncated (default 1,048,576, Realtime's `poll_max_record_bytes`) */
  readonly maxRecordBytes?: number
  /** a socket that sends nothing for this long is closed (default 60 s, Phoenix's) */
  readonly idleTimeoutMs?: number
  /** default: any free port */
  readonly port?: number
}

/** The faults a test can inject. */
export interface RealtimeFaults {
  /** closes every socket: abruptly (the client sees 1006) without a code, else with `code` (1001: a kick) */
  readonly dropConnections: (code?: number) => void
  /** time from a join's reply to "Subscribed to PostgreSQL" for the joins that follow */
  readonly setSubscribeDelay: (ms: number) => void
  /** the next `n` changes (of those `which` picks, by default any) reach nobody (the rate limiter's silent skip) */
  readonly loseChanges: (n: number, which?: (change: RowChange) => boolean) => void
  /** changes whose JSON is over `bytes` are truncated */
  readonly setMaxRecordBytes: (bytes: number) => void
  /** "Subscribed to PostgreSQL" again on every active channel (Realtime does so after a CDC restart) */
  readonly resendSubscribed: () => void
  /** every channel crashes (`phx_error`); clients rejoin */
  readonly crashChannels: () => void
  /** every channel is closed by the server (`phx_close`); clients do not rejoin */
  readonly closeChannels: () => void
}

/** What happened so far. */
export interface RealtimeStats {
  readonly connections: number
  /** joins answered */
  readonly joins: number
  /** channels whose subscription is active now */
  readonly activeChannels: number
  /** `postgres_changes` frames sent */
  readonly delivered: number
  /** changes lost on purpose (`loseChanges`) */
  readonly lost: number
}

/** A running stand-in. */
export interface RealtimeStandIn {
  /** the project URL (`http://127.0.0.1:<port>`), as `https://<ref>.supabase.co` is for a real project */
  readonly url: string
  /** the Realtime endpoint for `new RealtimeClient(...)`: `ws://127.0.0.1:<port>/realtime/v1` */
  readonly endpoint: string
  readonly faults: RealtimeFaults
  readonly stats: () => RealtimeStats
  readonly close: () => Promise<void>
}

interface Filter {
  readonly column: string
  readonly op: "eq" | "neq" | "lt" | "lte" | "gt" | "gte" | "in"
  readonly values: ReadonlyArray<string>
}

interface Binding {
  readonly params: Readonly<Record<string, unknown>>
  readonly id: number
  readonly filter: Filter | null
  /** the columns asked for (`select`), or null for all of them */
  readonly select: ReadonlyArray<string> | null
  /** `select` as text ("" for all columns): bindings with the same one share a frame */
  readonly selectKey: string
}

interface Channel {
  readonly topic: string
  readonly joinRef: string | null
  readonly bindings: ReadonlyArray<Binding>
  active: boolean
  timer: ReturnType<typeof setTimeout> | null
}

interface Connection {
  readonly ws: WebSocket
  readonly vsn: Vsn
  readonly channels: Map<string, Channel>
  idle: ReturnType<typeof setTimeout> | null
}

/** A stable, non-zero id for a binding's params (Realtime uses `:erlang.phash2`; any stable hash will do). */
const bindingId = (params: Readonly<Record<string, unknown>>): number => {
  const text = JSON.stringify(
    Object.keys(params)
      .sort()
      .map((k) => [k, params[k]])
  )
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return (h % 134217727) + 1
}

const filterOps = new Set(["eq", "neq", "lt", "lte", "gt", "gte", "in"])

/** A single `column=op.value` filter (older servers' syntax), or an error message. */
const parseFilter = (filter: unknown): Filter | null | string => {
  if (filter === undefined || filter === null || String(filter).trim() === "") return null
  const match = /^([^=]+)=([a-z]+)\.(.*)$/s.exec(String(filter))
  if (match === null || !filterOps.has(match[2]!)) return `Error parsing \`filter\` params: ${String(filter)}`
  const op = match[2] as Filter["op"]
  const raw = match[3]!
  const values = op === "in" ? raw.replace(/^\(|\)$/g, "").split(",") : [raw]
  return { column: match[1]!, op, values }
}

const compare = (a: unknown, b: string): number => {
  const n = Number(b)
  if (typeof a === "number" && Number.isFinite(n)) return a - n
  const s = typeof a === "string" ? a : JSON.stringify(a)
  return s < b ? -1 : s > b ? 1 : 0
}

const passes = (filter: Filter, row: Readonly<Record<string, unknown>> | undefined): boolean => {
  if (row === undefined || !(filter.column in row)) return false
  const v = row[filter.column]
  if (v === null) return false
  switch (filter.op) {
    case "eq":
      return compare(v, filter.values[0]!) === 0
    case "neq":
      return compare(v, filter.values[0]!) !== 0
    case "lt":
      return compare(v, filter.values[0]!) < 0
    case "lte":
      return compare(v, filter.values[0]!) <= 0
    case "gt":
      return compare(v, filter.values[0]!) > 0
    case "gte":
      return compare(v, filter.values[0]!) >= 0
    case "in":
      return filter.values.some((x) => compare(v, x) === 0)
  }
}

const matches = (binding: Binding, change: RowChange): boolean => {
  const p = binding.params
  const event = String(p.event ?? "*").toUpperCase()
  if (event !== "*" && event !== change.type) return false
  const schema = p.schema === undefined ? "public" : String(p.schema)
  if (schema !== "*" && schema !== change.schema) return false
  if (p.table !== undefined && p.table !== "*" && p.table !== change.table) return false
  if (binding.filter === null) return true
  return passes(binding.filter, change.type === "DELETE" ? change.oldRecord : change.record)
}

/** Fields whose JSON is at most 64 bytes (what Realtime keeps of a payload that is too large). */
const smallFields = (row: Readonly<Record<string, unknown>>) =>
  Object.fromEntries(Object.entries(row).filter(([, v]) => Buffer.byteLength(JSON.stringify(v)) <= 64))

/** The `select` of a binding's params: a list of column names, or null (all columns). */
const selectOf = (params: Readonly<Record<string, unknown>>): ReadonlyArray<string> | null =>
  Array.isArray(params.select) && params.select.every((c) => typeof c === "string")
    ? (params.select as ReadonlyArray<string>)
    : null

/** Only the fields of `row` named in `keep`. */
const only = (row: Readonly<Record<string, unknown>>, keep: ReadonlySet<string>) =>
  Object.fromEntries(Object.entries(row).filter(([k]) => keep.has(k)))

/**
 * The `data` of a change's `postgres_changes` frame (§3.1); with `keep` (a binding's `select` and the
 * table's primary key), only those columns, in `columns` and in the records.
 */
const changeData = (
  change: RowChange,
  maxRecordBytes: number,
  keep: ReadonlySet<string> | null
): Record<string, unknown> => {
  const record = change.record === undefined || keep === null ? change.record : only(change.record, keep)
  const oldRecord =
    change.oldRecord === undefined || keep === null ? change.oldRecord : only(change.oldRecord, keep)
  const size = Buffer.byteLength(JSON.stringify([record ?? null, oldRecord ?? null]))
  const tooLarge = size > maxRecordBytes
  const data: Record<string, unknown> = {
    schema: change.schema,
    table: change.table,
    type: change.type,
    commit_timestamp: change.commitTimestamp,
    columns: keep === null ? change.columns : change.columns.filter((c) => keep.has(c.name)),
    errors: tooLarge ? ["Error 413: Payload Too Large"] : null
  }
  if (record !== undefined) data.record = tooLarge ? smallFields(record) : record
  if (oldRecord !== undefined) data.old_record = tooLarge ? smallFields(oldRecord) : oldRecord
  return data
}

const published = async (lookups: pg.Pool, publication: string) =>
  new Set(
    (
      await lookups.query(
        `SELECT schemaname || '.' || tablename AS t FROM pg_publication_tables WHERE pubname = $1`,
        [publication]
      )
    ).rows.map((r) => String(r.t))
  )

/** Starts the stand-in on `options.databaseUrl`: its change feed first, then the server. */
export const startRealtimeStandIn = async (options: RealtimeStandInOptions): Promise<RealtimeStandIn> => {
  const publication = options.publication ?? "supabase_realtime"
  let subscribeDelay = options.subscribeDelayMs ?? 10
  let maxRecordBytes = options.maxRecordBytes ?? 1_048_576
  const idleTimeout = options.idleTimeoutMs ?? 60_000
  const connections = new Set<Connection>()
  const stats = { connections: 0, joins: 0, delivered: 0, lost: 0 }
  /** changes still to lose, each rule with its count */
  const toLose: Array<{ n: number; which: (change: RowChange) => boolean }> = []

  // The publication's tables are looked up when a channel's subscription is inserted, and channels can
  // activate at the same moment: a pool of one session queues their queries (a bare client given a query
  // while another runs is deprecated by pg, and warns).
  const lookups = new pg.Pool({
    connectionString: options.databaseUrl,
    application_name: "realtime stand-in",
    max: 1
  })
  lookups.on("error", () => undefined)

  const send = (conn: Connection, frame: Frame) => {
    if (conn.ws.readyState === conn.ws.OPEN) conn.ws.send(encodeFrame(conn.vsn, frame))
  }
  const reply = (conn: Connection, frame: Frame, status: "ok" | "error", response: Record<string, unknown>) =>
    send(conn, {
      joinRef: frame.joinRef,
      ref: frame.ref,
      topic: frame.topic,
      event: "phx_reply",
      payload: { status, response }
    })
  const system = (conn: Connection, channel: Channel, status: "ok" | "error", message: string) =>
    send(conn, {
      joinRef: channel.joinRef,
      ref: null,
      topic: channel.topic,
      event: "system",
      payload: {
        extension: "postgres_changes",
        status,
        message,
        channel: channel.topic.slice("realtime:".length)
      }
    })
  const closeChannel = (conn: Connection, channel: Channel, event: "phx_close" | "phx_error") => {
    if (channel.timer !== null) clearTimeout(channel.timer)
    channel.active = false
    if (conn.channels.get(channel.topic) === channel) conn.channels.delete(channel.topic)
    send(conn, { joinRef: channel.joinRef, ref: channel.joinRef, topic: channel.topic, event, payload: {} })
  }

  /** each table's primary key columns (`schema.name`), looked up when a binding with `select` activates */
  const primaryKeys = new Map<string, ReadonlyArray<string>>()
  /** what frames keep of a table's changes, per select (see `kept`), made again when a primary key is looked up */
  const keptSets = new Map<string, ReadonlySet<string>>()
  const lookUpPrimaryKey = async (schema: string, table: string) => {
    const rows = await lookups
      .query(
        `SELECT a.attname AS name FROM pg_index i
           JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
          WHERE i.indisprimary AND i.indrelid = format('%I.%I', $1::text, $2::text)::regclass`,
        [schema, table]
      )
      .then((r) => r.rows.map((row) => String(row.name)))
      .catch(() => [])
    primaryKeys.set(`${schema}.${table}`, rows)
    keptSets.clear()
  }
  /**
   * What a frame for bindings with `select` keeps of a change: those columns and the primary key (made once
   * per table and select, not for every change).
   */
  const kept = (change: RowChange, select: ReadonlyArray<string> | null, selectKey: string) => {
    if (select === null) return null
    const table = `${change.schema}.${change.table}`
    const key = `${table}\u0000${selectKey}`
    let set = keptSets.get(key)
    if (set === undefined) {
      set = new Set([...select, ...(primaryKeys.get(table) ?? [])])
      keptSets.set(key, set)
    }
    return set
  }

  /** Inserts the channel's subscriptions, all of them or none, and says so (§2.5). */
  const activate = async (conn: Connection, channel: Channel) => {
    channel.timer = null
    if (conn.channels.get(channel.topic) !== channel) return
    const tables = await published(lookups, publication).catch(() => new Set<string>())
    for (const b of channel.bindings) {
      const schema = b.params.schema === undefined ? "public" : String(b.params.schema)
      const table = b.params.table === undefined || b.params.table === "*" ? null : String(b.params.table)
      if (b.select !== null && table !== null) await lookUpPrimaryKey(schema, table)
      const known =
        table === null
          ? [...tables].some((t) => t.startsWith(`${schema}.`))
          : tables.has(`${schema}.${table}`)
      const filter = parseFilter(b.params.filter)
      if (typeof filter === "string") return system(conn, channel, "error", filter)
      if (!known) {
        return system(
          conn,
          channel,
          "error",
          `Unable to subscribe to changes with given parameters. Please check Realtime is enabled for the given connect parameters: [event: ${String(b.params.event ?? "*")}, schema: ${schema}, table: ${table ?? "*"}, filters: []]`
        )
      }
    }
    channel.active = true
    system(conn, channel, "ok", "Subscribed to PostgreSQL")
  }

  const onJoin = (conn: Connection, frame: Frame) => {
    const name = frame.topic.slice("realtime:".length)
    if (name === "")
      return reply(conn, frame, "error", { reason: "TopicNameRequired: You must provide a topic name" })
    const previous = conn.channels.get(frame.topic)
    if (previous !== undefined) closeChannel(conn, previous, "phx_close")
    const config = (frame.payload.config ?? {}) as Record<string, unknown>
    const params = Array.isArray(config.postgres_changes)
      ? (config.postgres_changes as Array<Record<string, unknown>>)
      : []
    const bindings = params.map((p) => {
      const filter = parseFilter(p.filter)
      const select = selectOf(p)
      return {
        params: p,
        id: bindingId(p),
        filter: typeof filter === "string" ? null : filter,
        select,
        selectKey: select === null ? "" : JSON.stringify(select)
      }
    })
    const channel: Channel = {
      topic: frame.topic,
      joinRef: frame.joinRef ?? frame.ref,
      bindings,
      active: false,
      timer: null
    }
    conn.channels.set(frame.topic, channel)
    stats.joins++
    reply(conn, frame, "ok", { postgres_changes: bindings.map((b) => ({ ...b.params, id: b.id })) })
    if (bindings.length > 0) channel.timer = setTimeout(() => void activate(conn, channel), subscribeDelay)
  }

  const onFrame = (conn: Connection, frame: Frame) => {
    if (frame.topic === "phoenix") {
      if (frame.event === "heartbeat") reply(conn, frame, "ok", {})
      return
    }
    if (frame.event === "phx_join") return onJoin(conn, frame)
    const channel = conn.channels.get(frame.topic)
    if (channel === undefined) {
      if (frame.event === "phx_leave") return reply(conn, frame, "ok", {})
      return send(conn, {
        joinRef: null,
        ref: frame.ref,
        topic: frame.topic,
        event: "phx_reply",
        payload: { status: "error", response: { reason: "unmatched topic" } }
      })
    }
    if (frame.event === "phx_leave") {
      reply(conn, frame, "ok", {})
      return closeChannel(conn, channel, "phx_close")
    }
    // access_token: accepted without a reply; broadcast and presence: not part of this stand-in
  }

  const feed = await startChangeFeed(
    {
      databaseUrl: options.databaseUrl,
      publication,
      ...(options.idlePollIntervalMs === undefined ? {} : { idlePollIntervalMs: options.idlePollIntervalMs }),
      ...(options.maxChangesPerPoll === undefined ? {} : { maxChangesPerPoll: options.maxChangesPerPoll })
    },
    (changes) => {
      for (const change of changes) {
        const rule = toLose.find((r) => r.n > 0 && r.which(change))
        if (rule !== undefined) {
          rule.n--
          stats.lost++
          continue
        }
        // the frame's data for each `select` (JSON; "" for all columns), made once per change
        const data = new Map<string, Record<string, unknown>>()
        for (const conn of connections) {
          for (const channel of conn.channels.values()) {
            if (!channel.active) continue
            // one frame for the bindings that match with the same `select`, with all their ids (§3.1)
            const frames = new Map<string, { select: ReadonlyArray<string> | null; ids: Array<number> }>()
            for (const b of channel.bindings) {
              if (!matches(b, change)) continue
              const frame = frames.get(b.selectKey) ?? { select: b.select, ids: [] }
              frame.ids.push(b.id)
              frames.set(b.selectKey, frame)
            }
            for (const [key, { select, ids }] of frames) {
              let frameData = data.get(key)
              if (frameData === undefined) {
                frameData = changeData(change, maxRecordBytes, kept(change, select, key))
                data.set(key, frameData)
              }
              send(conn, {
                joinRef: null,
                ref: null,
                topic: channel.topic,
                event: "postgres_changes",
                payload: { ids, data: frameData }
              })
              stats.delivered++
            }
          }
        }
      }
    }
  )

  const wss = new WebSocketServer({ noServer: true })
  const http = createServer((_req, res) => res.writeHead(404).end())
  const refuse = (socket: Duplex, status: number, text: string, error: string) => {
    const body = JSON.stringify({ error })
    socket.end(
      `HTTP/1.1 ${status} ${text}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`
    )
  }
  http.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? "/", "http://stand-in")
    if (url.pathname !== "/realtime/v1/websocket" && url.pathname !== "/socket/websocket")
      return refuse(socket, 404, "Not Found", "Not found")
    const apikey = url.searchParams.get("apikey") ?? req.headers["x-api-key"]
    if (apikey === undefined || apikey === "") return refuse(socket, 401, "Unauthorized", "No api key given")
    const vsn = vsnOf(url.searchParams.get("vsn"))
    if (vsn === null) return refuse(socket, 400, "Bad Request", "Unsupported vsn")
    wss.handleUpgrade(req, socket, head, (ws) => {
      const conn: Connection = { ws, vsn, channels: new Map(), idle: null }
      const touch = () => {
        if (conn.idle !== null) clearTimeout(conn.idle)
        conn.idle = setTimeout(() => ws.close(1000, "idle"), idleTimeout)
      }
      connections.add(conn)
      stats.connections++
      touch()
      ws.on("message", (data, isBinary) => {
        touch()
        if (isBinary) return
        const frame = decodeFrame(vsn, data.toString())
        if (frame !== null) onFrame(conn, frame)
      })
      ws.on("close", () => {
        connections.delete(conn)
        if (conn.idle !== null) clearTimeout(conn.idle)
        for (const channel of conn.channels.values()) if (channel.timer !== null) clearTimeout(channel.timer)
        conn.channels.clear()
      })
      ws.on("error", () => undefined)
    })
  })
  await new Promise<void>((resolve) => http.listen(options.port ?? 0, "127.0.0.1", resolve))
  const address = http.address()
  const port = typeof address === "object" && address !== null ? address.port : 0

  const everyChannel = (f: (conn: Connection, channel: Channel) => void) => {
    for (const conn of connections) for (const channel of [...conn.channels.values()]) f(conn, channel)
  }

  return {
    url: `http://127.0.0.1:${port}`,
    endpoint: `ws://127.0.0.1:${port}/realtime/v1`,
    faults: {
      dropConnections: (code) => {
        for (const conn of connections) {
          if (code === undefined) conn.ws.terminate()
          else conn.ws.close(code, "Server requested disconnect")
        }
      },
      setSubscribeDelay: (ms) => {
        subscribeDelay = ms
      },
      loseChanges: (n, which = () => true) => {
        toLose.push({ n, which })
      },
      setMaxRecordBytes: (bytes) => {
        maxRecordBytes = bytes
      },
      resendSubscribed: () =>
        everyChannel((conn, channel) => {
          if (channel.active) system(conn, channel, "ok", "Subscribed to PostgreSQL")
        }),
      crashChannels: () => everyChannel((conn, channel) => closeChannel(conn, channel, "phx_error")),
      closeChannels: () => everyChannel((conn, channel) => closeChannel(conn, channel, "phx_close"))
    },
    stats: () => ({
      ...stats,
      activeChannels: [...connections].reduce(
        (n, c) => n + [...c.channels.values()].filter((ch) => ch.active).length,
        0
      )
    }),
    close: async () => {
      for (const conn of connections) conn.ws.terminate()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
      await new Promise<void>((resolve) => http.close(() => resolve()))
      await feed.stop()
      await lookups.end().catch(() => undefined)
    }
  }
}

/** The stand-in for a scope: started, and closed when the scope closes. */
export const RealtimeStandIn = {
  scoped: (options: RealtimeStandInOptions) =>
    Effect.acquireRelease(
      Effect.promise(() => startRealtimeStandIn(options)),
      (standIn) => Effect.promise(() => standIn.close()).pipe(Effect.timeout("10 seconds"), Effect.ignore)
    )
}
