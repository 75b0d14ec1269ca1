/**
 * The Phoenix frames of Supabase Realtime as `realtime-protocol.md` describes them (§1.2, the transcripts of
 * §3.4): the serializer a `vsn` asks for, the client's frames of both versions decoded, the server's
 * encoded (arrays with `vsn=2.0.0`; objects without `join_ref` with `vsn=1.0.0`), and anything that is not
 * a frame refused.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import { decodeFrame, encodeFrame, type Frame, type Vsn, vsnOf } from "../../src/realtime/RealtimeFrames.ts"

const join = {
  config: {
    broadcast: { ack: false, self: false },
    presence: { key: "", enabled: false },
    postgres_changes: [{ event: "*", schema: "public", table: "todos" }],
    private: false
  },
  access_token: "eyJ..."
}
const joined = {
  status: "ok",
  response: { postgres_changes: [{ id: 30636876, event: "*", schema: "public", table: "todos" }] }
}
const subscribed = {
  extension: "postgres_changes",
  status: "ok",
  message: "Subscribed to PostgreSQL",
  channel: "room1"
}
const change = {
  ids: [30636876],
  data: {
    columns: [
      { name: "id", type: "int8" },
      { name: "title", type: "text" }
    ],
    commit_timestamp: "2026-08-21T12:03:56.123Z",
    errors: null,
    record: { id: 1, title: "a" },
    schema: "public",
    table: "todos",
    type: "INSERT"
  }
}
const ok = { status: "ok", response: {} }
const frame = (
  joinRef: string | null,
  ref: string | null,
  topic: string,
  event: string,
  payload: Record<string, unknown>
): Frame => ({ joinRef, ref, topic, event, payload })

/** `encodeFrame`'s text, parsed (the protocol leaves JSON key order free). */
const encoded = (vsn: Vsn, f: Frame): unknown => JSON.parse(encodeFrame(vsn, f))

const ref = fc.option(fc.string({ maxLength: 4 }), { nil: null })
/** A JSON object payload, as JSON carries it (no -0) */
const payload = fc
  .dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 })
  .map((p) => JSON.parse(JSON.stringify(p)) as Record<string, unknown>)
const anyFrame = fc.record({ joinRef: ref, ref, topic: fc.string(), event: fc.string(), payload })

describe("RealtimeFrames", () => {
  it("serializes as the vsn parameter asks: 1.0.0 when absent, 2.0.0, nothing else", () => {
    assert.strictEqual(vsnOf(null), "1.0.0")
    assert.strictEqual(vsnOf("1.0.0"), "1.0.0")
    assert.strictEqual(vsnOf("2.0.0"), "2.0.0")
    for (const other of ["3.0.0", "", "2", "v2.0.0", "0.9.0", "10.0.0"]) assert.isNull(vsnOf(other), other)
  })

  it("speaks the vsn 2.0.0 transcript: array frames both ways, refs or null", () => {
    const v = "2.0.0"
    assert.deepStrictEqual(
      decodeFrame(v, JSON.stringify(["1", "1", "realtime:room1", "phx_join", join])),
      frame("1", "1", "realtime:room1", "phx_join", join)
    )
    assert.deepStrictEqual(
      decodeFrame(v, '[null,"2","phoenix","heartbeat",{}]'),
      frame(null, "2", "phoenix", "heartbeat", {})
    )
    assert.deepStrictEqual(
      decodeFrame(v, '["1","4","realtime:room1","phx_leave",{}]'),
      frame("1", "4", "realtime:room1", "phx_leave", {})
    )
    assert.deepStrictEqual(encoded(v, frame("1", "1", "realtime:room1", "phx_reply", joined)), [
      "1",
      "1",
      "realtime:room1",
      "phx_reply",
      joined
    ])
    assert.deepStrictEqual(encoded(v, frame("1", null, "realtime:room1", "system", subscribed)), [
      "1",
      null,
      "realtime:room1",
      "system",
      subscribed
    ])
    assert.deepStrictEqual(encoded(v, frame(null, null, "realtime:room1", "postgres_changes", change)), [
      null,
      null,
      "realtime:room1",
      "postgres_changes",
      change
    ])
    assert.strictEqual(
      encodeFrame(v, frame(null, "2", "phoenix", "phx_reply", ok)),
      '[null,"2","phoenix","phx_reply",{"status":"ok","response":{}}]'
    )
    assert.strictEqual(
      encodeFrame(v, frame("1", "1", "realtime:room1", "phx_close", {})),
      '["1","1","realtime:room1","phx_close",{}]'
    )
  })

  it("speaks the vsn 1.0.0 transcript: object frames, join_ref from the client only", () => {
    const v = "1.0.0"
    assert.deepStrictEqual(
      decodeFrame(
        v,
        JSON.stringify({ topic: "realtime:room1", event: "phx_join", payload: join, ref: "1", join_ref: "1" })
      ),
      frame("1", "1", "realtime:room1", "phx_join", join)
    )
    // a heartbeat carries no join_ref
    assert.deepStrictEqual(
      decodeFrame(v, '{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"2"}'),
      frame(null, "2", "phoenix", "heartbeat", {})
    )
    assert.deepStrictEqual(encoded(v, frame("1", "1", "realtime:room1", "phx_reply", joined)), {
      topic: "realtime:room1",
      event: "phx_reply",
      payload: joined,
      ref: "1"
    })
    // a push of the server: ref null, and there
    assert.deepStrictEqual(encoded(v, frame("1", null, "realtime:room1", "system", subscribed)), {
      topic: "realtime:room1",
      event: "system",
      payload: subscribed,
      ref: null
    })
    assert.strictEqual(
      encodeFrame(v, frame(null, "2", "phoenix", "phx_reply", ok)),
      '{"topic":"phoenix","event":"phx_reply","payload":{"status":"ok","response":{}},"ref":"2"}'
    )
  })

  it("reads refs as strings and a missing payload as empty", () => {
    assert.deepStrictEqual(decodeFrame("2.0.0", '[3,7,"t","e",null]'), frame("3", "7", "t", "e", {}))
    assert.deepStrictEqual(
      decodeFrame("1.0.0", '{"topic":"t","event":"e","ref":7,"join_ref":null}'),
      frame(null, "7", "t", "e", {})
    )
  })

  it("refuses what is not a frame of its version", () => {
    const refuses = (vsn: Vsn, texts: ReadonlyArray<string>) => {
      for (const text of texts) assert.isNull(decodeFrame(vsn, text), `${vsn}: ${text}`)
    }
    // 2.0.0 reads an array of five whose topic and event are strings
    refuses("2.0.0", [
      "not json",
      '["1","1","realtime:room1","phx_join"]',
      '["1","1","realtime:room1","phx_join",{},"extra"]',
      '["1","1",7,"phx_join",{}]',
      '["1","1","realtime:room1",null,{}]',
      '{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"2"}'
    ])
    // 1.0.0 reads an object whose topic and event are strings
    refuses("1.0.0", [
      '[null,"2","phoenix","heartbeat",{}]',
      "null",
      '"heartbeat"',
      '{"event":"heartbeat","payload":{},"ref":"2"}',
      '{"topic":"phoenix","payload":{},"ref":"2"}',
      "{"
    ])
  })

  it("reads back what it writes: every field with 2.0.0, all but join_ref with 1.0.0", () => {
    fc.assert(
      fc.property(anyFrame, (f) => {
        assert.deepStrictEqual(decodeFrame("2.0.0", encodeFrame("2.0.0", f)), f)
        assert.deepStrictEqual(decodeFrame("1.0.0", encodeFrame("1.0.0", f)), { ...f, joinRef: null })
        // what a 1.0.0 client writes: join_ref included
        const client = { topic: f.topic, event: f.event, payload: f.payload, ref: f.ref, join_ref: f.joinRef }
        assert.deepStrictEqual(decodeFrame("1.0.0", JSON.stringify(client)), f)
      })
    )
  })
})
