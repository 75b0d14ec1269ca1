/**
 * One query on a connection of its own, for tests that check a server or database from outside: connects,
 * runs `sql`, disconnects, and returns the rows (a connection failure is a defect).
 */
import * as Effect from "effect/Effect"
import pg from "pg"

export const query = (url: string, sql: string, values: ReadonlyArray<unknown> = []) =>
  Effect.promise(async () => {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      return (await client.query(sql, [...values])).rows as Array<Record<string, unknown>>
    } finally {
      await client.end()
    }
  })
