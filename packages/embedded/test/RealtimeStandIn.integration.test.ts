/**
 * The Realtime stand-in against the real `@supabase/realtime-js` client over a real WebSocket, fed by real
 * logical decoding of a fresh database: the subscription handshake in both protocol versions, typed change
 * payloads, heartbeats, filters, and every fault the stand-in offers; and no deprecated call (of `pg` or
 * anything else) while it runs.
 */
import { afterAll, afterEach, assert, beforeAll, describe, it } from "@effect/vitest"
import { withClient } from "../src/Client.ts"
import { createDatabase, type DatabaseInfo, dropDatabase } from "../src/Databases.ts"
import { type RealtimeStandIn, startRealtimeStandIn } from "../src/realtime/RealtimeStandIn.ts"
import { type Probe, type ProbeBinding, startProbe } from "./support/RealtimeProbe.ts"
import { injectedServers } from "./support/Servers.ts"

let db: DatabaseInfo
let standIn: RealtimeStandIn
const probes: Array<Probe> = []
/** every process warning emitted from the stand-in's start on (each file runs in a process of its own) */
const warnings: Array<Error> = []
const onWarning = (warning: Error) => warnings.push(warning)

const sql = (text: string, values: ReadonlyArray<unknown> = []) =>
  withClient(db.url, async (client) => (await client.query(text, [...values])).rows)

const items: ProbeBinding = { event: "*", schema: "public", table: "items" }

const probe = (bindings: ReadonlyArray<ProbeBinding>, options?: Parameters<typeof startProbe>[2]) => {
  const p = startProbe(standIn.endpoint, bindings, options)
  probes.push(p)
  return p
}

/** A probe whose subscription is live: SUBSCRIBED, then "Subscribed to PostgreSQL". */
const liveProbe = async (
  bindings: ReadonlyArray<ProbeBinding>,
  options?: Parameters<typeof startProbe>[2]
) => {
  const p = probe(bindings, options)
  await p.until("a live subscription", () => p.system.some((s) => s.status === "ok"))
  return p
}

beforeAll(async () => {
  db = await createDatabase(injectedServers().supabase, "realtime")
  await sql(`CREATE TABLE items (id bigserial PRIMARY KEY, name text, qty int, done bool, meta jsonb,
             seen_at timestamp, price numeric, tags text[], note text)`)
  await sql(`CREATE TABLE unpublished (id bigserial PRIMARY KEY, name text)`)
  await sql(`CREATE PUBLICATION supabase_realtime FOR TABLE items`)
  process.on("warning", onWarning)
  standIn = await startRealtimeStandIn({ databaseUrl: db.url, idlePollIntervalMs: 20 })
}, 60_000)

afterEach(async () => {
  for (const p of probes.splice(0)) await p.close()
})

afterAll(async () => {
  process.off("warning", onWarning)
  await standIn?.close()
  if (db !== undefined) await dropDatabase(injectedServers().supabase, db.name)
})

describe("the Realtime stand-in, with the real realtime-js client", () => {
  it("subscribes (vsn 2.0.0), says so, and streams inserts, updates and deletes with typed values", async () => {
    const p = await liveProbe([items])
    assert.deepStrictEqual(p.statuses, ["SUBSCRIBED"])
    assert.deepStrictEqual(p.system[0], {
      extension: "postgres_changes",
      status: "ok",
      message: "Subscribed to PostgreSQL",
      channel: "probe"
    } as never)
    const [row] = await sql(
      `INSERT INTO items (name, qty, done, meta, seen_at, price, tags) VALUES
         ('first', 3, true, '{"b": [1, 2], "a": null}', '2026-08-21 12:03:56.123456', 12.50, ARRAY['x', 'y z'])
       RETURNING id`
    )
    const id = Number(row?.id)
    await sql(`UPDATE items SET qty = 4, note = 'changed' WHERE id = $1`, [id])
    await sql(`DELETE FROM items WHERE id = $1`, [id])
    await p.until("three changes", () => p.changes.length >= 3)
    const [insert, update, remove] = p.changes
    assert.strictEqual(insert?.eventType, "INSERT")
    assert.strictEqual(insert?.schema, "public")
    assert.strictEqual(insert?.table, "items")
    assert.match(String(insert?.commit_timestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    assert.isNull(insert?.errors)
    assert.deepStrictEqual(insert?.new, {
      id,
      name: "first",
      qty: 3,
      done: true,
      meta: { a: null, b: [1, 2] },
      seen_at: "2026-08-21T12:03:56.123456",
      price: 12.5,
      tags: ["x", "y z"],
      note: null
    })
    assert.deepStrictEqual(insert?.old, {})
    assert.strictEqual(update?.eventType, "UPDATE")
    assert.strictEqual(update?.new.qty, 4)
    assert.strictEqual(update?.new.note, "changed")
    // default replica identity: the old record holds the primary key only
    assert.deepStrictEqual(update?.old, { id })
    assert.strictEqual(remove?.eventType, "DELETE")
    assert.deepStrictEqual(remove?.old, { id })
    assert.deepStrictEqual(remove?.new, {})
  })

  it("speaks vsn 1.0.0 (object frames) as well, and answers heartbeats", async () => {
    const p = await liveProbe([items], { vsn: "1.0.0", heartbeatIntervalMs: 100 })
    await sql(`INSERT INTO items (name) VALUES ('over v1')`)
    await p.until("the insert", () => p.changes.some((c) => c.new.name === "over v1"))
    await p.until("two answered heartbeats", () => p.heartbeats.filter((h) => h === "ok").length >= 2)
    assert.notInclude(p.heartbeats, "timeout")
  })

  it("delivers only what commits once the subscription is active (the start-up race)", async () => {
    standIn.faults.setSubscribeDelay(500)
    try {
      const p = probe([items])
      await p.until("SUBSCRIBED", () => p.statuses.includes("SUBSCRIBED"))
      assert.strictEqual(p.system.length, 0, "Subscribed to PostgreSQL came with the join reply")
      await sql(`INSERT INTO items (name) VALUES ('too early')`)
      await p.until("Subscribed to PostgreSQL", () => p.system.some((s) => s.status === "ok"))
      await sql(`INSERT INTO items (name) VALUES ('in time')`)
      await p.until("the second insert", () => p.changes.some((c) => c.new.name === "in time"))
      assert.isFalse(p.changes.some((c) => c.new.name === "too early"))
    } finally {
      standIn.faults.setSubscribeDelay(10)
    }
  })

  it("drops sockets: the client reconnects and rejoins, and what committed in between is lost", async () => {
    const p = await liveProbe([items])
    const joins = standIn.stats().joins
    standIn.faults.dropConnections()
    await sql(`INSERT INTO items (name) VALUES ('while away')`)
    await p.until("a second SUBSCRIBED", () => p.statuses.filter((s) => s === "SUBSCRIBED").length >= 2)
    assert.isTrue(
      p.statuses.some((s) => s.startsWith("CHANNEL_ERROR")),
      String(p.statuses)
    )
    await p.until(
      "a second Subscribed to PostgreSQL",
      () => p.system.filter((s) => s.status === "ok").length >= 2
    )
    assert.isAbove(standIn.stats().joins, joins)
    await sql(`INSERT INTO items (name) VALUES ('back')`)
    await p.until("the insert after the rejoin", () => p.changes.some((c) => c.new.name === "back"))
    assert.isFalse(p.changes.some((c) => c.new.name === "while away"))
  })

  it("loses changes on purpose, and truncates payloads over the size limit with Error 413", async () => {
    const p = await liveProbe([items])
    const lost = standIn.stats().lost
    standIn.faults.loseChanges(1)
    await sql(`INSERT INTO items (name) VALUES ('lost')`)
    await sql(`INSERT INTO items (name) VALUES ('kept')`)
    await p.until("the second insert", () => p.changes.some((c) => c.new.name === "kept"))
    assert.isFalse(p.changes.some((c) => c.new.name === "lost"))
    assert.strictEqual(standIn.stats().lost, lost + 1)
    standIn.faults.setMaxRecordBytes(200)
    try {
      await sql(`INSERT INTO items (name, note) VALUES ('big', repeat('n', 500))`)
      await p.until("the large insert", () => p.changes.some((c) => c.new.name === "big"))
      const big = p.changes.find((c) => c.new.name === "big")
      assert.deepStrictEqual(big?.errors, ["Error 413: Payload Too Large"])
      assert.notProperty(big?.new, "note")
      assert.property(big?.new, "id")
    } finally {
      standIn.faults.setMaxRecordBytes(1_048_576)
    }
  })

  it("crashed channels rejoin, resent 'Subscribed' reaches the client, closed channels stay closed", async () => {
    const p = await liveProbe([items])
    standIn.faults.resendSubscribed()
    await p.until("a resent Subscribed", () => p.system.filter((s) => s.status === "ok").length >= 2)
    standIn.faults.crashChannels()
    await p.until("a rejoin after the crash", () => p.statuses.filter((s) => s === "SUBSCRIBED").length >= 2)
    assert.isTrue(
      p.statuses.some((s) => s.startsWith("CHANNEL_ERROR")),
      String(p.statuses)
    )
    await p.until("Subscribed after the rejoin", () => p.system.filter((s) => s.status === "ok").length >= 3)
    standIn.faults.closeChannels()
    await p.until("CLOSED", () => p.statuses.includes("CLOSED"))
    await sql(`INSERT INTO items (name) VALUES ('after close')`)
    await new Promise((r) => setTimeout(r, 300))
    assert.isFalse(p.changes.some((c) => c.new.name === "after close"))
  })

  it("refuses a channel whose binding is not in the publication (none of its bindings active), and filters", async () => {
    const refused = probe([items, { event: "*", schema: "public", table: "unpublished" }], {
      topic: "refused"
    })
    await refused.until("the system error", () => refused.system.some((s) => s.status === "error"))
    assert.match(refused.system[0]?.message ?? "", /Unable to subscribe to changes with given parameters/)
    const filtered = await liveProbe(
      [
        { event: "INSERT", schema: "public", table: "items", filter: "name=eq.wanted" },
        { event: "UPDATE", schema: "public", table: "items" }
      ],
      { topic: "filtered" }
    )
    await sql(`INSERT INTO items (name) VALUES ('unwanted'), ('wanted')`)
    await sql(`UPDATE items SET qty = 9 WHERE name = 'unwanted'`)
    await filtered.until("the wanted insert and the update", () => filtered.changes.length >= 2)
    await new Promise((r) => setTimeout(r, 200))
    assert.deepStrictEqual(
      filtered.changes.map((c) => [c.eventType, c.new.name, c.binding]),
      [
        ["INSERT", "wanted", 0],
        ["UPDATE", "unwanted", 1]
      ]
    )
    assert.isFalse(refused.changes.length > 0, "a refused channel got changes")
  })

  it("sends only the columns a binding selects and the primary key, filtering on the whole row", async () => {
    const p = await liveProbe(
      [
        { event: "*", schema: "public", table: "items", select: ["name"], filter: "qty=eq.7" },
        { event: "*", schema: "public", table: "items", select: ["name"] },
        { event: "INSERT", schema: "public", table: "items" }
      ],
      { topic: "selected" }
    )
    await sql(`INSERT INTO items (name, qty, note) VALUES ('picked', 7, 'not sent'), ('other', 8, 'x')`)
    await p.until("both inserts for every binding", () => p.changes.length >= 5)
    await new Promise((r) => setTimeout(r, 200))
    const of = (binding: number) => p.changes.filter((c) => c.binding === binding)
    // the filter saw qty, which the frame does not carry
    assert.deepStrictEqual(
      of(0).map((c) => c.new),
      [{ id: of(2)[0]!.new.id, name: "picked" }]
    )
    assert.deepStrictEqual(
      of(1).map((c) => Object.keys(c.new).sort()),
      [
        ["id", "name"],
        ["id", "name"]
      ]
    )
    // a binding without select still gets the whole row
    assert.deepStrictEqual(
      of(2).map((c) => [c.new.name, c.new.qty, c.new.note]),
      [
        ["picked", 7, "not sent"],
        ["other", 8, "x"]
      ]
    )
  })

  it("answers a leave, then closes the channel", async () => {
    const p = await liveProbe([items])
    const channel = p.client.getChannels()[0]!
    assert.strictEqual(await channel.unsubscribe(), "ok")
    await p.until("CLOSED", () => p.statuses.includes("CLOSED"))
  })

  it("moves its slot on past what it read, so its polls do not decode the same WAL again", async () => {
    const [{ version }] = (await sql(`SELECT current_setting('server_version_num')::int AS version`)) as [
      { version: number }
    ]
    if (version < 160000) return // pg_log_standby_snapshot() came with PostgreSQL 16
    const p = await liveProbe([items])
    // where the inserts' WAL ends, read inside their transaction: a position read after the commit can
    // already be past a "running transactions" record logged just after it (the stand-in's or the
    // server's), where the slot rightly stops until the next one
    const after = await withClient(db.url, async (client) => {
      await client.query("BEGIN")
      await client.query(`INSERT INTO items (name) SELECT 'many ' || g FROM generate_series(1, 2000) g`)
      const { rows } = await client.query(`SELECT pg_current_wal_insert_lsn()::text AS after`)
      await client.query("COMMIT")
      return (rows as [{ after: string }])[0].after
    })
    await p.until(
      "the 2,000 inserts",
      () => p.changes.filter((c) => String(c.new.name).startsWith("many ")).length >= 2000
    )
    // without the stand-in's record the server moves the slot only every 15 s (its background writer)
    const deadline = Date.now() + 10_000
    let restart = ""
    for (;;) {
      const rows = (await sql(
        `SELECT restart_lsn::text AS restart, restart_lsn >= $1::pg_lsn AS past FROM pg_replication_slots
          WHERE database = current_database() AND slot_name LIKE 'realtime_standin_%'`,
        [after]
      )) as Array<{ restart: string; past: boolean }>
      assert.strictEqual(rows.length, 1)
      restart = rows[0]!.restart
      if (rows[0]!.past) break
      assert.isBelow(
        Date.now(),
        deadline,
        `the slot's restart_lsn stayed at ${restart}, before the inserts' end ${after}`
      )
      await new Promise((r) => setTimeout(r, 50))
    }
  })

  it("issues no deprecated call: queries on each of its sessions run one at a time", async () => {
    // several channels activating at once (each looks up the publication), and a table whose columns are of
    // types the feed has not seen yet (it looks up their names while reading the slot)
    await sql(`CREATE TABLE gadgets (id uuid PRIMARY KEY, addr inet, span interval, born date, bits bit(3),
               ratio real, big bigint, doc json, amounts numeric[])`)
    await sql(`ALTER PUBLICATION supabase_realtime ADD TABLE gadgets`)
    const gadgets: ProbeBinding = { event: "*", schema: "public", table: "gadgets" }
    const ps = await Promise.all(
      ["one", "two", "three", "four"].map((topic) => liveProbe([items, gadgets], { topic }))
    )
    await sql(
      `INSERT INTO gadgets VALUES (gen_random_uuid(), '10.0.0.1', '1 day', '2026-01-02', B'101', 0.5, 9, '{}', '{1.5}')`
    )
    await sql(`INSERT INTO items (name) VALUES ('with gadgets')`)
    for (const p of ps) await p.until("both inserts", () => p.changes.length >= 2)
    assert.deepStrictEqual(
      warnings.filter((w) => w.name === "DeprecationWarning").map((w) => w.message),
      []
    )
  })
})
