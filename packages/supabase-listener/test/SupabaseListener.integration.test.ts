/**
 * The Supabase listener against the Realtime stand-in (the real realtime-js client over a real WebSocket,
 * fed by logical decoding of a real database): keys of what people changed, the engine's own writes
 * skipped, and a catch-up for every gap Realtime leaves (first subscribe, lost socket, crashed or closed
 * channel, "Subscribed" again, a payload without its key).
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { SupabaseListener, type WorkspaceChanges } from "../src/SupabaseListener.ts"
import { standInFixture } from "./support/StandIn.ts"

const fixture = standInFixture("rt_listener", [
  `CREATE TABLE rows_to_enrich (id bigserial PRIMARY KEY, company_unique_id text UNIQUE NOT NULL,
                        name text, note text, sync_dirty boolean NOT NULL DEFAULT true)`,
  `CREATE PUBLICATION supabase_realtime FOR TABLE rows_to_enrich`
])
const { sql } = fixture

const table = { schema: "public", name: "rows_to_enrich", key: "company_unique_id" }

const listenerLayer = () =>
  SupabaseListener.layer({
    url: fixture.standIn.url,
    apiKey: Redacted.make("stand-in-key"),
    tables: [table],
    dirtyColumn: "sync_dirty",
    reopenAfter: "100 millis"
  })

/** Takes until `done` holds for everything taken so far (10 s at most). */
const takeUntil = (done: (taken: ReadonlyArray<WorkspaceChanges>) => boolean) =>
  Effect.gen(function* () {
    const listener = yield* SupabaseListener
    const taken: Array<WorkspaceChanges> = []
    while (!done(taken)) taken.push(yield* listener.take)
    return taken
  }).pipe(Effect.timeout("10 seconds"))

const keysOf = (taken: ReadonlyArray<WorkspaceChanges>) =>
  taken.flatMap((t) => [...(t.keys.get("public.rows_to_enrich") ?? [])])
const catchUpsOf = (taken: ReadonlyArray<WorkspaceChanges>) => taken.flatMap((t) => t.catchUp)

/** The first take: the catch-up of the first subscribe. */
const subscribed = takeUntil((t) => catchUpsOf(t).length > 0)

/**
 * A test with a listener of its own, begun once the listener has taken the catch-up of its first subscribe
 * (`first`, what that take returned).
 */
const listenerTest = (
  name: string,
  test: (first: ReadonlyArray<WorkspaceChanges>) => Effect.Effect<void, unknown, SupabaseListener>
) => it.live(name, () => Effect.flatMap(subscribed, test).pipe(Effect.provide(listenerLayer())))

describe("the Supabase listener", () => {
  listenerTest(
    "catches up when it first subscribes, then reports people's changes by key, skipping the engine's",
    (first) =>
      Effect.gen(function* () {
        assert.deepStrictEqual(catchUpsOf(first), ["Realtime subscribed"])
        yield* sql(`INSERT INTO rows_to_enrich (company_unique_id, name) VALUES ('k1', 'one'), ('k2', 'two')`)
        yield* sql(`UPDATE rows_to_enrich SET name = 'one, edited' WHERE company_unique_id = 'k1'`)
        // the engine's own write (the trigger leaves sync_dirty false only for it)
        yield* sql(
          `INSERT INTO rows_to_enrich (company_unique_id, name, sync_dirty) VALUES ('k3', 'engine', false)`
        )
        yield* sql(`INSERT INTO rows_to_enrich (company_unique_id, name) VALUES ('k4', 'after')`)
        const taken = yield* takeUntil((t) => keysOf(t).includes("k4"))
        assert.deepStrictEqual([...new Set(keysOf(taken))].sort(), ["k1", "k2", "k4"])
        const status = yield* (yield* SupabaseListener).status
        assert.strictEqual(status.state, "live")
        // the engine's write (k3) was filtered out by the server: it never reached the listener
        assert.strictEqual(status.events, 4)
        assert.strictEqual(status.ownWrites, 0)
      })
  )

  listenerTest("asks for a catch-up after a dropped socket, naming the gap", () =>
    Effect.gen(function* () {
      fixture.standIn.faults.dropConnections()
      const after = yield* takeUntil((t) => catchUpsOf(t).length > 0)
      assert.match(catchUpsOf(after)[0] ?? "", /^Realtime subscribed again after: /)
      yield* sql(`INSERT INTO rows_to_enrich (company_unique_id, name) VALUES ('k5', 'back')`)
      assert.include(keysOf(yield* takeUntil((t) => keysOf(t).includes("k5"))), "k5")
      assert.strictEqual((yield* (yield* SupabaseListener).status).subscribed, 2)
    })
  )

  listenerTest(
    "asks for a catch-up when the server says Subscribed again, or crashes or closes the channel",
    () =>
      Effect.gen(function* () {
        fixture.standIn.faults.resendSubscribed()
        assert.deepStrictEqual(catchUpsOf(yield* takeUntil((t) => catchUpsOf(t).length > 0)), [
          "Realtime subscribed again (Subscribed to PostgreSQL)"
        ])
        fixture.standIn.faults.crashChannels()
        assert.match(catchUpsOf(yield* takeUntil((t) => catchUpsOf(t).length > 0))[0] ?? "", /again after/)
        // a channel the server closed is not rejoined by realtime-js: the listener opens a new one
        fixture.standIn.faults.closeChannels()
        assert.match(
          catchUpsOf(yield* takeUntil((t) => catchUpsOf(t).length > 0))[0] ?? "",
          /closed the channel/
        )
        yield* sql(`INSERT INTO rows_to_enrich (company_unique_id, name) VALUES ('k6', 'on the new channel')`)
        assert.include(keysOf(yield* takeUntil((t) => keysOf(t).includes("k6"))), "k6")
      })
  )

  listenerTest(
    "asks for a catch-up for a payload that lost its key to truncation, and takes the key when it stayed",
    () =>
      Effect.gen(function* () {
        // events carry the key, the mark and the primary key only (`select`), so only a key too long for
        // the limit is truncated away; a long note is not sent at all
        fixture.standIn.faults.setMaxRecordBytes(80)
        const longKey = `k${"7".repeat(80)}`
        yield* sql(`INSERT INTO rows_to_enrich (company_unique_id, note) VALUES ($1, 'short')`, [longKey])
        yield* sql(`INSERT INTO rows_to_enrich (company_unique_id, note) VALUES ('k8', repeat('n', 300))`)
        const taken = yield* takeUntil((t) => keysOf(t).includes("k8") && catchUpsOf(t).length > 0)
        assert.match(
          catchUpsOf(taken)[0] ?? "",
          /INSERT of public\.rows_to_enrich came without its key column company_unique_id \(Error 413: Payload Too Large\)/
        )
        assert.notInclude(keysOf(taken), longKey)
      }).pipe(Effect.ensuring(Effect.sync(() => fixture.standIn.faults.setMaxRecordBytes(1_048_576))))
  )
})
