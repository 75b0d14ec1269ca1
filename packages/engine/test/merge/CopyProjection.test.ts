import { assert, describe, it } from "@effect/vitest"
import type { Entity, FieldKind, SyncValue } from "@enrich-sync/core"
import {
  Company,
  canonicalJson,
  canonicalTimestamp,
  jsonNumber,
  md5,
  Person,
  parseJsonb,
  projectSource,
  recordJson
} from "@enrich-sync/core"
import { timestampText } from "@enrich-sync/testing"
import * as fc from "fast-check"
import { CopyProjection } from "../../src/merge/CopyProjection.ts"
import { copyValue, parseCopyLine } from "../../src/store/CopyFormat.ts"

const pulledAt = "2026-01-02T03:04:05.678Z"

/**
 * The workspace COPY row of one Neon COPY line, the plain way: parse the line, project it with core, hash
 * the record, write every value as COPY text. `CopyProjection` must give exactly this.
 */
const referenceRow = (entity: Entity, line: string): string => {
  const fields = entity.fields
  const columns = parseCopyLine(line)
  if (columns.length !== fields.length + 2) throw new Error("column count")
  const row: Record<string, unknown> = {}
  fields.forEach((f, i) => {
    const v = columns[i] ?? null
    row[f.source] = f.kind === "json" && v !== null ? parseJsonb(v) : v
  })
  const record = projectSource(entity, row)
  const encode = (value: SyncValue, kind: FieldKind): string | null =>
    value === null
      ? null
      : kind === "json"
        ? canonicalJson(value)
        : typeof value === "string"
          ? value
          : String(value)
  const out = fields.map((f) => encode(record[f.name] ?? null, f.kind))
  out.push(
    md5(recordJson(entity, record)),
    pulledAt,
    canonicalTimestamp(columns[fields.length] ?? null) ?? pulledAt,
    "active",
    "f",
    columns[fields.length + 1] ?? null
  )
  return `${out.map(copyValue).join("\t")}\n`
}

/** Runs `CopyProjection` over `input` cut at `cuts` (byte offsets), and returns its whole output. */
const project = (entity: Entity, input: Buffer, cuts: ReadonlyArray<number> = []): string => {
  const projection = new CopyProjection(entity, pulledAt)
  const pieces: Array<Buffer> = []
  let from = 0
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    pieces.push(...projection.write(input.subarray(from, cut)))
    from = cut
  }
  pieces.push(...projection.write(input.subarray(from)), ...projection.end())
  return Buffer.concat(pieces).toString("utf8")
}

/** The result of a call, or that it threw. */
const outcome = <A>(f: () => A): { readonly value: A } | "throws" => {
  try {
    return { value: f() }
  } catch {
    return "throws"
  }
}

/** A value as COPY TO writes it: the C escapes Postgres uses, and (rarely) octal or hex ones it accepts. */
const copyTextOf = (value: string, style: number): string =>
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what it escapes
  value.replace(/[\\\b\f\n\r\t\v\u0001]/g, (c) => {
    if (c === "\u0001") return style % 3 === 0 ? "\\001" : style % 3 === 1 ? "\\x01" : c
    return `\\${{ "\\": "\\", "\b": "b", "\f": "f", "\n": "n", "\r": "r", "\t": "t", "\v": "v" }[c]}`
  })

const padding = fc.constantFrom("", " ", "  ", "\t", "\n", "\u00a0", "\u3000", "\ufeff", "\u2028")

/** Texts with what the projection and both encodings care about: spaces, quotes, escapes, any Unicode. */
const text = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom("Morgantown", "WV", "EMPTY_WEBSITE", "304-555-0101", "Café Ünïcode")
  },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme" }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary" }) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        padding,
        fc.string({ unit: fc.constantFrom("a", '"', "\\", "\u0001", "é", "😀", "\u0000".slice(1)) }),
        padding
      )
      .map(([a, b, c]) => a + b + c)
  }
)

/** Timestamps as Postgres prints them, with fields that overflow, and other forms core reads. */
const timestamp = fc.oneof(
  timestampText({ fractionDigits: 7, zones: ["", "", "", "Z", "+00", "+05:30"] }),
  fc.constantFrom("infinity", "-infinity", " 2025-11-07 16:32:09 ", "2025-11-07", "not a time")
)

const integer = fc.oneof(
  fc.integer().map(String),
  fc.maxSafeInteger().map(String),
  fc.constantFrom("0", "-0", "007", "9007199254740993", "123456789012345678", " 12", "1.5")
)

/** JSON as `jsonb` prints it (what a `jsonb` column's COPY text holds): numbers of any precision among it. */
const json = fc.oneof(
  fc.jsonValue().map((v) => canonicalJson(v)),
  fc
    .array(fc.constantFrom("2.50", "-0.0", "12345678901234567890123", "1e-7", "1E400", "7"), { maxLength: 4 })
    .map((tokens) => canonicalJson({ "a\\b": tokens.map(jsonNumber), q: '"x"' })),
  fc.constantFrom(
    '{"website": "empty or blank"}',
    '{"a": [1, 2.0, "x"], "b": 1.50}',
    '["a", {"b": [1, 2.50, 0.0000001, 12345678901234567890123]}]',
    "null",
    '"text"',
    "0"
  )
)

const status = fc.oneof(text, fc.constantFrom("pending", " Complete ", "IN_PROGRESS", "failed"))

const valueOfKind = (kind: FieldKind): fc.Arbitrary<string> =>
  kind === "text"
    ? text
    : kind === "integer"
      ? integer
      : kind === "timestamp"
        ? timestamp
        : kind === "json"
          ? json
          : status

/** One Neon COPY line of `entity`: its fields, `updated_at` and `xmin`, any of them NULL. */
const line = (entity: Entity) =>
  fc
    .tuple(
      fc.tuple(
        ...entity.fields.map((f) => fc.option(valueOfKind(f.kind), { freq: 4, nil: null })),
        fc.option(timestamp, { freq: 6, nil: null })
      ),
      fc.integer({ min: 1, max: 4_000_000_000 }),
      fc.nat()
    )
    .map(([values, xmin, style]) =>
      [...values.map((v) => (v === null ? "\\N" : copyTextOf(v, style))), String(xmin)].join("\t")
    )

describe("CopyProjection", () => {
  for (const entity of [Company, Person]) {
    it(`gives what core's projection gives, cut anywhere (${entity.name})`, () => {
      fc.assert(
        fc.property(
          fc.array(line(entity), { minLength: 1, maxLength: 8 }),
          fc.array(fc.nat()),
          (lines, cuts) => {
            const input = Buffer.from(`${lines.join("\n")}\n`)
            const expected = outcome(() => lines.map((l) => referenceRow(entity, l)).join(""))
            const got = outcome(() =>
              project(
                entity,
                input,
                cuts.map((c) => c % (input.length + 1))
              )
            )
            assert.deepStrictEqual(got, expected)
          }
        ),
        { numRuns: 3000 }
      )
    })
  }

  it("reads rows Postgres prints, from the seeds' shape to the unusual", () => {
    const rows = [
      // a demo row: every fast path
      '26836\tMoorefield\t304-826-5467\tWV\t\\N\t3962 Jefferson St\t1\t\\N\tINTAKE-20251024-091512-5d0c7e21\tAgriculture\t\\N\t\\N\tEMPTY_WEBSITE\tTygart Valley Farms Co.\t7\t04.04.01.01.00101.101\t\\N\t{"website": "empty or blank"}\tFAILED\t\\N\t2025-10-24 09:15:12\t759',
      // trimmed, quoted, escaped, non-ASCII, empty and status values; an enrichment time; no edit time
      ' 26836 \t"Moorefield"\tline\\none\t\u00a0WV\t\tÜber\\\\Straße\t-42\t \t\\N\tA\\tB\t2025-11-07 16:32:09.5\tme@example.org\tBAD_PHONE\t😀 Co.\t0\t04.04.01.01.00101.102\t Complete \t{"a": {"b": null, "c": [1, 2]}, "zip": 1.50}\tPASSED\tnull\t\\N\t4000000000'
    ]
    const input = Buffer.from(`${rows.join("\n")}\n`)
    assert.strictEqual(project(Company, input), rows.map((r) => referenceRow(Company, r)).join(""))
    assert.include(project(Company, input), "\t2025-11-07T16:32:09.500000Z\t")
  })

  it("keeps JSON byte for byte: numbers of any precision, and a JSON null apart from SQL NULL", () => {
    const errors = '["a", {"b": [1, 2.50, 0.0000001, 12345678901234567890123]}]'
    const row = (warnings: string) =>
      Company.fields
        .map((f) =>
          f.source === "validation_errors" ? errors : f.source === "validation_warnings" ? warnings : "\\N"
        )
        .concat(["\\N", "7"])
        .join("\t")
    const out = project(Company, Buffer.from(`${row("null")}\n${row("\\N")}\n`)).split("\n")
    const column = (line: string, source: string) =>
      line.split("\t")[Company.fields.findIndex((f) => f.source === source)]
    for (const line of out.slice(0, 2)) assert.strictEqual(column(line, "validation_errors"), errors)
    assert.strictEqual(column(out[0]!, "validation_warnings"), "null")
    assert.strictEqual(column(out[1]!, "validation_warnings"), "\\N")
    // the two rows differ only there, and so do their hashes
    assert.notStrictEqual(out[0], out[1])
    assert.strictEqual(out[0], referenceRow(Company, row("null")).slice(0, -1))
    assert.strictEqual(out[1], referenceRow(Company, row("\\N")).slice(0, -1))
  })

  it("takes values larger than its buffers", () => {
    const long = `${"x".repeat(300_000)} é`
    const fields = Company.fields.map((f) =>
      f.name === "company_name" ? long : f.kind === "text" ? "a" : "\\N"
    )
    const row = [...fields, "2025-10-24 09:15:12", "7"].join("\t")
    const input = Buffer.from(`${row}\n${row}`)
    assert.strictEqual(project(Company, input, [17, 250_000]), `${referenceRow(Company, row)}`.repeat(2))
  })

  it("counts rows, and rejects a row with the wrong number of columns", () => {
    const projection = new CopyProjection(Company, pulledAt)
    const row = [...Company.fields.map(() => "\\N"), "\\N", "7"].join("\t")
    projection.write(Buffer.from(`${row}\n${row}\n`))
    assert.strictEqual(projection.rows, 2)
    assert.throws(() => projection.write(Buffer.from("a\tb\n")), /columns/)
    assert.throws(() => new CopyProjection(Company, pulledAt).write(Buffer.from(`${row}\t8\n`)), /columns/)
  })
})
