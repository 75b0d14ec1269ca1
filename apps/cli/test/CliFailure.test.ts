/**
 * A failure of the command: a tagged error of one of four reasons, whose exit code is 2 for a usage error
 * and 1 for the others, whose message is the one line `<problem>; <fix>` it was given (the line printed
 * after `enrich-sync: `), and which fails an effect as itself.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { CliFailure, CliFailureReason } from "../src/CliFailure.ts"

const line = "NEON_DATABASE_URL is not set; set it in the environment or in .env"

describe("CliFailure", () => {
  it("has four reasons; a usage error exits 2, every other failure 1", () => {
    assert.deepStrictEqual(CliFailureReason.literals, ["Configuration", "Input", "Usage", "Output"])
    assert.deepStrictEqual(
      CliFailureReason.literals.map((reason) => [reason, new CliFailure({ reason, message: line }).exitCode]),
      [
        ["Configuration", 1],
        ["Input", 1],
        ["Usage", 2],
        ["Output", 1]
      ]
    )
  })

  it("keeps its one-line message as given, and prints as its tag and message", () => {
    const failure = new CliFailure({ reason: "Configuration", message: line })
    assert.strictEqual(failure.message, line)
    assert.strictEqual(failure._tag, "CliFailure")
    assert.instanceOf(failure, Error)
    assert.strictEqual(String(failure), `CliFailure: ${line}`)
  })

  it("is refused with a reason it does not know", () => {
    assert.throws(() => new CliFailure({ reason: "Database" as CliFailureReason, message: line }))
    assert.isFalse(Schema.is(CliFailureReason)("usage"))
    assert.isTrue(Schema.is(CliFailureReason)("Usage"))
  })

  it("encodes as its tag, reason and message (what --json reports), and decodes back", () => {
    const failure = new CliFailure({
      reason: "Input",
      message: "passed.txt:2 is not a Barton ID; fix the file"
    })
    const encoded = Schema.encodeSync(CliFailure)(failure)
    assert.deepStrictEqual(encoded, {
      _tag: "CliFailure",
      reason: "Input",
      message: "passed.txt:2 is not a Barton ID; fix the file"
    })
    const decoded = Schema.decodeUnknownSync(CliFailure)(encoded)
    assert.instanceOf(decoded, CliFailure)
    assert.strictEqual(decoded.exitCode, 1)
  })

  it.effect("fails an effect as itself, caught by its tag", () =>
    Effect.gen(function* () {
      const failure = new CliFailure({ reason: "Usage", message: "unknown flag --bogus; run --help" })
      const caught = yield* Effect.flip(
        Effect.gen(function* () {
          return yield* failure
        })
      )
      assert.strictEqual(caught, failure)
      const code = yield* Effect.fail(failure).pipe(
        Effect.catchTag("CliFailure", (e) => Effect.succeed(e.exitCode))
      )
      assert.strictEqual(code, 2)
    })
  )
})
