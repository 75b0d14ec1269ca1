/**
 * The replication connection against a real server: messages converted and in stream order, a status
 * update confirming exactly the position given (R1), a restart from a position that skips what came
 * before it, backpressure that stops the messages until resumed, a missing slot as a retried stream
 * failure, `abort` ending the connection with its error, and the walsender gone when the scope closes.
 */
import { assert, describe, it } from "@effect/vitest"
import { formatLsn, type Lsn } from "@enrich-sync/core"
import { injectedServers } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { openReplication } from "../../src/internal/ReplicationConnection.ts"
import type { ReplicationMessage } from "../../src/internal/ReplicationMessage.ts"
import { NeonListenerError } from "../../src/NeonListenerError.ts"
import { bartonId, eventually, freshSource, type Source, slotRow } from "../support/Source.ts"

/** A fresh source with a publication of the company table and a slot, both made in SQL. */
const prepared = (prefix: string) =>
  Effect.gen(function* () {
    const source = yield* freshSource(injectedServers().neon, prefix)
    yield* source.sql.query(`CREATE PUBLICATION ${source.publication} FOR TABLE marketing.company_invalid`)
    const [slot] = yield* source.sql.query<{ lsn: string }>(
      "SELECT lsn::text AS lsn FROM pg_create_logical_replication_slot($1, 'pgoutput')",
      [source.slot]
    )
    return { source, start: slot!.lsn }
  })

/** Opens a connection from `startAt` that records every message but keepalives. */
const open = (source: Source, startAt: Lsn, slot = source.slot) =>
  Effect.gen(function* () {
    const messages: Array<ReplicationMessage> = []
    const connection = yield* openReplication({
      url: Redacted.make(source.url),
      slot,
      publication: source.publication,
      startAt,
      onMessage: (message) => {
        if (message._tag !== "Keepalive") messages.push(message)
      }
    })
    return { connection, messages }
  })

const insert = (source: Source, n: number) =>
  source.sql.query("INSERT INTO marketing.company_invalid (company_unique_id) VALUES ($1)", [bartonId(n)])

const commits = (messages: ReadonlyArray<ReplicationMessage>) =>
  messages.flatMap((m) => (m._tag === "Commit" ? [m] : []))

describe("ReplicationConnection", () => {
  it.live("streams converted messages in order, and a status confirms exactly the position given", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { source } = yield* prepared("nl_conn")
        const { connection, messages } = yield* open(source, 0n)
        yield* insert(source, 1)
        const [commit] = yield* eventually(
          "the commit",
          Effect.sync(() => (commits(messages).length > 0 ? commits(messages) : undefined))
        )
        assert.deepStrictEqual(
          messages.map((m) => m._tag),
          ["Begin", "Insert", "Commit"]
        )
        const [begin, change] = messages
        assert.strictEqual(begin?._tag === "Begin" && begin.finalLsn, commit!.commitLsn)
        assert.deepInclude(change, {
          _tag: "Insert",
          relation: { schema: "marketing", name: "company_invalid" }
        })
        assert.strictEqual(change?._tag === "Insert" && change.row.company_unique_id, bartonId(1))
        connection.sendStatus(commit!.endLsn)
        yield* eventually(
          "the slot at the commit's end",
          slotRow(source.sql, source.slot).pipe(
            Effect.map((row) => (row?.confirmed === formatLsn(commit!.endLsn) ? true : undefined))
          )
        )
      })
    )
  )

  it.live("a connection from a position skips the transactions before it", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { source } = yield* prepared("nl_conn_resume")
        yield* insert(source, 1)
        yield* insert(source, 2)
        const first = yield* Effect.scoped(
          Effect.gen(function* () {
            const { messages } = yield* open(source, 0n)
            return yield* eventually(
              "two commits",
              Effect.sync(() => (commits(messages).length >= 2 ? commits(messages) : undefined))
            )
          })
        )
        yield* eventually(
          "the walsender gone",
          slotRow(source.sql, source.slot).pipe(
            Effect.map((row) => (row?.active_pid === null ? true : undefined))
          )
        )
        const { messages } = yield* open(source, first[0]!.endLsn)
        const again = yield* eventually(
          "the second commit again",
          Effect.sync(() => (commits(messages).length > 0 ? commits(messages) : undefined))
        )
        assert.strictEqual(again[0]!.endLsn, first[1]!.endLsn)
        const inserted = messages.flatMap((m) => (m._tag === "Insert" ? [m.row.company_unique_id] : []))
        assert.deepStrictEqual(inserted, [bartonId(2)])
      })
    )
  )

  it.live("pause stops the messages until resume", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { source } = yield* prepared("nl_conn_pause")
        const { connection, messages } = yield* open(source, 0n)
        connection.pause()
        yield* insert(source, 1)
        yield* Effect.sleep("500 millis")
        assert.deepStrictEqual(messages, [], "nothing is read while paused")
        connection.resume()
        yield* eventually(
          "the commit after resume",
          Effect.sync(() => (commits(messages).length > 0 ? true : undefined))
        )
      })
    )
  )

  it.live("a missing slot fails the start as a retried stream failure", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { source } = yield* prepared("nl_conn_noslot")
        const error = yield* open(source, 0n, "no_such_slot").pipe(Effect.flip)
        assert.strictEqual(error.reason, "Stream", error.message)
        assert.strictEqual(error.code, "42704")
        assert.isTrue(error.retryable)
        assert.notInclude(error.message, new URL(source.url).password)
      })
    )
  )

  it.live("abort ends the connection with its error, and closing the scope ends the walsender", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { source } = yield* prepared("nl_conn_abort")
        yield* Effect.scoped(
          Effect.gen(function* () {
            const { connection } = yield* open(source, 0n)
            const active = yield* slotRow(source.sql, source.slot)
            assert.isNotNull(active?.active_pid)
            const problem = new NeonListenerError({
              reason: "ReplicaIdentity",
              message: "a change without its key"
            })
            connection.abort(problem)
            assert.strictEqual(yield* Effect.flip(connection.ended), problem)
          })
        )
        yield* eventually(
          "the walsender gone",
          slotRow(source.sql, source.slot).pipe(
            Effect.map((row) => (row?.active_pid === null ? true : undefined))
          )
        )
      })
    )
  )
})
