/**
 * The redacting logger writes every log line, whole, through the redactor and nothing else: one logfmt line
 * per log call, on the stream it was given, in place of Effect's default logger. With the CLI's redactor
 * (`makeRedactor` of the configured passwords), a secret never prints wherever the line carries it:
 * message, several messages, an object, an annotation, a span, a failure's cause, a URL (as written or
 * percent-encoded); and ordinary text prints exactly as logfmt writes it.
 */
import { assert, describe, it } from "@effect/vitest"
import { makeRedactor } from "@enrich-sync/core"
import { capturingOutput, type OutputStream } from "@enrich-sync/testing"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/testing/TestClock"
import * as TestConsole from "effect/testing/TestConsole"
import * as fc from "fast-check"
import { redactingLogger } from "../src/RedactingLogger.ts"

/** What `effect` logs through the redacting logger on `stream`. */
const logged = <A, E>(
  effect: Effect.Effect<A, E>,
  redact: (text: string) => string,
  stream: OutputStream = "stderr"
) => capturingOutput(effect.pipe(Effect.provide(redactingLogger(redact, stream))))

/** Fiber ids depend on what ran before: lines are compared without them. */
const withoutFiber = (line: string) => line.replace(/ fiber=#\d+ /, " fiber=#_ ")

/** A line without its fiber id and time (outside a test clock, time moves between two runs). */
const comparable = (line: string) => withoutFiber(line).replace(/^timestamp=\S+ /, "timestamp=_ ")

/** A password as the CLI registers it: the decoded password of NEON_DATABASE_URL (plainly fake, built here). */
const password = ["FAKE", "test", "password", "9"].join("-")
const neonUrl = `postgresql://neondb_owner:${password}@ep-cool-darkness-123456.us-east-2.aws.neon.tech/neondb`
/** A password a URL can only carry percent-encoded. */
const awkward = "p@ss w0rd/+&"
const awkwardUrl = `postgresql://postgres:${encodeURIComponent(awkward)}@db.example.supabase.co:5432/postgres`
const redact = makeRedactor([password, awkward])

const at = Date.parse("2025-11-07T16:32:09.000Z")

describe("redactingLogger", () => {
  it.effect("writes one logfmt line per log call, ending in a newline, on the stream it is given only", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(at)
      for (const stream of ["stdout", "stderr"] as const) {
        const other = stream === "stdout" ? "stderr" : "stdout"
        const written = yield* logged(
          Effect.log("synced 3 companies").pipe(
            Effect.andThen(Effect.logWarning("slot lag", 42)),
            Effect.annotateLogs("entity", "company")
          ),
          (line) => line,
          stream
        )
        assert.deepStrictEqual(written[other], [], `nothing on ${other}`)
        assert.deepStrictEqual(written[stream].map(withoutFiber), [
          'timestamp=2025-11-07T16:32:09.000Z level=INFO fiber=#_ message="synced 3 companies" entity=company\n',
          'timestamp=2025-11-07T16:32:09.000Z level=WARN fiber=#_ message="slot lag" message=42 entity=company\n'
        ])
      }
    })
  )

  it.effect("prints what the redactor makes of the whole line, and nothing of the line itself", () =>
    Effect.gen(function* () {
      const seen: Array<string> = []
      const written = yield* logged(
        Effect.log("pushed", { keys: 2 }).pipe(Effect.annotateLogs("direction", "push")),
        (line) => {
          seen.push(line)
          return "[a redacted line]"
        }
      )
      assert.deepStrictEqual(written.stderr, ["[a redacted line]\n"])
      assert.strictEqual(seen.length, 1)
      assert.match(
        seen[0]!,
        /^timestamp=\S+ level=INFO fiber=#\d+ message=pushed message="\{.*\}" direction=push$/
      )
    })
  )

  it.effect("replaces Effect's default logger: nothing else logs the line", () =>
    Effect.gen(function* () {
      // without it, the default logger writes to the console (which the test environment captures)
      yield* Effect.log("before")
      const before = yield* TestConsole.logLines
      assert.include(before.join(" "), "before")
      const written = yield* logged(Effect.logError(`lost ${neonUrl}`), redact)
      assert.strictEqual(written.stderr.length, 1)
      assert.deepStrictEqual(yield* TestConsole.logLines, before, "the default logger printed the line too")
      assert.deepStrictEqual(yield* TestConsole.errorLines, [])
    })
  )

  it.effect("a configured password never prints, wherever the line carries it", () =>
    Effect.gen(function* () {
      const written = yield* logged(
        Effect.all([
          Effect.log(password),
          Effect.log(`password authentication failed, tried ${password}`),
          Effect.log("connecting", neonUrl, "as neondb_owner"),
          Effect.log({ url: neonUrl, attempt: 2 }),
          Effect.log("started").pipe(Effect.annotateLogs({ url: neonUrl, secret: password })),
          Effect.log("spanned").pipe(Effect.withLogSpan(`connect-${password}`)),
          Effect.logError("lost the connection", Cause.fail(new Error(`could not connect to ${neonUrl}`))),
          Effect.logError("died", Cause.die(new Error(`bad password ${password}\nwhile connecting`))),
          Effect.logWarning(`reconnecting to ${awkwardUrl}`),
          Effect.logWarning(`the workspace password is ${awkward}`)
        ]),
        redact
      )
      assert.strictEqual(written.stderr.length, 10)
      for (const line of written.stderr) {
        assert.notInclude(line, password)
        assert.notInclude(line, awkward)
        assert.notInclude(line, encodeURIComponent(awkward))
        assert.include(line, "***")
        assert.match(
          line,
          /^timestamp=\S+ level=(INFO|WARN|ERROR) fiber=#\d+ [^\n]*\n$/,
          "one line per log call"
        )
      }
      assert.include(written.stderr[2], "postgresql://neondb_owner:***@ep-cool-darkness-123456")
      assert.include(written.stderr[6], "could not connect to postgresql://neondb_owner:***@ep-cool-darkness")
    })
  )

  it.effect("redacts credentials it was not told about, by their form", () =>
    Effect.gen(function* () {
      // plainly fake credentials of the real shapes, built at run time
      const base64url = (text: string) => Buffer.from(text).toString("base64url")
      const jwt = [
        base64url('{"alg":"none"}'),
        base64url('{"role":"fake"}'),
        base64url("FAKE-signature")
      ].join(".")
      const neonPassword = `npg_${"FAKE".repeat(3)}`
      const supabaseKey = `sb_secret_${"FAKE".repeat(3)}`
      const tokenValue = "FAKEtoken"
      const unknownUrl = `postgres://app:${neonPassword}@ep-other-7.neon.tech/app?sslmode=require`
      const written = yield* logged(
        Effect.log(`realtime ${jwt}`).pipe(
          Effect.annotateLogs({
            url: unknownUrl,
            supabaseKey,
            query: `token=${tokenValue}`
          })
        ),
        redact
      )
      const [line] = written.stderr
      for (const secret of [jwt, neonPassword, supabaseKey, tokenValue]) {
        assert.notInclude(line, secret)
      }
      assert.include(line, "postgres://app:***@ep-other-7.neon.tech/app?sslmode=require")
      assert.include(line, "supabaseKey=sb_secret_***")
      assert.include(line, 'query="token=***"')
    })
  )

  it.effect("ordinary text prints exactly as logfmt writes it", () =>
    Effect.gen(function* () {
      const ordinary = [
        'password authentication failed for user "neondb_owner"',
        "pushed 12 companies to Neon (slot enrich_sync at 16/B374D848)",
        "https://monongaliacounty.com/about?page=2",
        "keys: 04.04.01.01.00101.101, 04.04.02.04.20000.001",
        "C:\\exports\\companies.csv",
        "line one\nline two\ttabbed"
      ]
      const program = Effect.forEach(ordinary, (text) =>
        Effect.log(text).pipe(Effect.annotateLogs("entity", "people"))
      )
      const plain = yield* logged(program, (line) => line)
      const redacted = yield* logged(program, redact)
      assert.deepStrictEqual(redacted.stderr.map(withoutFiber), plain.stderr.map(withoutFiber))
      // and the message reads back as it was logged
      const messages = redacted.stderr.map((line) => {
        const value = /message=("(?:[^"\\]|\\.)*"|\S*)/.exec(line)![1]!
        return value.startsWith('"') ? JSON.parse(value) : value
      })
      assert.deepStrictEqual(messages, ordinary)
    })
  )

  it("property: ordinary text passes through, and a password inside any text never prints", () => {
    // text without the shapes of credentials (no `=`, `:`, `@` or `_`), with quotes, escapes and newlines
    const ordinary = fc.string({
      unit: fc.constantFrom("a", "Z", "0", " ", ".", ",", "-", "/", "'", '"', "\\", "\n", "é", "🚀"),
      maxLength: 40
    })
    const run = (effect: Effect.Effect<void>, redactor: (text: string) => string) =>
      Effect.runSync(logged(effect, redactor)).stderr.map(comparable).join("")
    fc.assert(
      fc.property(ordinary, fc.string({ unit: "grapheme", maxLength: 20 }), (text, around) => {
        assert.strictEqual(
          run(Effect.log(text), redact),
          run(Effect.log(text), (line) => line)
        )
        const leaked = run(
          Effect.log(`${around}${password}${text}`).pipe(Effect.annotateLogs("tried", `${text}${password}`)),
          redact
        )
        assert.notInclude(leaked, password)
      }),
      { numRuns: 300 }
    )
  })
})
