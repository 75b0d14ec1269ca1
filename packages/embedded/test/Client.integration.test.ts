/**
 * Short-lived clients on a real server: the work's result (or its error) is `withClient`'s, the client is
 * closed however the work ended, and a server that terminates the connection during the work escapes
 * neither as an `error` event nor from closing. `queryRows` is one statement on a connection of its own.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import type pg from "pg"
import { queryRows, withClient } from "../src/Client.ts"
import { createDatabase, type DatabaseInfo, dropDatabase } from "../src/Databases.ts"
import { connectionUrl } from "../src/PostgresServer.ts"
import { injectedServers } from "./support/Servers.ts"

let db: DatabaseInfo

beforeAll(async () => {
  db = await createDatabase(injectedServers().neon, "client")
}, 60_000)

afterAll(async () => {
  if (db !== undefined) await dropDatabase(injectedServers().neon, db.name)
})

/** Resolves once the backend `pid` has left the server (the test fails after 10 s). */
const backendGone = async (pid: number) => {
  for (let i = 0; ; i++) {
    const [row] = await queryRows(db.url, "SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1", [
      pid
    ])
    if (row?.n === 0) return
    assert.isBelow(i, 1000, `backend ${pid} still there after 10 s`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** Whether `client` still answers a query. */
const answers = (client: pg.Client) =>
  client.query("SELECT 1").then(
    () => true,
    (error: Error) => {
      assert.match(error.message, /not queryable/)
      return false
    }
  )

describe("Client", () => {
  it("queryRows runs one statement with its parameters on a connection of its own, then closes it", async () => {
    const [row] = await queryRows(db.url, "SELECT $1::int + 1 AS n, $2::text AS t, pg_backend_pid() AS pid", [
      41,
      "forty-two"
    ])
    assert.strictEqual(row?.n, 42)
    assert.strictEqual(row?.t, "forty-two")
    await backendGone(Number(row?.pid))
    assert.deepStrictEqual(await queryRows(db.url, "SELECT 'no parameters' AS t"), [{ t: "no parameters" }])
  })

  it("withClient gives back what the work returns, and closes the client", async () => {
    let used: pg.Client | undefined
    const pid = await withClient(db.url, async (client) => {
      used = client
      return Number((await client.query("SELECT pg_backend_pid() AS pid")).rows[0].pid)
    })
    assert.isAbove(pid, 0)
    assert.isFalse(await answers(used!))
    await backendGone(pid)
  })

  it("a failing work's error is withClient's, and the client is closed all the same", async () => {
    let used: pg.Client | undefined
    let pid = 0
    const failure = new Error("the work failed")
    const thrown = await withClient(db.url, async (client) => {
      used = client
      pid = Number((await client.query("SELECT pg_backend_pid() AS pid")).rows[0].pid)
      throw failure
    }).then(
      () => assert.fail("withClient resolved"),
      (error: unknown) => error
    )
    assert.strictEqual(thrown, failure)
    assert.isFalse(await answers(used!))
    await backendGone(pid)
  })

  it("a connection the server terminates during the work escapes neither as an error event nor on close", async () => {
    const result = await withClient(db.url, async (client) => {
      const pid = Number((await client.query("SELECT pg_backend_pid() AS pid")).rows[0].pid)
      // idle, the client hears of it as an `error` event (unhandled, it would fail this run)
      await queryRows(db.url, "SELECT pg_terminate_backend($1)", [pid])
      await backendGone(pid)
      const late = await client.query("SELECT 1").then(
        () => null,
        (error: Error) => error
      )
      assert.instanceOf(late, Error)
      return "the work went on"
    })
    assert.strictEqual(result, "the work went on")
  })

  it("a connection that cannot be made fails withClient, and the work never runs", async () => {
    let ran = false
    const error = await withClient(
      connectionUrl(injectedServers().neon, "no_such_database_here"),
      async () => {
        ran = true
      }
    ).then(
      () => assert.fail("withClient resolved"),
      (e: unknown) => e as { code?: string }
    )
    assert.strictEqual(error.code, "3D000")
    assert.isFalse(ran)
  })
})
