/**
 * Transactions are assembled into bounded chunks of keys, empty ones and keepalives become positions to
 * pass, and across reconnects (the server re-sending from the confirmed position, or PostgreSQL 15
 * re-sending acknowledged transactions) nothing is lost and nothing is delivered twice.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import type { ReplicationMessage } from "../../src/internal/ReplicationMessage.ts"
import {
  type AssemblerOutput,
  type FollowedTable,
  formatCommitTime,
  type Resume,
  TransactionAssembler
} from "../../src/internal/TransactionAssembler.ts"
import type { Changes } from "../../src/ListenerEvent.ts"

const company: FollowedTable = { schema: "marketing", name: "company_invalid", key: "company_unique_id" }
const people: FollowedTable = { schema: "marketing", name: "people_invalid", key: "unique_id" }
const other = { schema: "public", name: "unrelated" }
const tables = [company, people]

const at = (micros: bigint) => micros
const begin = (xid: number, finalLsn: bigint): ReplicationMessage => ({
  _tag: "Begin",
  xid,
  finalLsn,
  commitTime: at(1_795_000_000_123_456n)
})
const commit = (commitLsn: bigint, endLsn: bigint): ReplicationMessage => ({
  _tag: "Commit",
  commitLsn,
  endLsn,
  commitTime: at(1_795_000_000_123_456n)
})
const insert = (t: FollowedTable, key: string, extra: Record<string, unknown> = {}): ReplicationMessage => ({
  _tag: "Insert",
  relation: { schema: t.schema, name: t.name },
  row: { id: 1, [t.key]: key, ...extra }
})
const update = (t: FollowedTable, key: string): ReplicationMessage => ({
  _tag: "Update",
  relation: { schema: t.schema, name: t.name },
  row: { id: 1, [t.key]: key },
  before: null
})
const remove = (t: FollowedTable, key: string | null): ReplicationMessage => ({
  _tag: "Delete",
  relation: { schema: t.schema, name: t.name },
  before: key === null ? { id: 1 } : { [t.key]: key }
})
const keepalive = (walEnd: bigint, replyRequested = false): ReplicationMessage => ({
  _tag: "Keepalive",
  walEnd,
  replyRequested
})

const start = (resume: Partial<Resume> = {}, maxChunkChanges = 100) =>
  new TransactionAssembler({
    tables,
    maxChunkChanges,
    resume: { deliveredThrough: 1000n, partial: null, ...resume }
  })

const feed = (assembler: TransactionAssembler, messages: ReadonlyArray<ReplicationMessage>) =>
  messages.flatMap((m) => assembler.push(m))

const chunks = (outputs: ReadonlyArray<AssemblerOutput>): ReadonlyArray<Changes> =>
  outputs.flatMap((o) => (o._tag === "Deliver" ? [o.chunk] : []))

describe("formatCommitTime", () => {
  it("prints UTC ISO-8601 with microseconds", () => {
    assert.strictEqual(formatCommitTime(1_795_000_000_123_456n), "2026-11-18T11:06:40.123456Z")
    assert.strictEqual(formatCommitTime(0n), "1970-01-01T00:00:00.000000Z")
    assert.strictEqual(formatCommitTime(1n), "1970-01-01T00:00:00.000001Z")
    assert.strictEqual(formatCommitTime(999_999n), "1970-01-01T00:00:00.999999Z")
    assert.strictEqual(formatCommitTime(-1n), "1969-12-31T23:59:59.999999Z")
  })

  it("agrees with Date on the milliseconds for any time", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 253_402_300_799_999_999n }), (micros) => {
        const text = formatCommitTime(micros)
        assert.match(text, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/)
        assert.strictEqual(Date.parse(text), Number(micros / 1000n))
        assert.strictEqual(text.slice(-4, -1), (micros % 1000n).toString().padStart(3, "0"))
      })
    )
  })
})

describe("TransactionAssembler", () => {
  it("delivers a transaction's keys with its commit position and time", () => {
    const a = start()
    const out = feed(a, [
      begin(7, 2000n),
      insert(company, "04.04.01.01.00001.001"),
      update(people, "04.04.02.01.00002.002"),
      { _tag: "Insert", relation: other, row: { id: 3 } },
      remove(company, "04.04.01.01.00003.003"),
      commit(2000n, 2048n)
    ])
    assert.deepStrictEqual(out, [
      {
        _tag: "Deliver",
        chunk: {
          _tag: "Changes",
          xid: 7,
          commitLsn: 2000n,
          endLsn: 2048n,
          commitTime: "2026-11-18T11:06:40.123456Z",
          changes: [
            {
              table: { schema: "marketing", name: "company_invalid" },
              op: "insert",
              key: "04.04.01.01.00001.001"
            },
            {
              table: { schema: "marketing", name: "people_invalid" },
              op: "update",
              key: "04.04.02.01.00002.002"
            },
            {
              table: { schema: "marketing", name: "company_invalid" },
              op: "delete",
              key: "04.04.01.01.00003.003"
            }
          ],
          truncated: [],
          last: true
        }
      }
    ])
    assert.isFalse(a.isOpen)
    assert.deepStrictEqual(a.resume, { deliveredThrough: 2048n, partial: null })
  })

  it("passes over empty and unrelated transactions and idle keepalives", () => {
    const a = start()
    assert.deepStrictEqual(feed(a, [begin(1, 2000n), commit(2000n, 2050n)]), [
      { _tag: "Pass", position: 2050n }
    ])
    assert.deepStrictEqual(
      feed(a, [begin(2, 2100n), { _tag: "Insert", relation: other, row: { id: 1 } }, commit(2100n, 2150n)]),
      [{ _tag: "Pass", position: 2150n }]
    )
    assert.deepStrictEqual(feed(a, [keepalive(2200n, true)]), [{ _tag: "Pass", position: 2200n }])
    assert.deepStrictEqual(
      feed(a, [keepalive(2200n), keepalive(1500n)]),
      [],
      "no position twice, none backwards"
    )
  })

  it("never passes a keepalive in the middle of a transaction", () => {
    const a = start()
    assert.deepStrictEqual(feed(a, [begin(1, 2000n), insert(company, "k1"), keepalive(3000n)]), [])
    const out = feed(a, [commit(2000n, 2050n)])
    assert.strictEqual(chunks(out).length, 1)
    assert.deepStrictEqual(a.resume.deliveredThrough, 2050n)
  })

  it("keeps one entry per key in a chunk, with the last operation", () => {
    const a = start()
    const out = feed(a, [
      begin(1, 2000n),
      insert(company, "k1"),
      update(company, "k1"),
      insert(people, "k1"),
      remove(company, "k1"),
      commit(2000n, 2050n)
    ])
    assert.deepStrictEqual(
      chunks(out)[0]!.changes.map((c) => [c.table.name, c.op, c.key]),
      [
        ["company_invalid", "delete", "k1"],
        ["people_invalid", "insert", "k1"]
      ]
    )
  })

  it("reports truncates of followed tables once", () => {
    const a = start()
    const relations = [{ schema: company.schema, name: company.name }, other]
    const out = feed(a, [
      begin(1, 2000n),
      { _tag: "Truncate", relations },
      { _tag: "Truncate", relations },
      commit(2000n, 2050n)
    ])
    const [chunk] = chunks(out)
    assert.deepStrictEqual(chunk!.truncated, [{ schema: "marketing", name: "company_invalid" }])
    assert.deepStrictEqual(chunk!.changes, [])
    assert.isTrue(chunk!.last)
  })

  it("reports a change whose key is missing (replica identity without the key)", () => {
    const a = start()
    const out = feed(a, [begin(1, 2000n), remove(company, null)])
    assert.deepStrictEqual(out, [
      { _tag: "MissingKey", table: { schema: "marketing", name: "company_invalid" }, op: "delete" }
    ])
  })

  it("reads keys of other types as text and reports a key that changed", () => {
    const numeric: FollowedTable = { schema: "s", name: "t", key: "n" }
    const a = new TransactionAssembler({
      tables: [numeric],
      maxChunkChanges: 10,
      resume: { deliveredThrough: 0n, partial: null }
    })
    const out = feed(a, [
      begin(1, 10n),
      { _tag: "Update", relation: { schema: "s", name: "t" }, row: { n: 42 }, before: { n: 41 } },
      commit(10n, 20n)
    ])
    assert.deepStrictEqual(
      chunks(out)[0]!.changes.map((c) => [c.op, c.key]),
      [
        ["delete", "41"],
        ["update", "42"]
      ]
    )
  })

  it("cuts a large transaction into chunks of at most maxChunkChanges keys", () => {
    const a = start({}, 3)
    const keys = Array.from({ length: 10 }, (_, i) => `k${i}`)
    const out = feed(a, [begin(9, 5000n), ...keys.map((k) => update(company, k)), commit(5000n, 5100n)])
    const cs = chunks(out)
    assert.deepStrictEqual(
      cs.map((c) => c.changes.length),
      [3, 3, 3, 1]
    )
    assert.deepStrictEqual(
      cs.map((c) => c.last),
      [false, false, false, true]
    )
    assert.deepStrictEqual(
      cs.map((c) => c.endLsn),
      [1000n, 1000n, 1000n, 5100n],
      "earlier chunks carry the position before the transaction, so acknowledging them confirms nothing of it"
    )
    assert.deepStrictEqual(
      cs.flatMap((c) => c.changes.map((x) => x.key)),
      keys
    )
    assert.isTrue(cs.every((c) => c.xid === 9 && c.commitLsn === 5000n))
  })

  it("hands out a full chunk as soon as the next key arrives (memory stays bounded)", () => {
    const a = start({}, 2)
    assert.deepStrictEqual(feed(a, [begin(1, 2000n), insert(company, "a"), insert(company, "b")]), [])
    const out = feed(a, [insert(company, "c")])
    assert.deepStrictEqual(
      chunks(out).map((c) => c.changes.map((x) => x.key)),
      [["a", "b"]]
    )
    assert.deepStrictEqual(
      feed(a, [insert(company, "a")]),
      [],
      "a key already handed out is a new entry of the next chunk"
    )
    assert.deepStrictEqual(
      chunks(feed(a, [commit(2000n, 2100n)])).map((c) => c.changes.map((x) => x.key)),
      [["c", "a"]]
    )
  })

  it("skips transactions delivered before a reconnect and what PostgreSQL 15 re-sends after a restart", () => {
    const a = start({ deliveredThrough: 3000n })
    // Already delivered (commit record before 3000): skipped whole, even when it has changes.
    assert.deepStrictEqual(feed(a, [begin(1, 2000n), insert(company, "old"), commit(2000n, 2100n)]), [])
    assert.deepStrictEqual(feed(a, [begin(2, 2900n), insert(company, "old2"), commit(2900n, 3000n)]), [])
    const out = feed(a, [begin(3, 3000n), insert(company, "new"), commit(3000n, 3100n)])
    assert.deepStrictEqual(
      chunks(out).map((c) => c.changes.map((x) => x.key)),
      [["new"]]
    )
  })

  it("resumes a transaction cut short after the changes already delivered", () => {
    const a = start({}, 2)
    const messages = [
      begin(4, 2000n),
      ...["a", "b", "c", "d", "e"].map((k) => insert(company, k)),
      commit(2000n, 2100n)
    ]
    const first = feed(a, messages.slice(0, 5)) // begin + a b c d: chunk [a, b] handed out, [c, d] held
    assert.deepStrictEqual(
      chunks(first).map((c) => c.changes.map((x) => x.key)),
      [["a", "b"]]
    )
    const resume = a.resume
    assert.deepStrictEqual(resume, { deliveredThrough: 1000n, partial: { commitLsn: 2000n, delivered: 2 } })
    const b = new TransactionAssembler({ tables, maxChunkChanges: 2, resume })
    const second = chunks(feed(b, messages))
    assert.deepStrictEqual(
      second.map((c) => [c.changes.map((x) => x.key), c.last]),
      [
        [["c", "d"], false],
        [["e"], true]
      ]
    )
  })

  it("keeps the cut-short transaction in mind across a connection that did not reach it", () => {
    const a = start({ partial: { commitLsn: 2000n, delivered: 3 } })
    feed(a, [keepalive(1500n)])
    assert.deepStrictEqual(a.resume.partial, { commitLsn: 2000n, delivered: 3 })
  })

  it("property: reconnecting anywhere, as often as you like, loses nothing and duplicates nothing", () => {
    const txn = fc.record({
      related: fc.boolean(),
      size: fc.integer({ min: 0, max: 9 }),
      gap: fc.integer({ min: 1, max: 100 })
    })
    fc.assert(
      fc.property(
        fc.array(txn, { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        fc.integer({ min: 1, max: 4 }),
        (specs, cuts, restarts, maxChunkChanges) => {
          // The server's history: transactions with increasing positions, each key unique.
          let lsn = 10_000n
          const history = specs.map((spec, i) => {
            const finalLsn = lsn + BigInt(spec.gap)
            const endLsn = finalLsn + 24n
            lsn = endLsn
            const table = spec.related ? company : { schema: "public", name: "unrelated", key: "k" }
            const keys = Array.from({ length: spec.size }, (_, j) => `t${i}-k${j}`)
            const messages: Array<ReplicationMessage> = [
              begin(i + 1, finalLsn),
              ...keys.map((k) => insert(table as FollowedTable, k)),
              commit(finalLsn, endLsn)
            ]
            return { finalLsn, endLsn, keys: spec.related ? keys : [], messages }
          })
          const expected = history.flatMap((t) => t.keys)
          const streamFrom = (startAt: bigint) => [
            ...history.filter((t) => t.finalLsn >= startAt).flatMap((t) => t.messages),
            keepalive(lsn)
          ]

          // Sessions: each reads from the server's start position and stops after `cut` messages.
          const delivered: Array<string> = []
          let resume: Resume = { deliveredThrough: 10_000n, partial: null }
          let confirmed = 10_000n
          const plan = [...cuts, Number.POSITIVE_INFINITY]
          for (const [round, cut] of plan.entries()) {
            const a = new TransactionAssembler({ tables, maxChunkChanges, resume })
            // PostgreSQL 15 after a restart may start before what was confirmed (R4).
            const rewind = restarts[round] ?? 0
            const startAt = rewind % 3 === 0 ? 10_000n : confirmed
            const messages = streamFrom(startAt)
            const limit = Math.min(
              messages.length,
              cut === Number.POSITIVE_INFINITY ? messages.length : cut % (messages.length + 1)
            )
            for (const m of messages.slice(0, limit)) {
              for (const o of a.push(m)) {
                if (o._tag === "Deliver") {
                  assert.isAtMost(o.chunk.changes.length, maxChunkChanges)
                  delivered.push(...o.chunk.changes.map((c) => c.key))
                  if (o.chunk.last) confirmed = o.chunk.endLsn
                }
                assert.notStrictEqual(o._tag, "MissingKey")
              }
            }
            resume = a.resume
          }
          assert.deepStrictEqual(delivered, expected)
        }
      ),
      { numRuns: 400 }
    )
  })
})
