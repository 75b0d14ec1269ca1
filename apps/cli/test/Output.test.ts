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
import { type CapturedOutput, capturingOutput } from "@enrich-sync/testing"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import { formatSeconds, formatTable, makeOutput, Output, type OutputShape } from "../src/Output.ts"

// plainly fake secrets, built at run time: one plain, one that JSON and URLs must escape
const password = ["FAKE", "output", "password", "3"].join("-")
const awkward = ["FAKE", 'q"uo\\te p@ss/&'].join("-")
const neonUrl = `postgresql://neondb_owner:${password}@ep-fake-2.us-east-2.aws.neon.tech/neondb`
const awkwardUrl = `postgresql://postgres:${encodeURIComponent(awkward)}@db.fake.supabase.co:5432/postgres`
const redact = makeRedactor([password, awkward])

/**
 * What a run of `command` printed: the run begins (its output built on `redact`, JSON or not as `options`
 * say, which `isJson` then reports), and makes the `calls` on its output, in order.
 */
const printed = (
  command: string,
  options: { readonly json: boolean },
  calls: (output: OutputShape) => ReadonlyArray<Effect.Effect<void>>
) =>
  capturingOutput(
    Effect.gen(function* () {
      const output = yield* makeOutput(redact)
      yield* output.begin(command, options)
      assert.strictEqual(yield* output.isJson, options.json)
      for (const call of calls(output)) yield* call
    })
  )

/** Nothing written shows any of the secrets, in any of the forms they travel in. */
const assertNoSecret = (written: CapturedOutput) => {
  const all = [...written.stdout, ...written.stderr].join("")
  for (const secret of [password, awkward]) {
    for (const form of [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)]) {
      assert.notInclude(all, form)
    }
  }
}

/** The one JSON object of a run: stdout was written once, with it. */
const jsonObject = (written: CapturedOutput, message?: string) => {
  assert.strictEqual(written.stdout.length, 1, message)
  return JSON.parse(written.stdout[0]!) as Record<string, unknown>
}

describe("human output", () => {
  it.effect("prints summaries on stdout and notes on stderr, one line each ending in one newline", () =>
    Effect.gen(function* () {
      const written = yield* printed("backfill", { json: false }, (output) => [
        output.print("Backfill Neon -> workspace"),
        output.print("done\n"),
        output.note("enrich-sync: note: nothing to push"),
        output.result({ inserted: 3 })
      ])
      assert.deepStrictEqual(written, {
        stdout: ["Backfill Neon -> workspace\n", "done\n"],
        stderr: ["enrich-sync: note: nothing to push\n"]
      })
    })
  )

  it.effect("once stdout carries data, human text moves to stderr and data lines go to stdout", () =>
    Effect.gen(function* () {
      const written = yield* printed("revalidate", { json: false }, (output) => [
        output.useStdoutForData,
        output.data(["04.04.01.01.00101.101", "04.04.01.01.00101.102"]),
        output.data([]),
        output.print("Revalidate: 2 PASSED")
      ])
      assert.deepStrictEqual(written, {
        stdout: ["04.04.01.01.00101.101\n04.04.01.01.00101.102\n"],
        stderr: ["Revalidate: 2 PASSED\n"]
      })
    })
  )

  it.effect("a failure is one `enrich-sync:` line on stderr and nothing on stdout", () =>
    Effect.gen(function* () {
      const written = yield* printed("status", { json: false }, (output) => [
        output.failure("NEON_DATABASE_URL is not set; set it", { reason: "Configuration" })
      ])
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
        const written = yield* printed("push", { json: true }, (output) => [
          output.print("Push workspace -> Neon"),
          output.note("progress: 1/2"),
          output.result({ dryRun: false, entities: [{ entity: "company", pushed: 2 }] }),
          output.result({ again: true }),
          output.failure("a later failure; its fix", { reason: "Internal" }),
          output.print("after the result")
        ])
        const object = jsonObject(written)
        assert.isTrue(written.stdout[0]!.endsWith("}\n"))
        assert.strictEqual(written.stdout[0]!.indexOf("\n"), written.stdout[0]!.length - 1, "one line")
        assert.deepStrictEqual(object, {
          command: "push",
          ok: true,
          dryRun: false,
          entities: [{ entity: "company", pushed: 2 }]
        })
        assert.deepStrictEqual(Object.keys(object).slice(0, 2), ["command", "ok"])
        assert.deepStrictEqual(written.stderr, ["progress: 1/2\n", "enrich-sync: a later failure; its fix\n"])
      })
  )

  it.effect("a failure before any result is the one JSON object, `ok: false` with its error", () =>
    Effect.gen(function* () {
      const written = yield* printed("verify", { json: true }, (output) => [
        output.failure("SUPABASE_DATABASE_URL is not set; set it", {
          reason: "Configuration",
          message: "SUPABASE_DATABASE_URL is not set; set it"
        }),
        output.failure("a second failure; fix", { reason: "Internal" }),
        output.result({ late: true })
      ])
      assert.deepStrictEqual(jsonObject(written), {
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
      const written = yield* capturingOutput(
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
      const written = yield* printed("status", { json: false }, (output) => [
        output.print(`Neon: ${neonUrl}`),
        output.note(`the workspace password is ${awkward}`),
        output.failure(`cannot connect to ${awkwardUrl}; check the password ${password}`, {}),
        output.useStdoutForData,
        output.data([password, `id ${encodeURIComponent(awkward)}`])
      ])
      assertNoSecret(written)
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
      const fields = {
        url: awkwardUrl,
        note: `tried ${awkward} and ${password}`,
        nested: [{ [password]: neonUrl }]
      }
      for (const outcome of ["result", "failure"] as const) {
        const written = yield* printed("manifest", { json: true }, (output) => [
          outcome === "result" ? output.result(fields) : output.failure(`failed with ${awkward}`, fields)
        ])
        assertNoSecret(written)
        const object = jsonObject(written)
        const redacted = (outcome === "result" ? object : object.error) as Record<string, unknown>
        assert.strictEqual(
          redacted.url,
          "postgresql://postgres:***@db.fake.supabase.co:5432/postgres",
          outcome
        )
        assert.strictEqual(redacted.note, "tried *** and ***", outcome)
        assert.deepStrictEqual(
          redacted.nested,
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
      const written = yield* printed("conflicts show", { json: true }, (output) => [output.result(fields)])
      assert.deepStrictEqual(jsonObject(written), {
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
      const written = yield* capturingOutput(
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
      assert.notInclude([...written.stdout, ...written.stderr].join(""), plain)
      assertNoSecret(written)
      assert.deepStrictEqual(jsonObject(written, "the log wrote to stdout"), {
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
  const cases: ReadonlyArray<{
    readonly title: string
    readonly rows: ReadonlyArray<ReadonlyArray<string | number>>
    readonly indent?: string
    readonly lines: ReadonlyArray<string>
  }> = [
    {
      title: "right-aligns a column holding any number, with thousands separators, and trims line ends",
      rows: [
        ["stage", "rows", "time"],
        ["backfill", 1_234_567, "12.3s"],
        ["push", "-", "0.1s"],
        ["revalidate", 5]
      ],
      lines: [
        "  stage            rows  time",
        "  backfill    1,234,567  12.3s",
        "  push                -  0.1s",
        "  revalidate          5"
      ]
    },
    {
      title: "lays out one row, without an indent",
      rows: [["Neon invalid rows", 4]],
      indent: "",
      lines: ["Neon invalid rows  4"]
    },
    { title: "takes another indent", rows: [["a", "b"]], indent: "    ", lines: ["    a  b"] },
    { title: "no rows: no text", rows: [], lines: [""] }
  ]

  it.each(cases)("$title", ({ rows, indent, lines }) => {
    assert.strictEqual(formatTable(rows, indent), lines.join("\n"))
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
