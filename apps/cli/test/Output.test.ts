/**
 * What a run prints, with stdout and stderr captured: human text on stdout (on stderr once stdout carries
 * data), notes and failure lines on stderr; with `--json`, exactly one JSON object on stdout (the result, or
 * the failure when no result was written) and no human text; every character through the redactor, in every
 * format, a secret inside JSON included (escaped or not, and the JSON still parses); the layer's redactor
 * built from the configured passwords and its logger on stderr; and tables and durations as a summary
 * shows them.
 */
import { assert, describe, it } from "@effect/vitest"
import { makeRedactor } from "@enrich-sync/core"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import { formatSeconds, formatTable, makeOutput, Output } from "../src/Output.ts"

type Written = { readonly stdout: Array<string>; readonly stderr: Array<string> }

/** Runs `effect` with stdout and stderr captured (one entry per write), and returns what was written. */
const capturing = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<Written, E, R> =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const written: Written = { stdout: [], stderr: [] }
      const original = { stdout: process.stdout.write, stderr: process.stderr.write }
      for (const stream of ["stdout", "stderr"] as const) {
        process[stream].write = ((chunk: string | Uint8Array) => {
          written[stream].push(typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk))
          return true
        }) as typeof process.stdout.write
      }
      return { written, original }
    }),
    ({ written }) => Effect.as(effect, written),
    ({ original }) =>
      Effect.sync(() => {
        process.stdout.write = original.stdout
        process.stderr.write = original.stderr
      })
  )

// plainly fake secrets, built at run time: one plain, one that JSON and URLs must escape
const password = ["FAKE", "output", "password", "3"].join("-")
const awkward = ["FAKE", 'q"uo\\te p@ss/&'].join("-")
const neonUrl = `postgresql://neondb_owner:${password}@ep-fake-2.us-east-2.aws.neon.tech/neondb`
const awkwardUrl = `postgresql://postgres:${encodeURIComponent(awkward)}@db.fake.supabase.co:5432/postgres`
const redact = makeRedactor([password, awkward])

/** `text` shows none of the secrets, in any of the forms they travel in. */
const assertNoSecret = (text: string) => {
  for (const secret of [password, awkward]) {
    for (const form of [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)]) {
      assert.notInclude(text, form)
    }
  }
}

describe("human output", () => {
  it.effect("prints summaries on stdout and notes on stderr, one line each ending in one newline", () =>
    Effect.gen(function* () {
      const written = yield* capturing(
        Effect.gen(function* () {
          const output = yield* makeOutput(redact)
          yield* output.begin("backfill", { json: false })
          assert.isFalse(yield* output.isJson)
          yield* output.print("Backfill Neon -> workspace")
          yield* output.print("done\n")
          yield* output.note("enrich-sync: note: nothing to push")
          yield* output.result({ inserted: 3 })
        })
      )
      assert.deepStrictEqual(written, {
        stdout: ["Backfill Neon -> workspace\n", "done\n"],
        stderr: ["enrich-sync: note: nothing to push\n"]
      })
    })
  )

  it.effect("once stdout carries data, human text moves to stderr and data lines go to stdout", () =>
    Effect.gen(function* () {
      const written = yield* capturing(
        Effect.gen(function* () {
          const output = yield* makeOutput(redact)
          yield* output.begin("revalidate", { json: false })
          yield* output.useStdoutForData
          yield* output.data(["04.04.01.01.00101.101", "04.04.01.01.00101.102"])
          yield* output.data([])
          yield* output.print("Revalidate: 2 PASSED")
        })
      )
      assert.deepStrictEqual(written, {
        stdout: ["04.04.01.01.00101.101\n04.04.01.01.00101.102\n"],
        stderr: ["Revalidate: 2 PASSED\n"]
      })
    })
  )

  it.effect("a failure is one `enrich-sync:` line on stderr and nothing on stdout", () =>
    Effect.gen(function* () {
      const written = yield* capturing(
        Effect.gen(function* () {
          const output = yield* makeOutput(redact)
          yield* output.begin("status", { json: false })
          yield* output.failure("NEON_DATABASE_URL is not set; set it", { reason: "Configuration" })
        })
      )
      assert.deepStrictEqual(written, {
        stdout: [],
        stderr: ["enrich-sync: NEON_DATABASE_URL is not set; set it\n"]
      })
    })
  )
})

describe("--json output", () => {
  it.effect(
    "stdout carries exactly one JSON object, the result; human text is dropped, notes stay on stderr",
    () =>
      Effect.gen(function* () {
        const written = yield* capturing(
          Effect.gen(function* () {
            const output = yield* makeOutput(redact)
            yield* output.begin("push", { json: true })
            assert.isTrue(yield* output.isJson)
            yield* output.print("Push workspace -> Neon")
            yield* output.note("progress: 1/2")
            yield* output.result({ dryRun: false, entities: [{ entity: "company", pushed: 2 }] })
            yield* output.result({ again: true })
            yield* output.failure("a later failure; its fix", { reason: "Internal" })
            yield* output.print("after the result")
          })
        )
        assert.strictEqual(written.stdout.length, 1)
        assert.isTrue(written.stdout[0]!.endsWith("}\n"))
        assert.strictEqual(written.stdout[0]!.indexOf("\n"), written.stdout[0]!.length - 1, "one line")
        assert.deepStrictEqual(JSON.parse(written.stdout[0]!), {
          command: "push",
          ok: true,
          dryRun: false,
          entities: [{ entity: "company", pushed: 2 }]
        })
        assert.deepStrictEqual(Object.keys(JSON.parse(written.stdout[0]!)).slice(0, 2), ["command", "ok"])
        assert.deepStrictEqual(written.stderr, ["progress: 1/2\n", "enrich-sync: a later failure; its fix\n"])
      })
  )

  it.effect("a failure before any result is the one JSON object, `ok: false` with its error", () =>
    Effect.gen(function* () {
      const written = yield* capturing(
        Effect.gen(function* () {
          const output = yield* makeOutput(redact)
          yield* output.begin("verify", { json: true })
          yield* output.failure("SUPABASE_DATABASE_URL is not set; set it", {
            reason: "Configuration",
            message: "SUPABASE_DATABASE_URL is not set; set it"
          })
          yield* output.failure("a second failure; fix", { reason: "Internal" })
          yield* output.result({ late: true })
        })
      )
      assert.strictEqual(written.stdout.length, 1)
      assert.deepStrictEqual(JSON.parse(written.stdout[0]!), {
        command: "verify",
        ok: false,
        error: { reason: "Configuration", message: "SUPABASE_DATABASE_URL is not set; set it" }
      })
      assert.deepStrictEqual(written.stderr, [
        "enrich-sync: SUPABASE_DATABASE_URL is not set; set it\n",
        "enrich-sync: a second failure; fix\n"
      ])
    })
  )

  it.effect("the result of a run that was not started names no command", () =>
    Effect.gen(function* () {
      const written = yield* capturing(
        Effect.gen(function* () {
          const output = yield* makeOutput(redact)
          yield* output.result({ n: 1 })
          yield* output.begin("migrate", { json: true })
          yield* output.result({ n: 2 })
        })
      )
      assert.deepStrictEqual(
        written.stdout.map((line) => JSON.parse(line)),
        [{ command: "migrate", ok: true, n: 2 }]
      )
    })
  )
})

describe("redaction", () => {
  it.effect("no secret prints in human text, notes, data lines or failure lines", () =>
    Effect.gen(function* () {
      const written = yield* capturing(
        Effect.gen(function* () {
          const output = yield* makeOutput(redact)
          yield* output.begin("status", { json: false })
          yield* output.print(`Neon: ${neonUrl}`)
          yield* output.note(`the workspace password is ${awkward}`)
          yield* output.failure(`cannot connect to ${awkwardUrl}; check the password ${password}`, {})
          yield* output.useStdoutForData
          yield* output.data([password, `id ${encodeURIComponent(awkward)}`])
        })
      )
      const all = [...written.stdout, ...written.stderr].join("")
      assertNoSecret(all)
      assert.deepStrictEqual(written.stdout, [
        "Neon: postgresql://neondb_owner:***@ep-fake-2.us-east-2.aws.neon.tech/neondb\n",
        "***\nid ***\n"
      ])
      assert.deepStrictEqual(written.stderr, [
        "the workspace password is ***\n",
        "enrich-sync: cannot connect to postgresql://postgres:***@db.fake.supabase.co:5432/postgres; check the password ***\n"
      ])
    })
  )

  it.effect("no secret prints in the JSON object, escaped or not, and the object still parses", () =>
    Effect.gen(function* () {
      for (const outcome of ["result", "failure"] as const) {
        const written = yield* capturing(
          Effect.gen(function* () {
            const output = yield* makeOutput(redact)
            yield* output.begin("manifest", { json: true })
            const fields = {
              url: awkwardUrl,
              note: `tried ${awkward} and ${password}`,
              nested: [{ [password]: neonUrl }]
            }
            if (outcome === "result") yield* output.result(fields)
            else yield* output.failure(`failed with ${awkward}`, fields)
          })
        )
        const all = [...written.stdout, ...written.stderr].join("")
        assertNoSecret(all)
        assert.strictEqual(written.stdout.length, 1)
        const parsed = JSON.parse(written.stdout[0]!) as Record<string, unknown>
        const fields = (outcome === "result" ? parsed : parsed.error) as Record<string, unknown>
        assert.strictEqual(fields.url, "postgresql://postgres:***@db.fake.supabase.co:5432/postgres", outcome)
        assert.strictEqual(fields.note, "tried *** and ***", outcome)
        assert.deepStrictEqual(
          fields.nested,
          [{ "***": "postgresql://neondb_owner:***@ep-fake-2.us-east-2.aws.neon.tech/neondb" }],
          outcome
        )
      }
    })
  )

  it.effect("the JSON object of ordinary values reads back exactly as given (a website, then an email)", () =>
    Effect.gen(function* () {
      const fields = {
        conflict: {
          id: 12,
          column: "website",
          neon: "https://monongaliacounty.com",
          workspace: "https://monongalia.wv.gov",
          enriched_by: "enricher@example.com",
          notes: 'said "hello"\\ there: see https://example.com/about?page=2'
        }
      }
      const written = yield* capturing(
        Effect.gen(function* () {
          const output = yield* makeOutput(redact)
          yield* output.begin("conflicts show", { json: true })
          yield* output.result(fields)
        })
      )
      assert.strictEqual(written.stdout.length, 1)
      assert.deepStrictEqual(JSON.parse(written.stdout[0]!), {
        command: "conflicts show",
        ok: true,
        ...fields
      })
    })
  )
})

describe("Output.layer", () => {
  it.effect("redacts the passwords of the configured URLs, logs on stderr, and reads ENRICH_SYNC_DEBUG", () =>
    Effect.gen(function* () {
      // a password without the shape of one: only the configured secret can catch it
      const plain = ["FAKE", "plain", "word"].join("")
      const env = {
        NEON_DATABASE_URL: `postgresql://neondb_owner:${plain}@ep-fake-3.neon.tech/neondb`,
        SUPABASE_DATABASE_URL: awkwardUrl,
        ENRICH_SYNC_DEBUG: "yes"
      }
      let debug = false
      const written = yield* capturing(
        Effect.gen(function* () {
          const output = yield* Output
          debug = output.debug
          yield* output.begin("status", { json: true })
          yield* output.note(`note ${plain} ${awkward}`)
          yield* Effect.logWarning(`retrying with ${plain}`)
          yield* output.result({ tried: [plain, awkward] })
        }).pipe(
          Effect.provide(Output.layer),
          Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env })))
        )
      )
      assert.isTrue(debug)
      const all = [...written.stdout, ...written.stderr].join("")
      assert.notInclude(all, plain)
      assertNoSecret(all)
      assert.strictEqual(written.stdout.length, 1, "the log wrote to stdout")
      assert.deepStrictEqual(JSON.parse(written.stdout[0]!), {
        command: "status",
        ok: true,
        tried: ["***", "***"]
      })
      assert.strictEqual(written.stderr[0], "note *** ***\n")
      assert.match(written.stderr[1]!, /level=WARN .*message="retrying with \*\*\*"/)
    })
  )
})

describe("formatTable", () => {
  it("right-aligns a column holding any number, with thousands separators, and trims line ends", () => {
    assert.strictEqual(
      formatTable([
        ["stage", "rows", "time"],
        ["backfill", 1_234_567, "12.3s"],
        ["push", "-", "0.1s"],
        ["revalidate", 5]
      ]),
      [
        "  stage            rows  time",
        "  backfill    1,234,567  12.3s",
        "  push                -  0.1s",
        "  revalidate          5"
      ].join("\n")
    )
  })

  it("takes another indent, and lays out one row", () => {
    assert.strictEqual(formatTable([["Neon invalid rows", 4]], ""), "Neon invalid rows  4")
    assert.strictEqual(formatTable([["a", "b"]], "    "), "    a  b")
    assert.strictEqual(formatTable([]), "")
  })
})

describe("formatSeconds", () => {
  it("writes milliseconds as seconds with one decimal", () => {
    assert.deepStrictEqual([0, 40, 1_000, 12_345, 125_000].map(formatSeconds), [
      "0.0s",
      "0.0s",
      "1.0s",
      "12.3s",
      "125.0s"
    ])
  })
})
