/**
 * The conversion of the library's pgoutput messages into ours: positions parsed from their padded text
 * (R5), the transaction id unsigned, commit times kept in microseconds, an update's or delete's old key
 * from `key` (the replica identity) or `old` (FULL), and messages the listener ignores as `null`.
 */
import { assert, describe, it } from "@effect/vitest"
import type { Pgoutput } from "pg-logical-replication"
import { fromPgoutput } from "../../src/internal/PgoutputConversion.ts"

const relation = (schema: string, name: string): Pgoutput.MessageRelation => ({
  tag: "relation",
  relationOid: 16400,
  schema,
  name,
  replicaIdentity: "index",
  columns: [],
  keyColumns: ["company_unique_id"]
})

const company = relation("marketing", "company_invalid")

describe("fromPgoutput", () => {
  it("parses a begin's and a commit's positions, keeps the commit time, and makes the xid unsigned", () => {
    assert.deepStrictEqual(
      fromPgoutput({
        tag: "begin",
        commitLsn: "00000000/01930158",
        commitTime: 1_795_000_000_123_456n,
        xid: -2
      }),
      { _tag: "Begin", xid: 4_294_967_294, finalLsn: 0x1930158n, commitTime: 1_795_000_000_123_456n }
    )
    assert.deepStrictEqual(
      fromPgoutput({
        tag: "commit",
        flags: 0,
        commitLsn: "00000001/00000010",
        commitEndLsn: "00000001/00000040",
        commitTime: 7n
      }),
      { _tag: "Commit", commitLsn: 0x1_0000_0010n, endLsn: 0x1_0000_0040n, commitTime: 7n }
    )
    assert.deepStrictEqual(
      fromPgoutput({ tag: "commit", flags: 0, commitLsn: null, commitEndLsn: null, commitTime: 0n }),
      { _tag: "Commit", commitLsn: 0n, endLsn: 0n, commitTime: 0n }
    )
  })

  it("names the relation of a change and takes the old key from key, else from old", () => {
    const row = { company_unique_id: "k1" }
    assert.deepStrictEqual(fromPgoutput({ tag: "insert", relation: company, new: row }), {
      _tag: "Insert",
      relation: { schema: "marketing", name: "company_invalid" },
      row
    })
    assert.deepStrictEqual(
      fromPgoutput({
        tag: "update",
        relation: company,
        key: { company_unique_id: "k0" },
        old: null,
        new: row
      }),
      {
        _tag: "Update",
        relation: { schema: "marketing", name: "company_invalid" },
        row,
        before: { company_unique_id: "k0" }
      }
    )
    assert.deepStrictEqual(
      fromPgoutput({ tag: "update", relation: company, key: null, old: null, new: row }),
      {
        _tag: "Update",
        relation: { schema: "marketing", name: "company_invalid" },
        row,
        before: null
      }
    )
    assert.deepStrictEqual(fromPgoutput({ tag: "delete", relation: company, key: null, old: row }), {
      _tag: "Delete",
      relation: { schema: "marketing", name: "company_invalid" },
      before: row
    })
  })

  it("lists a truncate's relations", () => {
    assert.deepStrictEqual(
      fromPgoutput({
        tag: "truncate",
        cascade: false,
        restartIdentity: false,
        relations: [company, relation("marketing", "people_invalid")]
      }),
      {
        _tag: "Truncate",
        relations: [
          { schema: "marketing", name: "company_invalid" },
          { schema: "marketing", name: "people_invalid" }
        ]
      }
    )
  })

  it("ignores relation, type, origin and logical messages", () => {
    assert.isNull(fromPgoutput(company))
    assert.isNull(fromPgoutput({ tag: "type", typeOid: 1, typeSchema: "public", typeName: "t" }))
    assert.isNull(fromPgoutput({ tag: "origin", originLsn: null, originName: "o" }))
    assert.isNull(
      fromPgoutput({
        tag: "message",
        flags: 0,
        transactional: false,
        messageLsn: "0/1",
        prefix: "enrich-sync",
        content: new Uint8Array()
      })
    )
  })
})
