/**
 * A short-lived `pg` client: connected for one piece of work, then closed.
 *
 * Invariant: the client is closed however the work ends, and neither an `error` event (the server
 * terminating the connection) nor a failing close ever escapes as an unhandled error.
 */
import pg from "pg"

/** Connects to `url`, runs `f` with the client, and closes it (errors of closing are ignored). */
export const withClient = async <A>(url: string, f: (client: pg.Client) => Promise<A>): Promise<A> => {
  const client = new pg.Client({ connectionString: url })
  client.on("error", () => undefined)
  await client.connect()
  try {
    return await f(client)
  } finally {
    await client.end().catch(() => undefined)
  }
}

/** Runs one statement on a connection of its own and returns its rows. */
export const queryRows = (
  url: string,
  sql: string,
  values: ReadonlyArray<unknown> = []
): Promise<Array<Record<string, unknown>>> =>
  withClient(url, async (client) => (await client.query(sql, [...values])).rows)
