/**
 * Core's TypeScript projection + hash and the SQL ones installed by the migrations agree, byte for byte, on
 * random records written to real tables (unicode, emoji, whitespace, NULL vs empty, numbers, timestamps
 * with and without zone, nested JSON with numbers of any size and precision, JSON null vs SQL NULL).
 */

import { assert, describe, it } from "@effect/vitest"
import {
  Company,
  canonicalJson,
  canonicalRecordJson,
  canonicalTimestamp,
  canonicalValueSql,
  type Entity,
  jsonNull,
  numericText,
  Person,
  parseJsonb,
  projectBase,
  projectSource,
  projectWorkspace,
  qualified,
  recordJson,
  sourceHashFunction,
  syncHash,
  workspaceHashFunction
} from "@enrich-sync/core"
import { injectedServers, jsonNumberToken, TestDatabase } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import * as fc from "fast-check"
import type pg from "pg"
import { connect, migrate } from "./support/RawClient.ts"

const specials = [
  " ",
  "\t",
  "\n",
  "\r",
  "\u000b",
  "\u00a0",
  "\u3000",
  "\ufeff",
  "\u2028",
  "é",
  "ß",
  "😀",
  "👩‍💻",
  '"',
  "\\",
  "\u0001",
  "\u001f",
  "\u007f",
  "x",
  "'"
]
const unit = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...specials) },
  { weight: 3, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }) }
)
const text = fc.oneof(
  fc.constant(null),
  fc.constant(""),
  fc.string({ unit, maxLength: 12 }).filter((s) => !s.includes("\u0000"))
)
/** JSON number tokens of any size and precision: long digit strings, fractions, exponents, zeros. */
const numberToken = fc.oneof(
  jsonNumberToken({ digits: 40, maxExponent: 400 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
  fc.constantFrom(
    "-0",
    "-0.0",
    "1.0",
    "2.50",
    "12345678901234567890123",
    "1e2",
    "1E400",
    "1e-400",
    "0.000001000"
  )
)
/** Text without what `jsonb` refuses (NUL, lone surrogates). */
const jsonString = fc.string({ unit: "grapheme", maxLength: 8 }).filter((s) => !s.includes("\u0000"))
/** A JSON text as a person or a program may write it: any spacing of numbers, nested, duplicate keys. */
const jsonText: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom("null", "true", "false"),
    jsonString.map((t) => JSON.stringify(t)),
    numberToken,
    fc.array(tie("value"), { maxLength: 4 }).map((items) => `[${items.join(",")}]`),
    fc
      .array(fc.tuple(jsonString, tie("value")), { maxLength: 4 })
      .map((members) => `{${members.map(([k, v]) => `${JSON.stringify(k)}: ${v}`).join(", ")}}`)
  )
})).value
/** A jsonb column: SQL NULL, or a JSON text (JSON null among them). */
const jsonColumn = fc.oneof(fc.constant(null), fc.constant("null"), jsonText)
const pad = (n: number, w: number) => String(n).padStart(w, "0")
const timestamp = fc.option(
  fc
    .record({
      ms: fc.integer({ min: Date.UTC(1000, 0, 1), max: Date.UTC(9999, 11, 31) }),
      us: fc.integer({ min: 0, max: 999 })
    })
    .map(({ ms, us }) => {
      const d = new Date(ms)
      return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)} ${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.${pad(d.getUTCMilliseconds(), 3)}${pad(us, 3)}`
    }),
  { nil: null }
)
const status = fc.oneof(
  text,
  fc.constantFrom("pending", " Complete ", "IN_PROGRESS", "failed\n", "on hold", "İN_PROGRESS", "ÉCHEC", "ǅ")
)

type Column = { readonly name: string; readonly value: unknown; readonly cast: string }

/** A random row of a table, as (column, value, cast) triples; `key` makes the Barton ID unique. */
const rowOf = (
  entity: Entity,
  side: "source" | "workspace",
  key: number
): fc.Arbitrary<ReadonlyArray<Column>> => {
  const columns = side === "source" ? entity.sourceColumns : entity.workspaceColumns
  const arbs = columns
    .filter((c) => c.name !== "id" && c.name !== "sync_state" && c.name !== "sync_dirty")
    .map((c): fc.Arbitrary<Column> => {
      const field = entity.fields.find((f) => (side === "source" ? f.source : f.workspace) === c.name)
      const col = (value: fc.Arbitrary<unknown>, cast: string) =>
        value.map((v) => ({ name: c.name, value: v, cast }))
      if (c.name === entity.key)
        return fc.constant({
          name: c.name,
          value: `04.04.01.01.${pad(key % 100000, 5)}.${pad(key % 1000, 3)}-${key}`,
          cast: "text"
        })
      if (c.name === "reason_code" && side === "source")
        return col(
          text.map((t) => t ?? ""),
          "text"
        )
      if (c.name === "validation_errors") return col(jsonText, "jsonb")
      if (field?.kind === "status") return col(status, "text")
      switch (c.type) {
        case "integer":
          return col(fc.option(fc.integer({ min: -2147483648, max: 2147483647 }), { nil: null }), "integer")
        case "bigint":
          return col(fc.option(fc.maxSafeInteger(), { nil: null }), "bigint")
        case "timestamp without time zone":
          return col(timestamp, "timestamp")
        case "jsonb":
          return col(jsonColumn, "jsonb")
        case "boolean":
          return col(fc.option(fc.boolean(), { nil: null }), "boolean")
        default:
          return col(text, "text")
      }
    })
  return fc.tuple(...arbs)
}

const insertAndHash = (
  client: pg.Client,
  entity: Entity,
  side: "source" | "workspace",
  row: ReadonlyArray<Column>
) =>
  Effect.promise(async () => {
    const table = qualified(side === "source" ? entity.sourceTable : entity.workspaceTable)
    const hashFn = side === "source" ? sourceHashFunction(entity) : workspaceHashFunction(entity)
    const { rows } = await client.query(
      `INSERT INTO ${table} AS t (${row.map((c) => c.name).join(", ")})
       VALUES (${row.map((c, i) => `$${i + 1}::${c.cast}`).join(", ")})
       RETURNING *, ${hashFn}(t) AS sql_hash`,
      row.map((c) => c.value)
    )
    return rows[0] as Record<string, unknown> & { sql_hash: string }
  })

describe("the SQL projection hash equals the TypeScript one", () => {
  for (const entity of [Company, Person]) {
    for (const side of ["source", "workspace"] as const) {
      it.effect(`${entity.name}, ${side} rows`, () =>
        Effect.gen(function* () {
          const servers = injectedServers()
          const db = yield* TestDatabase.fresh(
            side === "source" ? servers.neon : servers.supabase,
            "core_hash"
          )
          const client = yield* connect(db.url)
          yield* migrate(client, side)
          let key = 0
          const samples = fc.sample(
            fc.nat().chain(() => rowOf(entity, side, key++)),
            250
          )
          for (const sample of samples) {
            const row = yield* insertAndHash(client, entity, side, sample)
            const record = side === "source" ? projectSource(entity, row) : projectWorkspace(entity, row)
            if (row.sql_hash !== syncHash(record)) {
              // name the field whose canonical text differs
              const table = qualified(side === "source" ? entity.sourceTable : entity.workspaceTable)
              for (const f of entity.fields) {
                const column = side === "source" ? f.source : f.workspace
                const { rows } = yield* Effect.promise(() =>
                  client.query(
                    `SELECT ${canonicalValueSql(f.kind, `t.${column}`)} AS c FROM ${table} AS t WHERE t.${entity.key} = $1`,
                    [row[entity.key]]
                  )
                )
                assert.strictEqual(
                  rows[0].c,
                  canonicalJson(record[f.name]),
                  `field ${f.name} of ${JSON.stringify(sample)}`
                )
              }
            }
            assert.strictEqual(
              row.sql_hash,
              syncHash(record),
              `row ${JSON.stringify(sample)}\nrecord ${canonicalRecordJson(record)}`
            )
            // JSON values arrive as jsonb prints them, a JSON null apart from SQL NULL
            for (const f of entity.fields.filter((f) => f.kind === "json")) {
              const value = row[side === "source" ? f.source : f.workspace]
              const written = sample.find((c) => c.name === (side === "source" ? f.source : f.workspace))
              if (written?.value === null) assert.strictEqual(record[f.name], null)
              else if (written?.value === "null") assert.strictEqual(record[f.name], jsonNull)
              else assert.notStrictEqual(value, null)
            }
            // the stored-projection hash (sync_base) agrees too, and jsonb prints the record as it is
            const { rows } = yield* Effect.promise(() =>
              client.query(
                "SELECT enrich_sync.sync_hash($1::jsonb) AS h, enrich_sync.canonical_json($1::jsonb) AS j, $1::jsonb AS b",
                [canonicalRecordJson(record)]
              )
            )
            assert.strictEqual(rows[0].j, canonicalRecordJson(record))
            assert.strictEqual(rows[0].h, syncHash(record))
            assert.strictEqual(
              recordJson(entity, projectBase(entity, rows[0].b)!),
              canonicalRecordJson(record)
            )
          }
        })
      )
    }
  }

  it.effect("numbers inside JSON are written as jsonb prints them, whatever their size and precision", () =>
    Effect.gen(function* () {
      const db = yield* TestDatabase.fresh(injectedServers().neon, "core_num")
      const client = yield* connect(db.url)
      yield* migrate(client, "source")
      const doubles = fc.sample(
        fc.oneof(
          fc.double({ noNaN: true, noDefaultInfinity: true }),
          fc.integer(),
          fc.constantFrom(
            1e21,
            1e-7,
            1e-6,
            123456789012345680000,
            5e-324,
            1.7976931348623157e308,
            -0,
            -48251870167080380
          ),
          fc.integer({ min: -(2 ** 30), max: 2 ** 30 }).map((n) => n * 2 ** 26 + 0.5)
        ),
        20000
      )
      const texts = [
        ...doubles.map((d) => JSON.stringify(d)),
        ...fc.sample(numberToken, 20000),
        "1.50",
        "12345678901234567890",
        "-0.0",
        "1E400",
        "1e-400",
        "0.000001000",
        "1e131071",
        "1e-16383"
      ]
      const { rows } = yield* Effect.promise(() =>
        client.query(
          "SELECT x, enrich_sync.canonical_json(x::jsonb) AS c, x::jsonb AS v FROM unnest($1::text[]) AS x",
          [texts]
        )
      )
      for (const row of rows) {
        assert.strictEqual(row.c, numericText(row.x), `number ${row.x}`)
        // read back through the wire parser, and from the text a program may send
        assert.strictEqual(canonicalJson(row.v), row.c, `number ${row.x}`)
        assert.strictEqual(canonicalJson(parseJsonb(row.x)), row.c, `number ${row.x}`)
      }
      // a double goes as JSON.stringify writes it, and reads back as the same text
      for (const d of doubles) assert.strictEqual(canonicalJson(d), numericText(JSON.stringify(d)))
    })
  )

  it.effect("timestamps with a zone land on the same UTC instant in both", () =>
    Effect.gen(function* () {
      const db = yield* TestDatabase.fresh(injectedServers().neon, "core_tz")
      const client = yield* connect(db.url)
      yield* migrate(client, "source")
      const zoned = fc.sample(
        fc.record({
          ms: fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2100, 0, 1) }),
          us: fc.integer({ min: 0, max: 999 }),
          offset: fc.constantFrom("Z", "+00", "+05:30", "-08", "+14:00", "-03:30", "+0545"),
          sessionZone: fc.constantFrom("UTC", "Asia/Kolkata", "America/New_York", "Pacific/Chatham")
        }),
        300
      )
      for (const z of zoned) {
        const iso = new Date(z.ms).toISOString().slice(0, 23) + String(z.us).padStart(3, "0") + z.offset
        yield* Effect.promise(() => client.query(`SET TIME ZONE '${z.sessionZone}'`))
        const { rows } = yield* Effect.promise(() =>
          client.query(
            "SELECT $1::timestamptz::text AS shown, enrich_sync.canonical_timestamp($1::timestamptz) AS c",
            [iso]
          )
        )
        assert.strictEqual(
          rows[0].c,
          JSON.stringify(canonicalTimestamp(rows[0].shown)),
          `${iso} in ${z.sessionZone}`
        )
        assert.strictEqual(rows[0].c, JSON.stringify(canonicalTimestamp(iso)))
      }
    })
  )
})
