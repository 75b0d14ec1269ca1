/**
 * What the listener makes of driver and server errors: the reason (and so whether it is retried) for each
 * kind, a message that names the fix, the pid of a slot's holder, and never the URL's password.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Redacted from "effect/Redacted"
import { toListenerError } from "../../src/internal/ErrorTranslation.ts"
import { NeonListenerError } from "../../src/NeonListenerError.ts"

// a plainly fake password, built at run time
const password = `${"FAKE".repeat(2)}-pw`
const url = Redacted.make(`postgresql://owner:${password}@ep-x-123.neon.tech/neondb`)

const withCode = (code: string, message: string) => Object.assign(new Error(message), { code })

const translate = (error: unknown, phase: "connect" | "stream" = "connect") =>
  toListenerError(error, { doing: "starting replication from slot s", url, phase })

describe("toListenerError", () => {
  it.each([
    ["ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:1", "Unreachable"],
    ["57P01", "terminating connection due to administrator command", "Unreachable"],
    ["08P01", "protocol violation", "Unreachable"],
    ["53300", "too many connections", "Unreachable"],
    ["28P01", "password authentication failed", "Authentication"],
    ["42501", "permission denied for table t", "Authentication"],
    ["42501", "must be superuser or replication role to start walsender", "NotReplicationRole"],
    ["3D000", 'database "nope" does not exist', "Configuration"],
    ["42704", 'replication slot "s" does not exist', "Stream"],
    ["55000", "cannot read from logical replication slot", "Stream"],
    ["42601", "syntax error", "Query"]
  ] as const)("%s (%s) is %s", (code, message, reason) => {
    const error = translate(withCode(code, message))
    assert.strictEqual(error.reason, reason, error.message)
    assert.strictEqual(error.code, code)
    assert.include(error.message, message)
    assert.notInclude(error.message, password)
  })

  it("a slot in use names its holder's pid and is retried", () => {
    const error = translate(withCode("55006", 'replication slot "s" is active for PID 4242'))
    assert.strictEqual(error.reason, "SlotInUse")
    assert.strictEqual(error.pid, 4242)
    assert.isTrue(error.retryable)
    assert.include(error.message, "pg_terminate_backend(4242)")
  })

  it("a pooler's refusal of the replication parameter says to use the direct host", () => {
    const error = translate(new Error("unsupported startup parameter: replication"))
    assert.strictEqual(error.reason, "PoolerUrl")
    assert.include(error.message, "NEON_REPLICATION_URL")
    assert.include(error.message, "ep-x-123.neon.tech")
    assert.notInclude(error.message, password)
  })

  it("reads a dropped connection or a TLS problem from the words of an error without a code", () => {
    const dropped = translate(new Error("Connection terminated unexpectedly"))
    assert.strictEqual(dropped.reason, "Unreachable")
    assert.isTrue(dropped.retryable)
    const tls = translate(new Error("The server does not support SSL connections"))
    assert.strictEqual(tls.reason, "Configuration")
    assert.include(tls.message, "sslmode")
  })

  it("an unknown error is a query error before streaming and a retried stream failure after", () => {
    assert.strictEqual(translate(new Error("something odd")).reason, "Query")
    const streamed = translate(new Error("something odd"), "stream")
    assert.strictEqual(streamed.reason, "Stream")
    assert.isTrue(streamed.retryable)
  })

  it("keeps the driver's error as the cause, redacts passwords it printed, and passes its own errors through", () => {
    const driver = withCode("XX000", `could not connect with postgresql://owner:${password}@host/db`)
    const error = translate(driver)
    assert.strictEqual(error.cause, driver)
    assert.notInclude(error.message, password)
    const own = new NeonListenerError({ reason: "ReplicaIdentity", message: "no key" })
    assert.strictEqual(translate(own), own)
  })
})
