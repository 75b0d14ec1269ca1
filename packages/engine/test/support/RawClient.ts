/**
 * A bare pg client against a real server, reading values the way the engine does (`wireParsers`), and a
 * way to apply a side's migrations to a fresh database: for tests that check core's SQL on its own.
 */

import { migrationsFor, type Side, wireParsers } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import pg from "pg"

export const connect = (url: string) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const client = new pg.Client({
        connectionString: url,
        types: {
          getTypeParser: ((oid: number, format?: "text" | "binary") =>
            wireParsers[oid] ?? pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser
        }
      })
      await client.connect()
      return client
    }),
    (client) => Effect.promise(() => client.end()).pipe(Effect.timeout("5 seconds"), Effect.ignore)
  )

export const migrate = (client: pg.Client, side: Side) =>
  Effect.promise(async () => {
    await client.query("BEGIN")
    for (const migration of migrationsFor(side)) {
      for (const statement of migration.statements) await client.query(statement)
    }
    await client.query("COMMIT")
  })
