import { assert, describe, it } from "@effect/vitest"
import type { PostgresFailure } from "../src/PostgresFailure.ts"
import {
  failureOfCode,
  failureOfMessage,
  isConnectionFailure,
  isTransientFailure,
  postgresErrorFields
} from "../src/PostgresFailure.ts"

const expected: { readonly [code: string]: PostgresFailure } = {
  ECONNREFUSED: "Refused",
  EAI_AGAIN: "UnknownHost",
  ECONNRESET: "SocketLost",
  "57P01": "ServerClosed",
  "08006": "ServerClosed",
  "25P03": "ServerClosed",
  "57P05": "ServerClosed",
  "08P01": "ProtocolViolation",
  "53300": "ConnectionLimit",
  "28P01": "Authentication",
  "42501": "PermissionDenied",
  "3D000": "MissingDatabase",
  "42P01": "MissingTableOrFunction",
  "42703": "MissingColumn",
  "42704": "MissingObject",
  "40P01": "Contention",
  "55006": "ObjectInUse",
  "55000": "ObjectNotInState",
  "23505": "UniqueViolation"
}

const withCode = (code: string, message: string) => Object.assign(new Error(message), { code })

describe("PostgresFailure", () => {
  it.each(Object.entries(expected))("code %s is %s", (code, failure) => {
    assert.strictEqual(failureOfCode(code), failure)
  })

  it("leaves unlisted codes, and names of Object's own properties, unclassified", () => {
    assert.isUndefined(failureOfCode(undefined))
    assert.isUndefined(failureOfCode("57014"))
    assert.isUndefined(failureOfCode("constructor"))
  })

  it("reads a dropped connection or a TLS disagreement from a message without a code", () => {
    assert.strictEqual(failureOfMessage("Connection terminated unexpectedly"), "DroppedConnection")
    assert.strictEqual(
      failureOfMessage("Client has encountered a connection error and is not queryable"),
      "DroppedConnection"
    )
    assert.strictEqual(failureOfMessage("The server does not support SSL connections"), "Tls")
    assert.isUndefined(failureOfMessage("canceling statement due to statement timeout"))
  })

  it("says which failures a retry can help, and which are about the connection", () => {
    assert.isTrue(isTransientFailure("Contention"))
    assert.isFalse(isConnectionFailure("Contention"))
    assert.isTrue(isConnectionFailure("DroppedConnection"))
    assert.isFalse(isTransientFailure("Authentication"))
    assert.isFalse(isTransientFailure(undefined))
  })

  it("reads the fields of anything a driver throws", () => {
    const server = Object.assign(withCode("23505", "duplicate key"), {
      detail: "Key (id)=(1) already exists.",
      table: "t",
      column: ""
    })
    assert.deepStrictEqual(postgresErrorFields(server), {
      code: "23505",
      message: "duplicate key",
      detail: "Key (id)=(1) already exists.",
      hint: undefined,
      table: "t",
      column: undefined
    })
    const aggregate = Object.assign(new Error(""), {
      errors: [withCode("ECONNREFUSED", "connect ECONNREFUSED ::1:5432")]
    })
    assert.strictEqual(postgresErrorFields(aggregate).code, "ECONNREFUSED")
    assert.strictEqual(postgresErrorFields(aggregate).message, "connect ECONNREFUSED ::1:5432")
    assert.strictEqual(postgresErrorFields("boom").message, "boom")
    assert.isUndefined(postgresErrorFields(null).code)
  })
})
