import { assert, describe, layer } from "@effect/vitest"
import { Company, Person } from "@enrich-sync/core"
import { demoCompanyAt, demoCompanyKey } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { revalidateEntity, revalidateUpdateSql } from "../../src/stages/Revalidate.ts"
import { SourceDatabase } from "../../src/store/Database.ts"
import { engineFixture, onNeon } from "../support/EngineFixture.ts"

/** Indexes (below `count`) of demo companies whose only problem is the missing website. */
const websiteOnly = (count: number): ReadonlyArray<number> =>
  Array.from({ length: count }, (_, i) => i).filter((i) => {
    const row = demoCompanyAt(i)
    return (
      row.reason_code === "EMPTY_WEBSITE" && Object.keys(row.validation_errors as object).join() === "website"
    )
  })

/** Index (below `count`) of the first demo company failing for another reason than the website. */
const otherProblem = (count: number): number =>
  Array.from({ length: count }, (_, i) => i).find((i) => demoCompanyAt(i).reason_code === "INVALID_PHONE")!

/** A digest of every column of every Neon company row. */
const neonDigest = Effect.map(
  onNeon(`SELECT md5(string_agg(t::text, '|' ORDER BY t.id)) AS d FROM marketing.company_invalid t`),
  ([r]) => String(r?.d)
)

const logCount = (action: string) =>
  Effect.map(
    onNeon(`SELECT count(*)::int AS n FROM public.shq_validation_log WHERE action = $1`, [action]),
    ([r]) => Number(r?.n)
  )

const rowOf = (key: string) =>
  Effect.map(
    onNeon(
      `SELECT website, domain, validation_status, reason_code, validation_errors, validation_warnings
         FROM marketing.company_invalid WHERE company_unique_id = $1`,
      [key]
    ),
    ([r]) => r!
  )

/** Real waits (the test clock does not move by itself). */
const pause = (ms: number) => Effect.promise(() => new Promise<void>((r) => setTimeout(r, ms)))

/** Waits until some session of this database waits on a row lock. */
const untilBlocked = Effect.gen(function* () {
  for (let i = 0; i < 500; i++) {
    const [row] = yield* onNeon(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`
    )
    if (Number(row?.n) > 0) return
    yield* pause(20)
  }
  assert.fail("revalidate never blocked on the locked row")
})

describe("revalidate", () => {
  layer(engineFixture({ seed: {} }))((it) => {
    it.effect("finds the seed's failures; a dry run writes nothing; a re-run writes nothing", () =>
      Effect.gen(function* () {
        // the demo rows hold what the rules say of them: word a third of their messages by hand, as people
        // did before re-validation ran, so that it has something to write (same fields, same reason codes)
        yield* onNeon(
          `UPDATE marketing.company_invalid
              SET validation_errors = (SELECT jsonb_object_agg(k, 'written by hand') FROM jsonb_object_keys(validation_errors) AS k)
            WHERE id % 3 = 0 AND validation_errors <> '{}'::jsonb`
        )
        const before = new Map(
          (yield* onNeon(
            `SELECT company_unique_id, reason_code, validation_errors FROM marketing.company_invalid`
          )).map((r) => [String(r.company_unique_id), r])
        )
        const digest = yield* neonDigest

        const dry = yield* revalidateEntity(Company, { dryRun: true })
        assert.strictEqual(yield* neonDigest, digest)
        assert.strictEqual(yield* logCount("revalidate"), 0)
        assert.strictEqual(dry.checked, 119)
        assert.strictEqual(dry.passed, 0)
        assert.strictEqual(dry.failed, 119)
        assert.deepStrictEqual(dry.passedIds, [])
        assert.isAbove(dry.changed, 0)

        const progress: Array<number> = []
        const real = yield* revalidateEntity(Company, {
          batchSize: 50,
          onProgress: (p) => progress.push(p.done)
        })
        assert.deepStrictEqual(progress, [50, 100, 119])
        assert.deepStrictEqual(
          { checked: real.checked, passed: real.passed, failed: real.failed, changed: real.changed },
          { checked: 119, passed: 0, failed: 119, changed: dry.changed }
        )
        assert.deepStrictEqual(real.contended, [])
        assert.notStrictEqual(yield* neonDigest, digest)
        assert.strictEqual(yield* logCount("revalidate"), real.changed)

        // core's rules find the seed's failures: same reason codes, same failing fields, mostly the website
        const after = yield* onNeon(
          `SELECT company_unique_id, validation_status, reason_code, validation_errors FROM marketing.company_invalid`
        )
        for (const row of after) {
          const seed = before.get(String(row.company_unique_id))!
          assert.strictEqual(row.validation_status, "FAILED")
          assert.strictEqual(row.reason_code, seed.reason_code)
          assert.deepStrictEqual(
            Object.keys(row.validation_errors as object).sort(),
            Object.keys(seed.validation_errors as object).sort()
          )
        }
        const emptyWebsite = after.filter((r) => r.reason_code === "EMPTY_WEBSITE").length
        assert.isAbove(emptyWebsite, 119 / 2)
        const [sample] = after.filter((r) => r.reason_code === "EMPTY_WEBSITE")
        assert.deepStrictEqual(sample?.validation_errors, { website: "empty or blank" })

        const again = yield* revalidateEntity(Company)
        assert.strictEqual(again.changed, 0)
        assert.strictEqual(again.failed, 119)
        assert.strictEqual(yield* logCount("revalidate"), real.changed)

        const people = yield* revalidateEntity(Person)
        assert.deepStrictEqual([people.checked, people.passed, people.failed], [5, 0, 5])
      })
    )

    it.effect("a website set on Neon (as a push would) passes; onlyEnriched checks only complete rows", () =>
      Effect.gen(function* () {
        const [a, b, c] = websiteOnly(119).map(demoCompanyKey)
        const d = demoCompanyKey(otherProblem(119))
        yield* onNeon(
          `UPDATE marketing.company_invalid SET website = 'https://www.' || replace(company_unique_id, '.', '') || '.com',
                  enrichment_status = 'complete' WHERE company_unique_id = ANY($1)`,
          [[a, b]]
        )
        yield* onNeon(
          `UPDATE marketing.company_invalid SET website = 'https://www.c-site.com' WHERE company_unique_id = $1`,
          [c]
        )
        yield* onNeon(
          `UPDATE marketing.company_invalid SET enrichment_status = ' Complete' WHERE company_unique_id = $1`,
          [d]
        )

        const enriched = yield* revalidateEntity(Company, { onlyEnriched: true })
        assert.deepStrictEqual(
          {
            checked: enriched.checked,
            passed: enriched.passed,
            failed: enriched.failed,
            changed: enriched.changed
          },
          { checked: 3, passed: 2, failed: 1, changed: 2 }
        )
        assert.deepStrictEqual([...enriched.passedIds].sort(), [a!, b!].sort())
        assert.deepStrictEqual(yield* rowOf(a!), {
          website: `https://www.${a!.replaceAll(".", "")}.com`,
          domain: `${a!.replaceAll(".", "")}.com`,
          validation_status: "PASSED",
          reason_code: "PASSED",
          validation_errors: {},
          validation_warnings: null
        })
        // not complete: not checked
        const untouched = yield* rowOf(c!)
        assert.strictEqual(untouched.reason_code, "EMPTY_WEBSITE")
        assert.strictEqual(untouched.domain, null)
        const [logged] = yield* onNeon(
          `SELECT validation_status, validation_errors, details FROM public.shq_validation_log
            WHERE action = 'revalidate' AND record_id = $1 ORDER BY id DESC LIMIT 1`,
          [a]
        )
        assert.strictEqual(logged?.validation_status, "PASSED")
        assert.deepStrictEqual(logged?.validation_errors, {})
        assert.deepInclude(logged?.details as object, {
          reason_code: "PASSED",
          previous_reason_code: "EMPTY_WEBSITE"
        })

        const all = yield* revalidateEntity(Company)
        assert.strictEqual(all.passed, 3)
        assert.deepStrictEqual([...all.passedIds].sort(), [a!, b!, c!].sort())
        assert.strictEqual(all.changed, 1)
        assert.strictEqual((yield* rowOf(c!)).domain, "c-site.com")
      })
    )
  })

  layer(engineFixture({ seed: { companies: 30, people: 0 } }))((it) => {
    it.effect("a row edited between the read and the write is not overwritten: it is validated again", () =>
      Effect.gen(function* () {
        const [k1, k2] = websiteOnly(30).map(demoCompanyKey)
        const db = yield* SourceDatabase
        yield* revalidateEntity(Company)

        /**
         * Sets a website on `key` (so that it would pass), then runs revalidate while another transaction holds
         * an edit of the row, committed once revalidate waits for it.
         */
        const raceWith = (key: string, maxAttempts: number) =>
          Effect.scoped(
            Effect.gen(function* () {
              yield* onNeon(
                `UPDATE marketing.company_invalid SET website = 'https://www.found.com' WHERE company_unique_id = $1`,
                [key]
              )
              const other = yield* db.session
              yield* other.query("BEGIN")
              yield* other.query(
                `UPDATE marketing.company_invalid SET website = 'htp://found.com' WHERE company_unique_id = $1`,
                [key]
              )
              const run = yield* Effect.forkChild(revalidateEntity(Company, { maxAttempts }))
              yield* untilBlocked
              yield* other.query("COMMIT")
              return yield* Fiber.join(run)
            })
          )

        // one attempt: the edited row is left exactly as the other transaction made it, and reported
        const once = yield* raceWith(k1!, 1)
        assert.deepStrictEqual(once.contended, [k1!])
        assert.deepStrictEqual(once.passedIds, [])
        assert.deepInclude(yield* rowOf(k1!), {
          website: "htp://found.com",
          domain: null,
          validation_status: "FAILED",
          reason_code: "EMPTY_WEBSITE"
        })

        // with retries (the default), the row is re-read and the outcome is the one of what it holds now
        const retried = yield* raceWith(k2!, 3)
        assert.deepStrictEqual(retried.contended, [])
        assert.notInclude(retried.passedIds, k2!)
        assert.deepInclude(yield* rowOf(k2!), {
          website: "htp://found.com",
          domain: null,
          validation_status: "FAILED",
          reason_code: "INVALID_WEBSITE"
        })
        // the PASSED outcome computed from the older website was never written nor logged
        const logged = yield* onNeon(
          `SELECT validation_status FROM public.shq_validation_log WHERE action = 'revalidate' AND record_id = ANY($1)`,
          [[k1, k2]]
        )
        assert.notInclude(
          logged.map((r) => r.validation_status),
          "PASSED"
        )
      })
    )

    it.effect("the compare-and-swap statement writes nothing when the row's projection hash moved", () =>
      Effect.gen(function* () {
        const key = demoCompanyKey(3)
        const set = (expected: string) =>
          JSON.stringify([
            {
              key,
              expected,
              set: ["reason_code"],
              edited: false,
              f_reason_code: "CAS_TEST"
            }
          ])
        const [current] = yield* onNeon(
          `SELECT enrich_sync.company_source_hash(t) AS h FROM marketing.company_invalid t WHERE company_unique_id = $1`,
          [key]
        )
        const stale = yield* onNeon(revalidateUpdateSql(Company), [set("0".repeat(32))])
        assert.strictEqual(stale.length, 0)
        assert.notStrictEqual((yield* rowOf(key)).reason_code, "CAS_TEST")
        const fresh = yield* onNeon(revalidateUpdateSql(Company), [set(String(current?.h))])
        assert.deepStrictEqual(fresh, [{ key }])
        assert.strictEqual((yield* rowOf(key)).reason_code, "CAS_TEST")
      })
    )
  })
})
