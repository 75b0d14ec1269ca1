/**
 * The demo data: deterministic, shaped like the seeds (119 = 114 + 5 companies, mostly EMPTY_WEBSITE, 5
 * people), West Virginia-like, holding exactly what core's rules produce for each row (its validation
 * fields; a first revalidate changing nothing is tested end to end in the CLI's tests), with unique
 * Barton IDs at any scale; and
 * seeded through COPY into tables made from core's column lists, row for row.
 */
import { assert, describe, it } from "@effect/vitest"
import {
  Company,
  type Entity,
  Person,
  projectSource,
  qualified,
  validate,
  validationFields
} from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import pg from "pg"
import { copyTextLine, copyTextValue } from "../src/CopyText.ts"
import { scopedDatabase } from "../src/Databases.ts"
import {
  demoBatchId,
  demoCompanies,
  demoCompanyAt,
  demoCompanyColumns,
  demoCompanyKey,
  demoPeople,
  demoPersonColumns,
  demoPersonKey,
  olderBatchIds,
  seedDemoData
} from "../src/DemoData.ts"
import { injectedServers } from "./support/Servers.ts"

const bartonId = /^\d{2}\.\d{2}\.\d{2}\.\d{2}\.\d{5}\.\d{3}$/

/** A client that returns timestamps as the text PostgreSQL prints (like the engine does). */
const connect = (url: string) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const client = new pg.Client({
        connectionString: url,
        types: {
          getTypeParser: ((oid: number, format?: "text" | "binary") =>
            oid === 1114
              ? (text: string) => text
              : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser
        }
      })
      await client.connect()
      return client
    }),
    (client) => Effect.promise(() => client.end())
  )

const createSourceTables = (client: pg.Client) =>
  Effect.promise(async () => {
    await client.query("CREATE SCHEMA marketing")
    for (const entity of [Company, Person] as ReadonlyArray<Entity>) {
      const columns = entity.sourceColumns.map((c) => `${c.name} ${c.definition}`).join(", ")
      await client.query(`CREATE TABLE ${qualified(entity.sourceTable)} (${columns})`)
    }
  })

describe("DemoData", () => {
  it("is deterministic: the same options give the same rows, another seed other rows", () => {
    const once = [...demoCompanies()]
    const twice = [...demoCompanies()]
    assert.deepStrictEqual(once, twice)
    assert.deepStrictEqual([...demoPeople()], [...demoPeople()])
    assert.deepStrictEqual(demoCompanyAt(57), once[57])
    const other = [...demoCompanies({ seed: 7 })]
    assert.notStrictEqual(JSON.stringify(other), JSON.stringify(once))
    assert.deepStrictEqual(
      other.map((c) => c.company_unique_id),
      once.map((c) => c.company_unique_id)
    )
    // a larger run starts with the default rows
    assert.deepStrictEqual([...demoCompanies({ companies: 200 })].slice(0, 119), once)
  })

  it("has the seeds' shape: 119 companies (114 from the batch, 5 older), mostly EMPTY_WEBSITE, 5 people", () => {
    const companies = [...demoCompanies()]
    const people = [...demoPeople()]
    assert.strictEqual(companies.length, 119)
    assert.strictEqual(people.length, 5)
    assert.strictEqual(companies.filter((c) => c.batch_id === demoBatchId).length, 114)
    const older = companies.filter((c) => c.batch_id !== demoBatchId)
    assert.strictEqual(older.length, 5)
    for (const c of older) {
      assert.include(olderBatchIds, c.batch_id)
      assert.isTrue(c.created_at! < companies[5]!.created_at!, "older rows were created before the batch")
    }
    assert.strictEqual(companies[0]!.company_unique_id, "04.04.01.01.00101.101")

    const emptyWebsite = companies.filter((c) => c.reason_code === "EMPTY_WEBSITE")
    assert.isAtLeast(emptyWebsite.length, 100)
    assert.isBelow(emptyWebsite.length, 119, "a few fail for other reasons")
    for (const c of emptyWebsite) {
      assert.isNull(c.website)
      assert.strictEqual((c.validation_errors as Record<string, string>).website, "empty or blank")
    }
    assert.isTrue(
      companies.some(
        (c) => c.reason_code === "EMPTY_WEBSITE" && Object.keys(c.validation_errors as object).length === 1
      )
    )
    assert.deepStrictEqual(
      companies.find(
        (c) => c.reason_code === "EMPTY_WEBSITE" && Object.keys(c.validation_errors as object).length === 1
      )!.validation_errors,
      { website: "empty or blank" }
    )

    const keys = new Set<string>()
    for (const c of companies) {
      assert.match(c.company_unique_id, bartonId)
      keys.add(c.company_unique_id)
      assert.strictEqual(c.state, "WV")
      assert.strictEqual(c.validation_status, "FAILED")
      assert.strictEqual(c.source_table, "marketing.company_raw_wv")
      assert.isFalse(c.reviewed)
      assert.isNull(c.enrichment_status)
      assert.isNull(c.enriched_at)
      assert.isNull(c.enriched_by)
      assert.isFalse(c.still_invalid)
      assert.match(c.created_at!, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{0,5}[1-9])?$/)
      assert.strictEqual(c.updated_at, c.created_at)
      if (c.reason_code !== "INVALID_ZIP") {
        assert.match(c.zip!, /^\d{5}$/)
        assert.isTrue(Number(c.zip) >= 24700 && Number(c.zip) <= 26899, `WV zip ${c.zip}`)
      }
      if (c.reason_code !== "INVALID_PHONE" && !("phone" in (c.validation_errors as object))) {
        assert.match(c.phone!, /^(304|681)-\d{3}-\d{4}$/)
      }
    }
    assert.strictEqual(keys.size, 119)
    assert.isTrue(
      companies.some((c) => c.city === "Morgantown" || c.city === "Charleston" || c.city === "Huntington")
    )
    assert.isAtLeast(new Set(companies.map((c) => c.reason_code)).size, 3)

    const companyKeys = new Set(companies.map((c) => c.company_unique_id))
    assert.deepStrictEqual(
      people.map((p) => p.unique_id),
      [
        "04.04.02.04.20000.001",
        "04.04.02.04.20000.002",
        "04.04.02.04.20000.003",
        "04.04.02.04.20000.004",
        "04.04.02.04.20000.005"
      ]
    )
    assert.deepStrictEqual(
      new Set(people.map((p) => p.reason_code)),
      new Set(["EMPTY_EMAIL", "INVALID_EMAIL", "INVALID_LINKEDIN_URL"])
    )
    for (const p of people) {
      assert.isTrue(companyKeys.has(p.company_unique_id!), "people work at demo companies")
      assert.strictEqual(p.full_name, `${p.first_name} ${p.last_name}`)
      assert.strictEqual(p.state, "WV")
    }
  })

  it("holds exactly what core's rules produce: a re-validation would change nothing", () => {
    const check = (
      entity: Entity,
      rows: Iterable<Record<string, unknown>>,
      reasons: ReadonlyArray<string>
    ) => {
      const seen = new Set<string>()
      for (const row of rows) {
        const outcome = validate(entity, projectSource(entity, row))
        assert.deepStrictEqual(outcome.derived, {}, `the rules would fill in a value: ${JSON.stringify(row)}`)
        const stored: Record<string, unknown> = {}
        for (const field of Object.keys(validationFields(outcome))) stored[field] = row[field]
        assert.deepStrictEqual(stored, validationFields(outcome), JSON.stringify(row))
        // the flaws the generator makes: every row fails, for one of the sync guide's reasons
        assert.strictEqual(outcome.status, "FAILED")
        seen.add(outcome.reasonCode)
      }
      assert.deepStrictEqual([...seen].sort(), [...reasons].sort())
    }
    check(Company, demoCompanies({ companies: 3000 }), [
      "EMPTY_WEBSITE",
      "INVALID_PHONE",
      "INVALID_ZIP",
      "MISSING_NAME",
      "INVALID_WEBSITE"
    ])
    check(Person, demoPeople({ people: 300 }), ["EMPTY_EMAIL", "INVALID_EMAIL", "INVALID_LINKEDIN_URL"])
    // and with another seed
    check(Company, demoCompanies({ companies: 500, seed: 7 }), [
      "EMPTY_WEBSITE",
      "INVALID_PHONE",
      "INVALID_ZIP",
      "MISSING_NAME",
      "INVALID_WEBSITE"
    ])
  })

  it("has unique Barton IDs at any scale", () => {
    assert.strictEqual(demoCompanyKey(0), "04.04.01.01.00101.101")
    assert.strictEqual(demoCompanyKey(899), "04.04.01.01.00102.000")
    assert.strictEqual(demoCompanyKey(999_999), "04.04.01.01.01101.100")
    assert.strictEqual(demoPersonKey(999), "04.04.02.04.20001.000")
    // the key is the row number written in fixed-width digits, so distinct rows have distinct keys
    const keys = new Set<string>()
    for (let i = 0; i < 200_000; i += 1) keys.add(demoCompanyKey(i))
    for (let i = 999_000; i < 1_001_000; i += 1) keys.add(demoCompanyKey(i))
    assert.strictEqual(keys.size, 202_000)
    for (const i of [0, 1_000_000, 99_999_999, 5_000_000_000]) assert.match(demoCompanyKey(i), bartonId)
  })

  it("lists exactly the source tables' columns (but id)", () => {
    assert.deepStrictEqual<ReadonlyArray<string>>(
      demoCompanyColumns,
      Company.sourceColumns.map((c) => c.name).filter((n) => n !== "id")
    )
    assert.deepStrictEqual<ReadonlyArray<string>>(
      demoPersonColumns,
      Person.sourceColumns.map((c) => c.name).filter((n) => n !== "id")
    )
    assert.deepStrictEqual(Object.keys(demoCompanyAt(0)).sort(), [...demoCompanyColumns].sort())
    assert.deepStrictEqual(
      Object.keys([...demoPeople({ people: 1 })][0]!).sort(),
      [...demoPersonColumns].sort()
    )
  })

  it("encodes COPY text fields", () => {
    assert.strictEqual(copyTextValue(null), "\\N")
    assert.strictEqual(copyTextValue(undefined), "\\N")
    assert.strictEqual(copyTextValue("\\N"), "\\\\N")
    assert.strictEqual(copyTextValue("a\tb\nc\rd\\e"), "a\\tb\\nc\\rd\\\\e")
    assert.strictEqual(copyTextValue(true), "t")
    assert.strictEqual(copyTextValue(12), "12")
    assert.strictEqual(copyTextValue({ website: "empty\tor blank" }), '{"website":"empty\\\\tor blank"}')
    assert.strictEqual(copyTextLine(["x", null, 1]), "x\t\\N\t1\n")
  })

  it.effect("seeds the default 119 + 5 rows via COPY, row for row", () =>
    Effect.gen(function* () {
      const db = yield* scopedDatabase(injectedServers().neon, "demo_seed")
      const client = yield* connect(db.url)
      yield* createSourceTables(client)
      const written = yield* Effect.promise(() => seedDemoData(db.url))
      assert.deepStrictEqual(written, { companies: 119, people: 5 })

      const companies = yield* Effect.promise(() =>
        client.query("SELECT * FROM marketing.company_invalid ORDER BY id")
      )
      assert.deepStrictEqual(
        companies.rows.map((r) => r.id),
        Array.from({ length: 119 }, (_, i) => String(i + 1))
      )
      assert.deepStrictEqual(
        companies.rows.map(({ id: _, ...rest }) => rest),
        [...demoCompanies()]
      )
      const people = yield* Effect.promise(() =>
        client.query("SELECT * FROM marketing.people_invalid ORDER BY id")
      )
      assert.deepStrictEqual(
        people.rows.map(({ id: _, ...rest }) => rest),
        [...demoPeople()]
      )
    })
  )

  it.live("seeds 20k companies quickly and round-trips awkward text through COPY", () =>
    Effect.gen(function* () {
      const db = yield* scopedDatabase(injectedServers().supabase, "demo_bulk")
      const client = yield* connect(db.url)
      yield* createSourceTables(client)
      const started = performance.now()
      const written = yield* Effect.promise(() =>
        seedDemoData(db.url, { companies: 20_000, people: 2_000, seed: 3 })
      )
      const seconds = (performance.now() - started) / 1000
      assert.deepStrictEqual(written, { companies: 20_000, people: 2_000 })
      assert.isBelow(seconds, 10, `20k + 2k rows took ${seconds.toFixed(2)} s`)
      const counts = yield* Effect.promise(() =>
        client.query(
          `SELECT count(*)::int AS n, count(DISTINCT company_unique_id)::int AS keys,
                  count(*) FILTER (WHERE reason_code = 'EMPTY_WEBSITE')::int AS empty
             FROM marketing.company_invalid`
        )
      )
      assert.strictEqual(counts.rows[0].n, 20_000)
      assert.strictEqual(counts.rows[0].keys, 20_000)
      assert.isAbove(counts.rows[0].empty / 20_000, 0.8)

      const awkward = [
        "tab\there",
        "new\nline",
        "cr\rhere",
        "back\\slash",
        "\\N",
        "",
        " ",
        "é😀👩‍💻",
        '"quoted"',
        "\u0001"
      ]
      yield* Effect.promise(() => client.query("CREATE TABLE awkward (i int, v text, j jsonb)"))
      const { from: copyFrom } = yield* Effect.promise(() => import("pg-copy-streams"))
      yield* Effect.promise(
        () =>
          new Promise<void>((resolve, reject) => {
            const sink = client.query(copyFrom("COPY awkward (i, v, j) FROM STDIN"))
            sink.on("finish", resolve).on("error", reject)
            sink.end(
              awkward.map((v, i) => copyTextLine([i, v, { v }])).join("") + copyTextLine([99, null, null])
            )
          })
      )
      const back = yield* Effect.promise(() => client.query("SELECT v, j FROM awkward ORDER BY i"))
      assert.deepStrictEqual(
        back.rows.map((r) => r.v),
        [...awkward, null]
      )
      assert.deepStrictEqual(
        back.rows.map((r) => r.j),
        [...awkward.map((v) => ({ v })), null]
      )
    })
  )
})
