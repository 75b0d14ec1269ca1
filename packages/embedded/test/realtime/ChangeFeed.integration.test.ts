/**
 * The Realtime stand-in's change feed on a real database (`realtime-protocol.md` §3.1, §4): what commits
 * after it started, of its publication's tables, handed on once each, in commit order, whole transactions
 * per poll; each change typed as Realtime's `apply_rls` types it (the values `to_jsonb` gives, the columns
 * with their `pg_type` names), with the old record the replica identity holds, an unchanged TOAST value
 * missing; and its temporary slot gone once it stops.
 */
import { afterAll, afterEach, assert, beforeAll, describe, it } from "@effect/vitest"
import { queryRows, withClient } from "../../src/Client.ts"
import { createDatabase, type DatabaseInfo, dropDatabase } from "../../src/Databases.ts"
import { type ChangeFeed, type RowChange, startChangeFeed } from "../../src/realtime/ChangeFeed.ts"
import { injectedServers } from "../support/Servers.ts"

let db: DatabaseInfo
const feeds: Array<ChangeFeed> = []

const sql = (text: string, values: ReadonlyArray<unknown> = []) => queryRows(db.url, text, values)

/** A feed on the test database, stopped after the test; every poll's changes kept as one batch. */
const feed = async (publication: string, maxChangesPerPoll?: number) => {
  const batches: Array<ReadonlyArray<RowChange>> = []
  const started = await startChangeFeed(
    {
      databaseUrl: db.url,
      publication,
      idlePollIntervalMs: 10,
      ...(maxChangesPerPoll === undefined ? {} : { maxChangesPerPoll })
    },
    (changes) => batches.push(changes)
  )
  feeds.push(started)
  const changes = () => batches.flat()
  /** Resolves once `n` changes came (the test fails after 10 s). */
  const until = async (n: number) => {
    for (let i = 0; changes().length < n; i++) {
      assert.isBelow(i, 1000, `waited 10 s for ${n} changes, got ${JSON.stringify(changes())}`)
      await new Promise((r) => setTimeout(r, 10))
    }
    return changes()
  }
  return { feed: started, batches, changes, until }
}

/** A row as Realtime types it: `to_jsonb` of the row, as PostgreSQL itself builds it. */
const asJsonb = async (table: string, where: string) => {
  const rows = await sql(`SELECT to_jsonb(t)::text AS j FROM ${table} t WHERE ${where}`)
  assert.strictEqual(rows.length, 1)
  return JSON.parse(String(rows[0]!.j)) as Record<string, unknown>
}

/** A table's columns with their type names, in column order, as `columns` lists them. */
const columnsOf = (table: string) =>
  sql(
    `SELECT a.attname AS name, t.typname AS type FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
      WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [table]
  )

const slotNamed = (name: string) =>
  sql("SELECT temporary FROM pg_replication_slots WHERE slot_name = $1 AND database = current_database()", [
    name
  ])

const millisecondIso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

/** The server's clock now, in milliseconds since the epoch (whole milliseconds, as commit times are). */
const serverMillis = async () => {
  const [row] = await sql(`SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint::text AS ms`)
  return Number(row?.ms)
}

beforeAll(async () => {
  db = await createDatabase(injectedServers().supabase, "change_feed")
}, 60_000)

afterEach(async () => {
  for (const f of feeds.splice(0)) await f.stop()
})

afterAll(async () => {
  if (db !== undefined) await dropDatabase(injectedServers().supabase, db.name)
})

describe("ChangeFeed", () => {
  it("hands on what commits after its start once each, in commit order, whole transactions per poll", async () => {
    await sql(`CREATE TABLE ordered (id int PRIMARY KEY, tx bigint NOT NULL DEFAULT txid_current())`)
    await sql(`CREATE PUBLICATION pub_ordered FOR TABLE ordered`)
    await sql(`INSERT INTO ordered (id) VALUES (0)`)
    // at most 3 changes a poll: a transaction of 10 still comes whole
    const f = await feed("pub_ordered", 3)
    const before = await serverMillis()
    await sql(`INSERT INTO ordered (id) VALUES (1)`)
    await sql(`INSERT INTO ordered (id) SELECT g FROM generate_series(2, 11) g`)
    await withClient(db.url, async (client) => {
      await client.query("BEGIN")
      await client.query("UPDATE ordered SET id = 100, tx = txid_current() WHERE id = 1")
      await client.query("DELETE FROM ordered WHERE id = 2")
      await client.query("INSERT INTO ordered (id) VALUES (12)")
      await client.query("COMMIT")
    })
    await withClient(db.url, async (client) => {
      await client.query("BEGIN")
      await client.query("INSERT INTO ordered (id) VALUES (99)")
      await client.query("ROLLBACK")
    })
    await sql(`DELETE FROM ordered WHERE id = 100`)
    const changes = await f.until(15)
    const after = await serverMillis()
    // nothing more comes: a marker committed last arrives next, alone
    await sql(`INSERT INTO ordered (id) VALUES (13)`)
    await f.until(16)
    const id = (c: RowChange) => (c.record ?? c.oldRecord)?.id
    assert.deepStrictEqual(
      f.changes().map((c) => [c.type, id(c)]),
      [
        ["INSERT", 1],
        ...Array.from({ length: 10 }, (_, i) => ["INSERT", i + 2]),
        ["UPDATE", 100],
        ["DELETE", 2],
        ["INSERT", 12],
        ["DELETE", 100],
        ["INSERT", 13]
      ]
    )
    // no transaction split between two polls (a row written carries its transaction's id; a delete, only its key)
    const batchOf = new Map<unknown, number>()
    f.batches.forEach((batch, i) => {
      for (const c of batch) {
        if (c.record === undefined) continue
        assert.strictEqual(batchOf.get(c.record.tx) ?? i, i, `transaction ${c.record.tx} split`)
        batchOf.set(c.record.tx, i)
      }
    })
    const bulk = changes.slice(1, 11)
    assert.strictEqual(new Set(bulk.map((c) => c.commitTimestamp)).size, 1)
    assert.strictEqual(new Set(bulk.map((c) => c.record?.tx)).size, 1)
    assert.isTrue(f.batches.some((b) => b.length >= 10))
    for (const c of changes) {
      assert.match(c.commitTimestamp, millisecondIso)
      assert.strictEqual(c.schema, "public")
      assert.strictEqual(c.table, "ordered")
    }
    // the commit time, as the server's clock had it
    for (const c of changes) {
      const at = Date.parse(c.commitTimestamp)
      assert.isTrue(before <= at && at <= after, `${c.commitTimestamp} outside the test's transactions`)
    }
  })

  it("types every value as to_jsonb does and lists the columns with their type names", async () => {
    await sql(`CREATE TABLE typed (id bigserial PRIMARY KEY, gone text, name text, small int2, big int8, ratio real,
               wide float8, price numeric, odd numeric, done bool, meta jsonb, doc json, seen_at timestamp,
               at timestamptz, born date, span interval, uid uuid, addr inet, raw bytea, tags text[],
               counts int4[], flags bool[], docs jsonb[], nothing text)`)
    await sql(`ALTER TABLE typed DROP COLUMN gone`)
    await sql(`CREATE PUBLICATION pub_typed FOR TABLE typed`)
    const f = await feed("pub_typed")
    await sql(
      `INSERT INTO typed (name, small, big, ratio, wide, price, odd, done, meta, doc, seen_at, at, born, span, uid,
                          addr, raw, tags, counts, flags, docs)
       VALUES ('tab\there "quoted" é😀', -7, 9007199254740993, 0.1, 'Infinity', 12.50, 'NaN', false,
               '{"b": [1, 2.50], "a": null, "s": "x"}', '{"kept":  "as written"}', '2026-08-21 12:03:56.123456',
               '2026-08-21 12:03:56.5+02', '2026-01-02', '1 day 02:00', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
               '10.0.0.1/8', '\\x0001ff', ARRAY['x', 'y z', NULL, 'NULL', '', 'a,b', 'q"uote', 'back\\slash', '{}'],
               ARRAY[1, NULL, -3], ARRAY[true, false, NULL], ARRAY['{"n": 1}'::jsonb, '[]'])`
    )
    await sql(`INSERT INTO typed (name, tags, counts) VALUES (NULL, '{}', NULL)`)
    const [full, empty] = await f.until(2)
    assert.deepStrictEqual(full?.record, await asJsonb("typed", "name IS NOT NULL"))
    assert.deepStrictEqual(empty?.record, await asJsonb("typed", "name IS NULL"))
    assert.deepStrictEqual<unknown>(full?.columns, await columnsOf("typed"))
    assert.notInclude(
      full!.columns.map((c) => c.name),
      "gone"
    )
  })

  it("gives the old record the replica identity holds: the key by default, the whole row with FULL", async () => {
    await sql(`CREATE TABLE keyed (region text, n int, note text, PRIMARY KEY (region, n))`)
    await sql(`CREATE TABLE whole (id int PRIMARY KEY, note text, qty int)`)
    await sql(`ALTER TABLE whole REPLICA IDENTITY FULL`)
    await sql(`CREATE PUBLICATION pub_identity FOR TABLE keyed, whole`)
    const f = await feed("pub_identity")
    await sql(`INSERT INTO keyed VALUES ('north', 1, 'first')`)
    await sql(`UPDATE keyed SET note = 'second' WHERE n = 1`)
    await sql(`UPDATE keyed SET n = 2 WHERE n = 1`)
    await sql(`DELETE FROM keyed WHERE n = 2`)
    await sql(`INSERT INTO whole VALUES (1, 'first', 3)`)
    await sql(`UPDATE whole SET qty = 4 WHERE id = 1`)
    await sql(`DELETE FROM whole WHERE id = 1`)
    const changes = await f.until(7)
    const shape = (c: RowChange) => ({ type: c.type, record: c.record, oldRecord: c.oldRecord })
    assert.deepStrictEqual(changes.map(shape), [
      { type: "INSERT", record: { region: "north", n: 1, note: "first" }, oldRecord: undefined },
      // the key kept: the new row's key
      {
        type: "UPDATE",
        record: { region: "north", n: 1, note: "second" },
        oldRecord: { region: "north", n: 1 }
      },
      // the key changed: the old key
      {
        type: "UPDATE",
        record: { region: "north", n: 2, note: "second" },
        oldRecord: { region: "north", n: 1 }
      },
      { type: "DELETE", record: undefined, oldRecord: { region: "north", n: 2 } },
      { type: "INSERT", record: { id: 1, note: "first", qty: 3 }, oldRecord: undefined },
      {
        type: "UPDATE",
        record: { id: 1, note: "first", qty: 4 },
        oldRecord: { id: 1, note: "first", qty: 3 }
      },
      { type: "DELETE", record: undefined, oldRecord: { id: 1, note: "first", qty: 4 } }
    ])
    // INSERT has no old_record, DELETE no record (§3.1): the keys are absent, not undefined
    assert.notProperty(changes[0], "oldRecord")
    assert.notProperty(changes[3], "record")
  })

  it("leaves an unchanged TOAST value out of the record of an update", async () => {
    await sql(`CREATE TABLE toasted (id int PRIMARY KEY, body text, qty int)`)
    await sql(`ALTER TABLE toasted ALTER COLUMN body SET STORAGE EXTERNAL`)
    await sql(`CREATE PUBLICATION pub_toasted FOR TABLE toasted`)
    const f = await feed("pub_toasted")
    await sql(`INSERT INTO toasted VALUES (1, repeat('long ', 2000), 1)`)
    await sql(`UPDATE toasted SET qty = 2 WHERE id = 1`)
    await sql(`UPDATE toasted SET body = 'short', qty = 3 WHERE id = 1`)
    const [insert, kept, changed] = await f.until(3)
    assert.strictEqual(insert?.record?.body, "long ".repeat(2000))
    assert.deepStrictEqual(kept?.record, { id: 1, qty: 2 })
    assert.deepStrictEqual(changed?.record, { id: 1, body: "short", qty: 3 })
  })

  it("reads only its publication's tables, no TRUNCATE, on a temporary slot that goes when it stops", async () => {
    await sql(`CREATE TABLE published (id int PRIMARY KEY)`)
    await sql(`CREATE TABLE unpublished (id int PRIMARY KEY)`)
    await sql(`CREATE PUBLICATION supabase_realtime FOR TABLE published`)
    const changes: Array<RowChange> = []
    // the default publication, supabase_realtime
    const f = await startChangeFeed({ databaseUrl: db.url, idlePollIntervalMs: 10 }, (c) =>
      changes.push(...c)
    )
    try {
      assert.match(f.slot, /^realtime_standin_[a-z0-9]+$/)
      assert.deepStrictEqual(await slotNamed(f.slot), [{ temporary: true }])
      await sql(`INSERT INTO unpublished VALUES (1)`)
      await sql(`INSERT INTO published VALUES (1)`)
      await sql(`TRUNCATE published`)
      await sql(`INSERT INTO published VALUES (2)`)
      for (let i = 0; changes.length < 2; i++) {
        assert.isBelow(i, 1000, "waited 10 s for the two inserts")
        await new Promise((r) => setTimeout(r, 10))
      }
    } finally {
      await f.stop()
    }
    assert.deepStrictEqual(
      changes.map((c) => [c.table, c.type, c.record?.id]),
      [
        ["published", "INSERT", 1],
        ["published", "INSERT", 2]
      ]
    )
    // its session is closed: the temporary slot went with it
    for (let i = 0; (await slotNamed(f.slot)).length > 0; i++) {
      assert.isBelow(i, 1000, "the slot outlived its feed by 10 s")
      await new Promise((r) => setTimeout(r, 10))
    }
  })
})
