/**
 * The only module that touches `pg` and `pg-copy-streams`. It opens pools whose values arrive the way the
 * projection expects them (`wireParsers`: timestamps as text, int8 as number, json and jsonb with their
 * numbers exact and a JSON null apart from SQL NULL), and exposes a small promise interface the rest of the
 * engine wraps in Effect. Driver quirks are fixed here once.
 */

import type { Readable, Writable } from "node:stream"
import { pipeline } from "node:stream/promises"
import { libpqConnectionString, wireParsers } from "@enrich-sync/core"
import pg from "pg"
import copyStreams from "pg-copy-streams"

/** A column of a result. */
export interface ResultField {
  readonly name: string
  readonly dataTypeID: number
}

/** A query result. */
export interface Result {
  readonly rows: Array<Record<string, unknown>>
  readonly rowCount: number
  readonly fields: ReadonlyArray<ResultField>
}

/** What the server answered to one `exchange`. */
export interface Exchanged {
  /** the rows of every statement that returned rows, in order, each value as the server's text (or null) */
  readonly rows: ReadonlyArray<ReadonlyArray<string | null>>
  /** the bytes of its `COPY ... TO STDOUT` statements, in order */
  readonly copyOut: Buffer
}

/** A connection checked out of a pool. */
export interface Connection {
  query(text: string, params?: ReadonlyArray<unknown>): Promise<Result>
  /**
   * Sends a text of several statements (no parameters) as one message and, right behind it, the data of
   * each of its `COPY ... FROM STDIN` statements (`copyIn[i]` for the i-th, in order), without waiting for
   * the server to ask for it: the whole exchange costs one round trip. A statement that fails ends it (the
   * server skips the rest of the text and drops the data still to come, as the protocol says); the
   * statements before it stay done, so a text of several transactions keeps those that committed.
   */
  exchange(text: string, copyIn?: ReadonlyArray<ReadonlyArray<Buffer>>): Promise<Exchanged>
  /** `COPY ... FROM STDIN`: resolves when the whole readable is in the server */
  copyIn(sql: string, from: Readable): Promise<number>
  /** `COPY ... TO STDOUT` as a readable stream of COPY text */
  copyOut(sql: string): Readable
  /** returns the connection to the pool; pass an error to destroy it instead */
  release(error?: Error): void
  /** the backend process id, for diagnostics */
  readonly processId: number | undefined
}

/** A pool of connections to one database. */
export interface Pool {
  query(text: string, params?: ReadonlyArray<unknown>): Promise<Result>
  connect(): Promise<Connection>
  end(): Promise<void>
}

/** Options of a pool. */
export interface PoolOptions {
  /** maximum connections (default 4) */
  readonly max?: number
  /** `application_name` shown in pg_stat_activity (default `enrich-sync`) */
  readonly applicationName?: string
  /** connect timeout in ms (default 10 000) */
  readonly connectTimeoutMs?: number
  /**
   * connections opened at once (in the background) and kept open however long they sit idle (default 0:
   * opened when needed, closed after 30 s idle); a long-running process keeps its connections so that a
   * burst never waits for a new one (several round trips across a WAN)
   */
  readonly keepOpen?: number
  /**
   * how long the server lets a transaction of `Database.transaction` wait for this process's next statement
   * before it ends the session, rolling the transaction back and freeing its locks (a hung process then
   * holds no row for longer); set with the transaction's `BEGIN`, so it holds behind any pooler. Default: no
   * limit
   */
  readonly idleInTransactionTimeoutMs?: number
}

const getTypeParser = ((oid: number, format?: "text" | "binary") =>
  wireParsers[oid] ?? pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser

/**
 * A result; for a text of several statements (sent without parameters), the rows of all of them in order,
 * the sum of their row counts, and the columns of the first that returns rows.
 */
const toResult = (answer: pg.QueryResult | Array<pg.QueryResult>): Result => {
  const results = Array.isArray(answer) ? answer : [answer]
  const withRows = results.find((r) => r.fields.length > 0) ?? results[0]!
  return {
    rows: results.length === 1 ? withRows.rows : results.flatMap((r) => r.rows),
    rowCount: results.reduce((n, r) => n + (r.rowCount ?? 0), 0),
    fields: withRows.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID }))
  }
}

/** The part of pg's connection an `Exchange` writes to. */
interface WireConnection {
  query(text: string): void
  sendCopyFromChunk(chunk: Buffer): void
  endCopyFrom(): void
}

/**
 * A query pg's client runs as any other (it queues it and hands it the server's messages until the server
 * is ready again); it sends the COPY data eagerly, which pg's own queries and pg-copy-streams do not.
 */
class Exchange {
  readonly done: Promise<Exchanged>
  private readonly rows: Array<ReadonlyArray<string | null>> = []
  private readonly out: Array<Buffer> = []
  private settle!: { resolve: (e: Exchanged) => void; reject: (e: unknown) => void }
  readonly text: string
  private readonly copyIn: ReadonlyArray<ReadonlyArray<Buffer>>

  constructor(text: string, copyIn: ReadonlyArray<ReadonlyArray<Buffer>>) {
    this.text = text
    this.copyIn = copyIn
    this.done = new Promise((resolve, reject) => {
      this.settle = { resolve, reject }
    })
  }

  submit(connection: WireConnection): void {
    connection.query(this.text)
    for (const data of this.copyIn) {
      for (const chunk of data) if (chunk.length > 0) connection.sendCopyFromChunk(chunk)
      connection.endCopyFrom()
    }
  }

  handleRowDescription(): void {}
  handleDataRow(message: { fields: ReadonlyArray<string | null> }): void {
    this.rows.push(message.fields)
  }
  handleCommandComplete(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  /** the data went with the message */
  handleCopyInResponse(): void {}
  handleCopyData(message: { chunk: Buffer }): void {
    // the parser reuses its buffer: keep a copy
    this.out.push(Buffer.from(message.chunk))
  }
  /** pg's client hands the error over and no more messages (its ReadyForQuery only readies the client) */
  handleError(error: unknown): void {
    this.settle.reject(error)
  }
  handleReadyForQuery(): void {
    this.settle.resolve({ rows: this.rows, copyOut: Buffer.concat(this.out) })
  }
}

const wrap = (client: pg.PoolClient): Connection => ({
  query: async (text, params) => toResult(await client.query(text, params as Array<unknown> | undefined)),
  copyIn: async (sql, from) => {
    const sink = client.query(copyStreams.from(sql)) as unknown as Writable & { rowCount?: number }
    await pipeline(from, sink)
    return sink.rowCount ?? 0
  },
  copyOut: (sql) => client.query(copyStreams.to(sql)) as unknown as Readable,
  exchange: (text, copyIn = []) => {
    const exchange = new Exchange(text, copyIn)
    client.query(exchange as unknown as pg.Submittable)
    return exchange.done
  },
  release: (error) => client.release(error ?? false),
  processId: (client as unknown as { processID?: number }).processID
})

const ignoreError = (): void => {}

/**
 * Opens a pool on a connection string. Nothing connects until the first query, except the connections
 * `keepOpen` asks for, opened at once in the background.
 */
export const openPool = (url: string, options: PoolOptions = {}): Pool => {
  const max = options.max ?? 4
  const keep = Math.min(options.keepOpen ?? 0, max)
  const pool = new pg.Pool({
    connectionString: libpqConnectionString(url),
    max,
    min: keep,
    application_name: options.applicationName ?? "enrich-sync",
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    types: { getTypeParser }
  })
  // an idle client that errors (server restart, network) must not crash the process: it is dropped from the
  // pool and the next query reconnects
  pool.on("error", () => {})
  // the connections to keep, opened now; one that fails is opened again when needed
  if (keep > 0)
    void Promise.allSettled(Array.from({ length: keep }, () => pool.connect())).then((opened) => {
      for (const c of opened) if (c.status === "fulfilled") c.value.release()
    })
  return {
    query: async (text, params) => toResult(await pool.query(text, params as Array<unknown> | undefined)),
    connect: async () => {
      const client = await pool.connect()
      // a checked-out client whose server goes away emits 'error' with nobody listening, which would end the
      // process: the failure reaches whoever uses it through its next (or current) query instead
      if (!client.listeners("error").includes(ignoreError)) client.on("error", ignoreError)
      return wrap(client)
    },
    end: () => pool.end()
  }
}
