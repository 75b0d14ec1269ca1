import { assert, describe, it } from "@effect/vitest"
import { toDatabaseError } from "../../src/store/DatabaseError.ts"

const pgError = (code: string, message: string) => Object.assign(new Error(message), { code })

describe("database errors", () => {
  it.each([
    [pgError("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:1"), "Unreachable", "NEON_DATABASE_URL"],
    [pgError("ENOTFOUND", "getaddrinfo ENOTFOUND nope.neon.tech"), "Unreachable", "host name"],
    [
      pgError("28P01", 'password authentication failed for user "neondb_owner"'),
      "Authentication",
      "password"
    ],
    [pgError("3D000", 'database "nope" does not exist'), "MissingDatabase", "database name"],
    [
      pgError("42P01", 'relation "marketing.company_invalid" does not exist'),
      "Schema",
      "enrich-sync migrate"
    ],
    [pgError("40001", "could not serialize access"), "Contention", "retried"],
    [pgError("57P01", "terminating connection due to administrator command"), "Unreachable", "retried"],
    [pgError("25P03", "terminating connection due to idle-in-transaction timeout"), "Unreachable", "retried"],
    [new Error("Client has encountered a connection error and is not queryable"), "Unreachable", "retried"],
    [new Error("Connection terminated unexpectedly"), "Unreachable", "retried"],
    [new Error("The server does not support SSL connections"), "Configuration", "sslmode"]
  ])("%s is %s", (error, reason, fix) => {
    const e = toDatabaseError("source", error)
    assert.strictEqual(e.reason, reason)
    assert.include(e.message, fix)
    assert.strictEqual(e.retryable, reason === "Unreachable" || reason === "Contention")
  })

  it("never repeats a password from the driver's message", () => {
    const e = toDatabaseError(
      "workspace",
      new Error("could not connect to postgres://u:fake-pw-22@db.example.invalid/postgres")
    )
    assert.notInclude(e.message, "fake-pw-22")
  })
})
