/**
 * The daemon's log: one JSON object per line off a terminal, a readable line on one (ENRICH_SYNC_LOG_FORMAT
 * chooses either way), the least level from ENRICH_SYNC_LOG_LEVEL (info by default, and for a value it does
 * not know), and every line scrubbed by the `Redactor` of the secrets it was told and of credential patterns.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/testing/TestClock"
import { formatLine, logLayer, Redactor } from "../src/Log.ts"

const date = new Date("2025-03-01T12:00:00.000Z")

// plainly fake secrets, built at run time
const apiKey = ["FAKE", "service", "role", "key"].join("-")
const password = ["FAKE", "log", "p@ss"].join("-")
const neonUrl = `postgresql://owner:${encodeURIComponent(password)}@ep-cool-1.us-east-2.aws.neon.tech/neondb`

/**
 * Runs `effect` with the daemon's log installed, as configured by `env`, with stdout a terminal or not, and
 * returns what was written to stdout (the log writes there, and nowhere else).
 */
const written = <A, E>(
  env: Record<string, string>,
  terminal: boolean,
  effect: Effect.Effect<A, E, Redactor>
): Effect.Effect<string, E> =>
  Effect.gen(function* () {
    const chunks: Array<string> = []
    yield* Effect.acquireRelease(
      Effect.sync(() => {
        const write = process.stdout.write
        const isTTY = Object.getOwnPropertyDescriptor(process.stdout, "isTTY")
        process.stdout.write = ((chunk: string | Uint8Array) => {
          chunks.push(String(chunk))
          return true
        }) as typeof process.stdout.write
        Object.defineProperty(process.stdout, "isTTY", {
          value: terminal,
          configurable: true,
          writable: true
        })
        return { write, isTTY }
      }),
      ({ write, isTTY }) =>
        Effect.sync(() => {
          process.stdout.write = write
          if (isTTY === undefined) Reflect.deleteProperty(process.stdout, "isTTY")
          else Object.defineProperty(process.stdout, "isTTY", isTTY)
        })
    )
    yield* effect.pipe(
      Effect.provide(Layer.provideMerge(logLayer, Redactor.layer)),
      Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env })))
    )
    return chunks.join("")
  }).pipe(Effect.scoped)

/** One line at each level. */
const everyLevel = Effect.gen(function* () {
  yield* Effect.logDebug("a debug line")
  yield* Effect.logInfo("an info line")
  yield* Effect.logWarning("a warning line")
  yield* Effect.logError("an error line")
})

/** The levels of the JSON lines written. */
const levelsOf = (output: string) =>
  output
    .trimEnd()
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => (JSON.parse(line) as { level: string }).level)

describe("formatLine", () => {
  it("writes a JSON line: time, level and message first, then the annotations as they are, then the cause", () => {
    const entry = {
      date,
      level: "INFO",
      message: ["applied", 3, { to: "workspace" }],
      annotations: { direction: "neon->workspace", keys: 3, lsn: "0/16B3748" },
      cause: undefined
    }
    assert.strictEqual(
      formatLine("json", entry),
      '{"time":"2025-03-01T12:00:00.000Z","level":"info","msg":"applied 3 {\\"to\\":\\"workspace\\"}","direction":"neon->workspace","keys":3,"lsn":"0/16B3748"}'
    )
    assert.deepStrictEqual(JSON.parse(formatLine("json", { ...entry, cause: "Error: boom\n    at x" })), {
      time: "2025-03-01T12:00:00.000Z",
      level: "info",
      msg: 'applied 3 {"to":"workspace"}',
      direction: "neon->workspace",
      keys: 3,
      lsn: "0/16B3748",
      cause: "Error: boom\n    at x"
    })
    // a line holds no fiber id, no span, only what it was given
    assert.notInclude(formatLine("json", { ...entry, annotations: {} }), "fiber")
  })

  it("writes a readable line: time, padded level, message, annotations after two spaces, the cause below", () => {
    assert.strictEqual(
      formatLine("pretty", {
        date,
        level: "WARN",
        message: "a server's clock is 1.5 s off",
        annotations: { direction: "neon->workspace", keys: 3, note: "two words", eq: "a=b", q: 'say "hi"' },
        cause: undefined
      }),
      `2025-03-01 12:00:00.000 WARN  a server's clock is 1.5 s off  direction=neon->workspace keys=3 note="two words" eq="a=b" q="say \\"hi\\""`
    )
    assert.strictEqual(
      formatLine("pretty", {
        date,
        level: "ERROR",
        message: "syncd stopped",
        annotations: {},
        cause: "Error: boom\n    at x"
      }),
      "2025-03-01 12:00:00.000 ERROR syncd stopped\nError: boom\n    at x"
    )
  })

  it("names Effect's levels as the log's four: trace as debug, warning as warn, fatal as error", () => {
    const levelOf = (level: string) =>
      (
        JSON.parse(formatLine("json", { date, level, message: "m", annotations: {}, cause: undefined })) as {
          level: string
        }
      ).level
    assert.deepStrictEqual(
      ["TRACE", "DEBUG", "INFO", "WARN", "WARNING", "ERROR", "FATAL", "Info"].map(levelOf),
      ["debug", "debug", "info", "warn", "warn", "error", "error", "info"]
    )
  })
})

describe("formatLine with values JSON does not hold", () => {
  it("writes a bigint as its digits, an Error as its name and message, and a cycle as text, in both formats, without throwing", () => {
    const cycle: { self?: unknown } = {}
    cycle.self = cycle
    const entry = {
      date,
      level: "INFO",
      message: ["at", 23_456_789_012n, new Error("boom")],
      annotations: { lsn: 23_456_789_012n, failure: new TypeError("bad"), loop: cycle },
      cause: undefined
    }
    assert.deepStrictEqual(JSON.parse(formatLine("json", entry)), {
      time: "2025-03-01T12:00:00.000Z",
      level: "info",
      msg: "at 23456789012 Error: boom",
      lsn: "23456789012",
      failure: { name: "TypeError", message: "bad" },
      loop: { self: "[Circular]" }
    })
    assert.strictEqual(
      formatLine("pretty", {
        ...entry,
        annotations: { lsn: 23_456_789_012n, failure: new TypeError("bad") }
      }),
      '2025-03-01 12:00:00.000 INFO  at 23456789012 Error: boom  lsn="23456789012" failure={"name":"TypeError","message":"bad"}'
    )
  })
})

describe("Redactor", () => {
  it.effect(
    "scrubs each secret it was told, and a connection URL's password, and keeps the earlier ones",
    () =>
      Effect.gen(function* () {
        const redactor = yield* Redactor
        const text = `key ${apiKey}; password authentication failed (${password}); ${encodeURIComponent(password)}`
        assert.strictEqual(redactor.redact(text), text, "nothing told: no secret known")
        yield* redactor.remember([Redacted.make(apiKey)])
        yield* redactor.remember([Redacted.make(neonUrl)])
        assert.strictEqual(redactor.redact(text), "key ***; password authentication failed (***); ***")
        // the URL itself was told as a secret: a driver's error quoting it shows none of it
        assert.strictEqual(redactor.redact(`connect to ${neonUrl} failed`), "connect to *** failed")
      }).pipe(Effect.provide(Redactor.layer))
  )
})

describe("logLayer", () => {
  it.effect(
    "writes JSON lines off a terminal, readable lines on one, and ENRICH_SYNC_LOG_FORMAT chooses",
    () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(date.getTime())
        const line = Effect.logInfo("applied 3 change(s)").pipe(Effect.annotateLogs({ keys: 3 }))
        const json =
          '{"time":"2025-03-01T12:00:00.000Z","level":"info","msg":"applied 3 change(s)","keys":3}\n'
        const pretty = "2025-03-01 12:00:00.000 INFO  applied 3 change(s)  keys=3\n"
        assert.strictEqual(yield* written({}, false, line), json)
        assert.strictEqual(yield* written({}, true, line), pretty)
        assert.strictEqual(yield* written({ ENRICH_SYNC_LOG_FORMAT: "json" }, true, line), json)
        assert.strictEqual(yield* written({ ENRICH_SYNC_LOG_FORMAT: " Pretty " }, false, line), pretty)
        // a format it does not know: the choice by terminal
        assert.strictEqual(yield* written({ ENRICH_SYNC_LOG_FORMAT: "xml" }, false, line), json)
        assert.strictEqual(yield* written({ ENRICH_SYNC_LOG_FORMAT: "xml" }, true, line), pretty)
      })
  )

  it.effect(
    "writes info and above by default; ENRICH_SYNC_LOG_LEVEL sets the least level, unknown is info",
    () =>
      Effect.gen(function* () {
        const levels = (env: Record<string, string>) =>
          Effect.map(written({ ENRICH_SYNC_LOG_FORMAT: "json", ...env }, false, everyLevel), levelsOf)
        assert.deepStrictEqual(yield* levels({}), ["info", "warn", "error"])
        assert.deepStrictEqual(yield* levels({ ENRICH_SYNC_LOG_LEVEL: "debug" }), [
          "debug",
          "info",
          "warn",
          "error"
        ])
        assert.deepStrictEqual(yield* levels({ ENRICH_SYNC_LOG_LEVEL: " WARN " }), ["warn", "error"])
        assert.deepStrictEqual(yield* levels({ ENRICH_SYNC_LOG_LEVEL: "error" }), ["error"])
        assert.deepStrictEqual(yield* levels({ ENRICH_SYNC_LOG_LEVEL: "loud" }), ["info", "warn", "error"])
        // names every object inherits are not levels either: info, not a log that writes nothing
        for (const inherited of ["constructor", "__proto__", "toString"])
          assert.deepStrictEqual(yield* levels({ ENRICH_SYNC_LOG_LEVEL: inherited }), [
            "info",
            "warn",
            "error"
          ])
      })
  )

  it.effect(
    "scrubs every line: no secret told, nor a URL's password, in a message, an annotation or a cause",
    () =>
      Effect.gen(function* () {
        // a connection string the daemon was never told about: the URL pattern still catches its password
        const other = ["FAKE", "other", "pw"].join("-")
        const lines = Effect.gen(function* () {
          yield* (yield* Redactor).remember([Redacted.make(apiKey), Redacted.make(neonUrl)])
          yield* Effect.logInfo(`subscribing with ${apiKey}`).pipe(Effect.annotateLogs({ url: neonUrl }))
          yield* Effect.logWarning(`auth failed for ${password}`, `postgresql://u:${other}@h/db`)
          yield* Effect.logError("merge failed", Cause.fail(new Error(`could not connect to ${neonUrl}`)))
        })
        for (const format of ["json", "pretty"]) {
          const output = yield* written({ ENRICH_SYNC_LOG_FORMAT: format }, false, lines)
          for (const secret of [apiKey, password, encodeURIComponent(password), other])
            assert.notInclude(output, secret, format)
          // the lines are still written, with the secrets' places marked
          assert.include(output, "subscribing with ***", format)
          assert.include(output, "auth failed for ***", format)
          assert.include(output, "could not connect to ***", format)
          assert.include(output, "postgresql://u:***@h/db", format)
        }
      })
  )
})
