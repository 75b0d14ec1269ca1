/**
 * The preflight against a real server, through `ensureSlot`: every failure has a clear message that names
 * the problem and its fix, a `reason` that says whether retrying helps, and never the password.
 */

import { assert, describe, it } from "@effect/vitest"
import { connectionUrl, injectedServers, PostgresServer } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { ensureSlot } from "../src/Slot.ts"
import {
  connect,
  eventually,
  expectFailure,
  freshSource,
  roleWithoutReplication,
  slotRow,
  startListener,
  withUser
} from "./support/Source.ts"

describe("the preflight", () => {
  it.live("a role without REPLICATION", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const source = yield* freshSource(injectedServers().neon, "nl_role")
        const password = "Pw-not-for-logs-4821"
        const { role, url } = yield* roleWithoutReplication(source, password)
        const error = yield* ensureSlot({ ...source.config, url: Redacted.make(url) }).pipe(Effect.flip)
        expectFailure(
          error,
          "NotReplicationRole",
          [
            new RegExp(`role ${role} lacks the REPLICATION attribute`),
            /Console, CLI or API/,
            /WITH REPLICATION/
          ],
          password
        )
        assert.isFalse(error.retryable)
      })
    )
  )

  it.live("a wrong password", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const source = yield* freshSource(injectedServers().neon, "nl_auth")
        const wrong = "Wrong-pw-93731"
        const error = yield* ensureSlot({
          ...source.config,
          url: Redacted.make(withUser(source.url, "postgres", wrong))
        }).pipe(Effect.flip)
        expectFailure(error, "Authentication", [/password/], wrong)
        assert.isFalse(error.retryable)
      })
    )
  )

  it.live("an unreachable server is retryable", () =>
    Effect.gen(function* () {
      const server = injectedServers().neon
      const url = withUser(`postgres://x@127.0.0.1:1/db`, server.user, "Pw-unreachable-1")
      const error = yield* ensureSlot({
        url: Redacted.make(url),
        tables: [{ schema: "s", name: "t", key: "k" }]
      }).pipe(Effect.flip)
      expectFailure(error, "Unreachable", [/ECONNREFUSED/, /retried/], "Pw-unreachable-1")
      assert.isTrue(error.retryable)
    })
  )

  it.live("a missing table, a missing key column, and a replica identity without the key", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const source = yield* freshSource(injectedServers().neon, "nl_tables", { identity: false })
        const secret = new URL(source.url).password
        const missing = yield* ensureSlot({
          ...source.config,
          tables: [{ schema: "marketing", name: "nope", key: "k" }]
        }).pipe(Effect.flip)
        expectFailure(
          missing,
          "MissingTable",
          [/marketing\.nope does not exist/, /enrich-sync migrate/],
          secret
        )
        const noKey = yield* ensureSlot({
          ...source.config,
          tables: [{ schema: "marketing", name: "company_invalid", key: "barton" }]
        }).pipe(Effect.flip)
        expectFailure(noKey, "MissingTable", [/has no column barton/], secret)
        const identity = yield* ensureSlot(source.config).pipe(Effect.flip)
        expectFailure(
          identity,
          "ReplicaIdentity",
          [
            /replica identity of marketing\.company_invalid does not include its key company_unique_id/,
            /REPLICA IDENTITY USING INDEX "company_invalid_company_unique_id_key"/
          ],
          secret
        )
        assert.isFalse(identity.retryable)
        // Nothing was created by a failed preflight.
        assert.isUndefined(yield* slotRow(source.sql, source.slot))
        // The listener surfaces the same problem as the failure of its stream (it does not retry it).
        const running = yield* startListener(source.config)
        const failure = yield* eventually("the stream to fail", Effect.sync(running.failure))
        assert.strictEqual(failure.reason, "ReplicaIdentity")
        assert.strictEqual((yield* running.listener.status).state, "failed")
        // FULL replica identity also carries the key.
        yield* source.sql.query("ALTER TABLE marketing.company_invalid REPLICA IDENTITY FULL")
        yield* source.sql.query("ALTER TABLE marketing.people_invalid REPLICA IDENTITY FULL")
        assert.isTrue((yield* ensureSlot(source.config)).created)
      })
    )
  )

  it.live(
    "wal_level is not logical (a server of its own)",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const server = yield* PostgresServer.scoped({
            name: "nl-replica",
            flags: ["-c", "wal_level=replica"]
          })
          const sql = yield* connect(connectionUrl(server))
          yield* sql.query("CREATE SCHEMA marketing")
          const error = yield* ensureSlot({
            url: Redacted.make(connectionUrl(server)),
            tables: [{ schema: "marketing", name: "company_invalid", key: "company_unique_id" }]
          }).pipe(Effect.flip)
          expectFailure(
            error,
            "WalLevelNotLogical",
            [
              /wal_level is replica/,
              /Project settings -> Logical Replication/,
              /restarts the project's computes and cannot be undone/
            ],
            server.password
          )
          assert.isFalse(error.retryable)
        })
      ),
    { timeout: 60_000 }
  )
})
