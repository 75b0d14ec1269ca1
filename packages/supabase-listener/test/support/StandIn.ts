/**
 * The fixture of the tests that run against the Realtime stand-in: a database of their own on the shared
 * "supabase" server, made by the file's statements (a table and the `supabase_realtime` publication),
 * followed by a stand-in; made before the file's tests, both removed after them.
 */
import { afterAll, beforeAll } from "@effect/vitest"
import {
  createDatabase,
  dropDatabase,
  injectedServers,
  type RealtimeStandIn,
  startRealtimeStandIn,
  type TestDatabaseInfo,
  withClient
} from "@enrich-sync/testing"
import * as Effect from "effect/Effect"

/** The database and its stand-in (readable once the file's tests run). */
export interface StandInFixture {
  readonly db: TestDatabaseInfo
  readonly standIn: RealtimeStandIn
  /** one statement on a connection of its own; its rows */
  readonly sql: (
    text: string,
    values?: ReadonlyArray<unknown>
  ) => Effect.Effect<Array<Record<string, unknown>>>
}

/** Registers the file's fixture: a database `<prefix>_...` made by `statements`, and a stand-in on it. */
export const standInFixture = (prefix: string, statements: ReadonlyArray<string>): StandInFixture => {
  let db: TestDatabaseInfo | undefined
  let standIn: RealtimeStandIn | undefined
  beforeAll(async () => {
    db = await createDatabase(injectedServers().supabase, prefix)
    const url = db.url
    await withClient(url, async (client) => {
      for (const statement of statements) await client.query(statement)
    })
    standIn = await startRealtimeStandIn({ databaseUrl: url, idlePollIntervalMs: 20 })
  }, 60_000)
  afterAll(async () => {
    await standIn?.close()
    if (db !== undefined) await dropDatabase(injectedServers().supabase, db.name)
  })
  return {
    get db() {
      return db!
    },
    get standIn() {
      return standIn!
    },
    sql: (text, values = []) =>
      Effect.promise(() =>
        withClient(db!.url, async (client) => (await client.query(text, [...values])).rows)
      )
  }
}
