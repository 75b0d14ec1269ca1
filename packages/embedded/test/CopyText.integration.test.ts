/**
 * The COPY text format against what a real PostgreSQL reads back: random rows written with `copyTextLine`
 * through `COPY ... FROM STDIN` come back as the values written, strings byte for byte (every character
 * PostgreSQL text can hold, the format's own escapes and markers among them), NULL apart from the text
 * `\N` and from the empty string, objects and arrays as their JSON text, booleans, numbers, big integers
 * and dates as themselves.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as fc from "fast-check"
import pg from "pg"
import { from as copyFrom } from "pg-copy-streams"
import { copyTextLine, copyTextValue } from "../src/CopyText.ts"
import { scopedDatabase } from "../src/Databases.ts"
import { injectedServers } from "./support/Servers.ts"

/** A client on `url` that returns every column as the text PostgreSQL prints (nothing parsed). */
const connect = (url: string) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const client = new pg.Client({
        connectionString: url,
        types: { getTypeParser: (() => (text: string) => text) as unknown as typeof pg.types.getTypeParser }
      })
      client.on("error", () => undefined)
      await client.connect()
      return client
    }),
    (client) => Effect.promise(() => client.end()).pipe(Effect.timeout("5 seconds"), Effect.ignore)
  )

/** Runs `test` with a client (`connect`) on a fresh database named after `prefix`, dropped with the scope. */
const onFreshDatabase = (prefix: string, test: (client: pg.Client) => Promise<void>) =>
  Effect.gen(function* () {
    const db = yield* scopedDatabase(injectedServers().neon, prefix)
    const client = yield* connect(db.url)
    yield* Effect.promise(() => test(client))
  })

/** Replaces the rows of `table` with `rows`, written with one `COPY ... FROM STDIN` of `copyTextLine` lines. */
const copyIn = async (client: pg.Client, table: string, rows: ReadonlyArray<ReadonlyArray<unknown>>) => {
  await client.query(`TRUNCATE ${table}`)
  await new Promise<void>((resolve, reject) => {
    const sink = client.query(copyFrom(`COPY ${table} FROM STDIN`))
    sink.on("finish", resolve).on("error", reject)
    sink.end(rows.map(copyTextLine).join(""))
  })
}

/** The characters the format treats specially, and their neighbours, often; any other character too. */
const specials = ["\\", "\t", "\n", "\r", "N", ".", "t", "r", "n", "\\N", "\\.", "\b", "\f", "\v", "\u007f"]
const unit = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...specials) },
  { weight: 1, arbitrary: fc.constantFrom("é", "😀", "👩‍💻", "\u2028", "\ufeff", "\u0001", " ", "x") },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }) }
)
/** Text PostgreSQL can hold: anything but NUL (the module leaves that to its caller). */
const text = fc.string({ unit, maxLength: 24 }).filter((s) => !s.includes("\u0000"))

describe("CopyText", () => {
  it.effect("every text comes back byte for byte; NULL stays NULL, apart from '\\N' and ''", () =>
    onFreshDatabase("copy_text", async (client) => {
      const [{ encoding }] = (await client.query("SHOW server_encoding")).rows as [{ encoding?: string }]
      assert.strictEqual(encoding ?? "UTF8", "UTF8")
      await client.query("CREATE TABLE texts (i int PRIMARY KEY, a text, b text)")
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.tuple(
              fc.oneof(text, fc.constantFrom(null, undefined, "", "\\N", "\\.", "\\\\N")),
              fc.oneof(text, fc.constant(null))
            ),
            { minLength: 1, maxLength: 12 }
          ),
          async (rows) => {
            await copyIn(
              client,
              "texts",
              rows.map(([a, b], i) => [i, a, b])
            )
            const back = await client.query(
              "SELECT a, b, octet_length(a) AS an, octet_length(b) AS bn FROM texts ORDER BY i"
            )
            const bytes = (s: string | null | undefined) =>
              s === null || s === undefined ? null : String(Buffer.byteLength(s, "utf8"))
            assert.deepStrictEqual(
              back.rows,
              rows.map(([a, b]) => ({ a: a ?? null, b, an: bytes(a), bn: bytes(b) }))
            )
          }
        ),
        { numRuns: 150 }
      )
    })
  )

  it.effect("objects and arrays come back as their JSON text (json) and value (jsonb)", () => {
    // jsonb refuses NUL and lone surrogates (`\u0000`, `\ud800`): JSON strings of text it can hold
    const json = fc.jsonValue({ stringUnit: unit, maxDepth: 3 })
    const document = fc.oneof(
      fc.array(json, { maxLength: 4 }),
      fc.dictionary(fc.string({ unit, maxLength: 6 }), json, { maxKeys: 4 })
    )
    return onFreshDatabase("copy_json", async (client) => {
      await client.query("CREATE TABLE docs (i int PRIMARY KEY, j json, jb jsonb)")
      await fc.assert(
        fc.asyncProperty(
          fc
            .array(document, { minLength: 1, maxLength: 6 })
            .filter((docs) => !docs.some((d) => JSON.stringify(d).includes("\\u0000"))),
          async (docs) => {
            await copyIn(
              client,
              "docs",
              docs.map((d, i) => [i, d, d])
            )
            const back = await client.query(
              "SELECT j::text AS j, jb = $1::jsonb -> i AS same FROM docs ORDER BY i",
              [JSON.stringify(docs)]
            )
            assert.deepStrictEqual(
              back.rows,
              docs.map((d) => ({ j: JSON.stringify(d), same: "t" }))
            )
          }
        ),
        { numRuns: 100 }
      )
    })
  })

  it.effect("booleans, numbers, big integers and dates come back as themselves", () => {
    const row = fc.record({
      b: fc.option(fc.boolean(), { nil: null }),
      // -0 is left out: `String(-0)` is "0" (see the report)
      f: fc.double().filter((d) => !Object.is(d, -0)),
      i: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      n: fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }),
      // the years a timestamptz reads in ISO form without a sign (toISOString writes ±YYYYYY beyond)
      d: fc.date({ min: new Date("0001-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59.999Z") })
    })
    return onFreshDatabase("copy_scalars", async (client) => {
      await client.query(
        "CREATE TABLE scalars (k int PRIMARY KEY, b bool, f float8, i int8, n numeric, d timestamptz)"
      )
      await fc.assert(
        fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 8 }), async (rows) => {
          await copyIn(
            client,
            "scalars",
            rows.map((r, k) => [k, r.b, r.f, r.i, r.n, r.d])
          )
          // float8 prints the shortest text that reads back as the same double (PostgreSQL 12 on)
          const back = await client.query(
            "SELECT b, f, i, n, extract(epoch FROM d) * 1000 AS d FROM scalars ORDER BY k"
          )
          assert.deepStrictEqual(
            back.rows.map((r) => ({ ...r, f: Number(r.f), d: Number(r.d) })),
            rows.map((r) => ({
              b: r.b === null ? null : r.b ? "t" : "f",
              f: r.f,
              i: String(r.i),
              n: String(r.n),
              d: r.d.getTime()
            }))
          )
        }),
        { numRuns: 100 }
      )
    })
  })

  it("writes one line per row, fields split by tabs, the characters that would split them escaped", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(text, fc.constant(null)), { minLength: 1, maxLength: 8 }), (values) => {
        const line = copyTextLine(values)
        assert.isTrue(line.endsWith("\n"))
        const fields = line.slice(0, -1).split("\t")
        assert.strictEqual(fields.length, values.length)
        for (const field of fields) assert.notMatch(field, /[\n\r]/)
        assert.deepStrictEqual(fields, values.map(copyTextValue))
      })
    )
  })
})
