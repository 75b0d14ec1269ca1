/**
 * The bench's only module touching `pg` and `pg-copy-streams`: plain connections for the load generators
 * and the baselines (which must not go through the engine: they are what the engine is compared with).
 *
 * Invariant: every connection opened here is closed by `end()` (idempotent), and an idle connection that
 * errors (a server stopped under it) never crashes the bench.
 */
import type { Writable } from "node:stream"
import { pipeline } from "node:stream/promises"
import pg from "pg"
import copyStreams from "pg-copy-streams"

/** One connection. Values arrive as `pg` parses them by default; cast to text in SQL when it matters. */
export interface SqlClient {
  /** the rows of a query */
  readonly query: <Row = Record<string, unknown>>(
    text: string,
    params?: ReadonlyArray<unknown>
  ) => Promise<Array<Row>>
  /** the number of rows a statement affected */
  readonly execute: (text: string, params?: ReadonlyArray<unknown>) => Promise<number>
  /** `execute` as the prepared statement `name` (parsed once per connection) */
  readonly prepared: (name: string, text: string, params: ReadonlyArray<unknown>) => Promise<number>
  /** the backend's process id (for `EXPLAIN`-free diagnostics in pg_stat_activity) */
  readonly processId: number
  readonly end: () => Promise<void>
  /** @internal the driver's client, for `copyBetween` */
  readonly client: pg.Client
}

/** Opens a connection to `url`, shown as `applicationName` in pg_stat_activity. */
export const connect = async (url: string, applicationName = "enrich-sync bench"): Promise<SqlClient> => {
  const client = new pg.Client({ connectionString: url, application_name: applicationName })
  client.on("error", () => undefined)
  await client.connect()
  let ended = false
  return {
    query: async <Row>(text: string, params?: ReadonlyArray<unknown>) =>
      (await client.query(text, params as Array<unknown> | undefined)).rows as Array<Row>,
    execute: async (text, params) =>
      (await client.query(text, params as Array<unknown> | undefined)).rowCount ?? 0,
    prepared: async (name, text, params) =>
      (await client.query({ name, text, values: params as Array<unknown> })).rowCount ?? 0,
    processId: (client as unknown as { processID: number }).processID,
    end: async () => {
      if (ended) return
      ended = true
      await client.end().catch(() => undefined)
    },
    client
  }
}

/** Runs `f` on a fresh connection to `url`, closed afterwards. */
export const withConnection = async <A>(url: string, f: (sql: SqlClient) => Promise<A>): Promise<A> => {
  const sql = await connect(url)
  try {
    return await f(sql)
  } finally {
    await sql.end()
  }
}

/**
 * Pipes `COPY ... TO STDOUT` on `from` into `COPY ... FROM STDIN` on `to`, bytes untouched (what
 * `psql -c '\copy ... to stdout' | psql -c '\copy ... from stdin'` does). Returns the rows copied in.
 */
export const copyBetween = async (
  from: SqlClient,
  copyOut: string,
  to: SqlClient,
  copyIn: string
): Promise<number> => {
  const source = from.client.query(copyStreams.to(copyOut))
  const sink = to.client.query(copyStreams.from(copyIn)) as unknown as Writable & { rowCount?: number }
  await pipeline(source, sink)
  return sink.rowCount ?? 0
}
