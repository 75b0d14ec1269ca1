/**
 * Databases made for a while on a server: uniquely named, and dropped with everything left in them.
 *
 * Invariant: a database dropped here is gone whatever was left behind in it: its connections (replication
 * connections included) are terminated and its logical replication slots dropped before `DROP DATABASE`.
 * Names carry a random suffix, so parallel processes and repeated runs never collide.
 */
import { randomBytes } from "node:crypto"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type pg from "pg"
import { withClient } from "./Client.ts"
import { connectionUrl, type ServerInfo } from "./PostgresServer.ts"

/** A database made by `createDatabase`. */
export interface DatabaseInfo {
  readonly name: string
  /** its connection URL (superuser, with the password) */
  readonly url: string
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`

/** `prefix` made a safe database name start, plus 10 random hex characters. */
const uniqueName = (prefix: string): string => {
  const safe = prefix
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, "_")
    .replace(/^[^a-z]+/, "")
    .slice(0, 40)
    .replace(/_+$/, "")
  return `${safe === "" ? "db" : safe}_${randomBytes(5).toString("hex")}`
}

const withAdmin = <A>(server: ServerInfo, f: (client: pg.Client) => Promise<A>): Promise<A> =>
  withClient(connectionUrl(server, "postgres"), f)

/** Creates a new, uniquely named database (`<prefix>_<random>`) on `server`. */
export const createDatabase = async (server: ServerInfo, prefix: string): Promise<DatabaseInfo> => {
  const name = uniqueName(prefix)
  await withAdmin(server, (client) => client.query(`CREATE DATABASE ${quoteIdent(name)}`))
  return { name, url: connectionUrl(server, name) }
}

/**
 * Drops database `name` on `server` (no error if it does not exist): terminates its connections, drops its
 * replication slots (waiting for a walsender that still holds one to exit), then `DROP DATABASE` (`WITH
 * (FORCE)` from PostgreSQL 13).
 */
export const dropDatabase = async (server: ServerInfo, name: string): Promise<void> =>
  withAdmin(server, async (client) => {
    const force = server.version >= 13 ? " WITH (FORCE)" : ""
    for (let attempt = 0; ; attempt++) {
      try {
        await client.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
          [name]
        )
        const slots = await client.query<{ slot_name: string; active_pid: number | null }>(
          "SELECT slot_name, active_pid FROM pg_replication_slots WHERE database = $1",
          [name]
        )
        for (const slot of slots.rows) {
          if (slot.active_pid !== null)
            await client.query("SELECT pg_terminate_backend($1)", [slot.active_pid])
          await client.query(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1",
            [slot.slot_name]
          )
        }
        await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}${force}`)
        return
      } catch (error) {
        // 55006 object_in_use: a slot or the database still has a backend on its way out
        const code = (error as { code?: string }).code
        if (code !== "55006" || attempt >= 100) throw error
        await sleep(50)
      }
    }
  })

/** A new, uniquely named database on `server` (`<prefix>_<random>`), dropped when the scope closes. */
export const scopedDatabase = (
  server: ServerInfo,
  prefix: string
): Effect.Effect<DatabaseInfo, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() => createDatabase(server, prefix)),
    (db) =>
      Effect.promise(() => dropDatabase(server, db.name)).pipe(Effect.timeout("30 seconds"), Effect.orDie)
  )
