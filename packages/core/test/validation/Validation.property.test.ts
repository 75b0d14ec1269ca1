import { domainToASCII } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import { Company } from "../../src/Company.ts"
import type { Entity } from "../../src/Entity.ts"
import { Person } from "../../src/Person.ts"
import type { SyncRecord, SyncValue } from "../../src/Projection.ts"
import type { ValidationOutcome } from "../../src/validation/index.ts"
import {
  companyFieldPriority,
  hostingPlatforms,
  personFieldPriority,
  reasonCodes,
  usStateCodes,
  validate
} from "../../src/validation/index.ts"
import { blank, fixHint } from "../support/Records.ts"

const entities: ReadonlyArray<Entity> = [Company, Person]
const priorityOf = (entity: Entity) =>
  entity.name === "company" ? companyFieldPriority : personFieldPriority

// ---------------------------------------------------------------------------------------------------------
// Arbitrary records: random JSON, random text, and text glued from the fragments real data is made of

const fragments = [
  "https://",
  "http://",
  "http:/",
  "HTTPS://",
  "//",
  "mailto:",
  "tel:",
  "ftp://",
  "www.",
  "WWW.",
  "acme",
  "bücher",
  "xn--bcher-kva",
  "ｅｘａｍｐｌｅ",
  "。",
  ".",
  "..",
  "com",
  "de",
  "c0m",
  "@",
  "@@",
  " ",
  "\u00a0",
  "/",
  "/in/",
  "/company/",
  "/pub/",
  "linkedin.com",
  "uk.linkedin.com",
  "lnkd.in",
  "facebook.com",
  "-",
  "_",
  "1",
  "304",
  "(304)",
  "555-0101",
  "+",
  "+1",
  "+44",
  "x123",
  "ext.",
  "04.04.01.01.00101.101",
  "04",
  "26505",
  "2134",
  "-1234",
  "WV",
  "wv",
  "West Virginia",
  "#N/A",
  "N/A",
  ":",
  "8443",
  "?",
  "#",
  "%41",
  "[::1]",
  "1.2.3.4",
  "<",
  ">",
  ",",
  ";",
  "\t",
  "ß",
  "日本"
]
const gluedText = fc
  .array(fc.constantFrom(...fragments), { minLength: 1, maxLength: 7 })
  .map((parts) => parts.join(""))
const anyValue: fc.Arbitrary<SyncValue> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 4, arbitrary: gluedText },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 30 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<SyncValue> },
  { weight: 1, arbitrary: fc.integer({ min: -5, max: 1_000_000 }) }
)

/** A record of `entity` with arbitrary values, where any field may also be missing. */
const anyRecord = (entity: Entity): fc.Arbitrary<SyncRecord> =>
  fc.record(Object.fromEntries(entity.fields.map((f) => [f.name, anyValue])), {
    requiredKeys: []
  }) as fc.Arbitrary<SyncRecord>

/** An entity and an arbitrary record of it (the entity shows as its name in counterexamples). */
const entityAndRecord: fc.Arbitrary<readonly [Entity, SyncRecord]> = fc
  .constantFrom(...entities)
  .chain((entity) =>
    anyRecord(entity).map((record) => {
      const pair: readonly [Entity, SyncRecord] = [entity, record]
      return Object.defineProperty(pair, fc.toStringMethod, {
        value: () => `[${entity.name}, ${fc.stringify(record)}]`
      })
    })
  )

const assertWellFormed = (entity: Entity, outcome: ValidationOutcome) => {
  const priority = priorityOf(entity)
  assert.isTrue(Object.hasOwn(reasonCodes, outcome.reasonCode), `unknown reason code ${outcome.reasonCode}`)
  const errorFields = Object.keys(outcome.errors)
  assert.strictEqual(outcome.status === "PASSED", errorFields.length === 0)
  assert.strictEqual(outcome.reasonCode === "PASSED", outcome.status === "PASSED")
  for (const field of [...errorFields, ...Object.keys(outcome.warnings)]) assert.include(priority, field)
  const indexes = errorFields.map((field) => priority.indexOf(field))
  assert.deepStrictEqual(
    indexes,
    [...indexes].sort((a, b) => a - b),
    "errors are listed in priority order"
  )
  for (const [field, message] of Object.entries(outcome.errors)) {
    assert.isString(message)
    if (field === "website" && message === "empty or blank") {
      assert.strictEqual(outcome.reasonCode === "EMPTY_WEBSITE", errorFields[0] === "website")
      continue
    }
    assert.match(message, fixHint, `the message for ${field} says how to fix it: ${message}`)
  }
  for (const message of Object.values(outcome.warnings)) assert.isAbove(message.length, 0)
  for (const field of Object.keys(outcome.derived)) assert.strictEqual(field, "domain")
  // the outcome is written to jsonb as it is
  assert.deepStrictEqual(JSON.parse(JSON.stringify(outcome)), outcome)
}

describe("validate on arbitrary records", () => {
  it("never throws, and its outcome is well formed", () => {
    fc.assert(
      fc.property(entityAndRecord, ([entity, record]) => {
        assertWellFormed(entity, validate(entity, record))
      }),
      { numRuns: 1000 }
    )
  })

  it("is deterministic and does not depend on the record's identity", () => {
    fc.assert(
      fc.property(entityAndRecord, ([entity, record]) => {
        assert.deepStrictEqual(validate(entity, structuredClone(record)), validate(entity, record))
      }),
      { numRuns: 300 }
    )
  })

  it("ignores whitespace around text, as the projection trims it", () => {
    const padding = fc.constantFrom(" ", "\t", "\u00a0", "\n", "  ")
    fc.assert(
      fc.property(entityAndRecord, padding, ([entity, record], pad) => {
        const padded: { [field: string]: SyncValue } = {}
        for (const [field, value] of Object.entries(record))
          padded[field] = typeof value === "string" ? pad + value + pad : value
        assert.deepStrictEqual(validate(entity, padded), validate(entity, record))
      }),
      { numRuns: 300 }
    )
  })

  it("derives only a missing domain, and applying what it derives derives nothing more and adds no error", () => {
    fc.assert(
      fc.property(entityAndRecord, ([entity, record]) => {
        const first = validate(entity, record)
        if (Object.keys(first.derived).length > 0) {
          const domain = record.domain
          assert.isTrue(
            domain === undefined || domain === null || (typeof domain === "string" && domain.trim() === "")
          )
        }
        const second = validate(entity, { ...record, ...first.derived })
        assert.deepStrictEqual(second.derived, {})
        for (const [field, message] of Object.entries(second.errors))
          assert.strictEqual(first.errors[field], message)
      }),
      { numRuns: 1000 }
    )
  })
})

// ---------------------------------------------------------------------------------------------------------
// Records valid by construction, written the many ways real data writes valid values

const randomCase = (text: string): fc.Arbitrary<string> =>
  fc
    .constantFrom("lower", "upper", "title")
    .map((style) =>
      style === "upper"
        ? text.toUpperCase()
        : style === "title"
          ? text.charAt(0).toUpperCase() + text.slice(1)
          : text
    )

const asciiLabel = fc
  .stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,12}[a-z0-9])?$/)
  .filter((label) => !label.startsWith("xn--"))
// (no ß: upper-casing it writes SS, another name; no right-to-left labels: the bidi rule rejects some mixes)
const unicodeLabel = fc.constantFrom("bücher", "münchen", "café", "日本", "ελλάδα", "москва")
const label = fc.oneof({ weight: 4, arbitrary: asciiLabel }, { weight: 1, arbitrary: unicodeLabel })
const tld = fc.oneof(fc.stringMatching(/^[a-z]{2,6}$/), fc.constant("xn--p1ai"))

/** A lower-case host (Unicode allowed) that is not a hosting platform, with its ASCII comparison key. */
const host = fc
  .tuple(fc.array(label, { minLength: 1, maxLength: 3 }), tld)
  .map(([labels, top]) => [...labels, top].join("."))
  .map((name) => ({ name, key: domainToASCII(name).replace(/^(?:www\.)+(?=[^.]+\.)/, "") }))
  .filter(({ key }) => key !== "" && !hostingPlatforms.some((p) => key === p || key.endsWith(`.${p}`)))

const bartonId = fc.stringMatching(/^\d{2}\.\d{2}\.\d{2}\.\d{2}\.\d{5}\.\d{3}$/)

const websiteOf = (name: string) =>
  fc
    .record({
      scheme: fc.constantFrom("https://", "http://", "HTTPS://", "Http://"),
      www: fc.boolean(),
      upper: fc.boolean(),
      port: fc.constantFrom("", ":8443"),
      path: fc.constantFrom("", "/", "/about-us", "/en/contact?ref=crm", "/#home")
    })
    .map(({ scheme, www, upper, port, path }) => {
      const h = (www ? "www." : "") + name
      return `${scheme}${upper ? h.toUpperCase() : h}${port}${path}`
    })

const phone = fc.oneof(
  fc
    .tuple(
      fc.stringMatching(/^[2-9]\d\d$/),
      fc.stringMatching(/^[2-9]\d\d$/),
      fc.stringMatching(/^\d{4}$/),
      fc.constantFrom("(a) e-l", "a.e.l", "a-e-l", "+1 a e l", "1-a-e-l", "+1 (a) e-l", "ael", "a–e–l"),
      fc.constantFrom("", " x123", " ext. 45", " ext 7", "x9")
    )
    .map(
      ([a, e, l, format, extension]) => format.replace("a", a).replace("e", e).replace("l", l) + extension
    ),
  fc
    .tuple(fc.stringMatching(/^[2-9]\d?$/), fc.stringMatching(/^\d{7,12}$/))
    .map(([country, rest]) => `+${country} ${rest}`)
)

const state = fc.constantFrom(...usStateCodes).chain((code) => fc.constantFrom(code, code.toLowerCase()))
const zip = fc.stringMatching(/^\d{5}(?:-\d{4})?$/)
/** Names; the words typed for "no value" are placeholders, not names. */
const words = fc
  .stringMatching(/^[A-Z][a-z]{1,10}(?: [A-Z][a-z]{1,10}){0,3}$/)
  .filter((w) => !["none", "null", "unknown", "tbd", "tba"].includes(w.toLowerCase()))

const validCompany = host.chain(({ name, key }) =>
  fc
    .record({
      company_unique_id: bartonId,
      company_name: words,
      website: websiteOf(name),
      domain: fc.oneof(
        fc.constant(null),
        fc.constant(key),
        fc.constant(name),
        randomCase(name),
        fc.constant(`www.${name}`),
        fc.constant(`${name}.`)
      ),
      employee_count: fc.option(fc.nat()),
      phone: fc.option(phone),
      state: fc.option(state),
      zip: fc.option(zip),
      industry: fc.option(words),
      city: fc.option(words)
    })
    .map((fields) => ({ record: { ...blank(Company), ...fields } as SyncRecord, key }))
)

const validPerson = fc
  .record({
    unique_id: bartonId,
    names: fc.oneof(
      words.map((full) => ({ full_name: full })),
      fc.tuple(words, words).map(([first, last]) => ({ first_name: first, last_name: last })),
      fc
        .tuple(words, words)
        .map(([first, last]) => ({ full_name: `${first} ${last}`, first_name: first, last_name: last }))
    ),
    local: fc.stringMatching(/^[a-z0-9_+-]{1,10}(?:\.[a-z0-9_+-]{1,10}){0,2}$/).chain(randomCase),
    emailHost: host,
    company_unique_id: fc.option(bartonId),
    linkedin_url: fc.option(
      fc
        .tuple(
          fc.constantFrom("https://", "http://", ""),
          fc.constantFrom("", "www.", "uk.", "de."),
          fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,28}[a-z0-9])?$/),
          fc.constantFrom("", "/", "?originalSubdomain=uk")
        )
        .map(([scheme, sub, slug, tail]) => `${scheme}${sub}linkedin.com/in/${slug}${tail}`)
    ),
    phone: fc.option(phone),
    state: fc.option(state),
    title: fc.option(words)
  })
  .map(({ names, local, emailHost, ...fields }) => ({
    ...blank(Person),
    ...fields,
    ...names,
    email: `${local}@${emailHost.name}`
  }))

describe("validate on records valid by construction", () => {
  it("passes a valid company, deriving the website's domain when it is missing", () => {
    fc.assert(
      fc.property(validCompany, ({ record, key }) => {
        const outcome = validate(Company, record)
        assert.deepStrictEqual(outcome.errors, {}, JSON.stringify(record))
        assert.strictEqual(outcome.status, "PASSED")
        assert.strictEqual(outcome.reasonCode, "PASSED")
        assert.deepStrictEqual(outcome.derived, record.domain === null ? { domain: key } : {})
      }),
      { numRuns: 500 }
    )
  })

  it("passes a valid person", () => {
    fc.assert(
      fc.property(validPerson, (record) => {
        const outcome = validate(Person, record)
        assert.deepStrictEqual(outcome.errors, {}, JSON.stringify(record))
        assert.strictEqual(outcome.reasonCode, "PASSED")
        assert.deepStrictEqual(outcome.derived, {})
      }),
      { numRuns: 500 }
    )
  })

  it("fails a valid company once its website is removed, with the seed's error", () => {
    fc.assert(
      fc.property(validCompany, ({ record }) => {
        const outcome = validate(Company, { ...record, website: null })
        assert.strictEqual(outcome.reasonCode, "EMPTY_WEBSITE")
        assert.strictEqual(outcome.errors.website, "empty or blank")
        assert.deepStrictEqual(outcome.derived, {})
      }),
      { numRuns: 200 }
    )
  })

  it("fails a valid company whose domain is another host, and names the website's", () => {
    fc.assert(
      fc.property(validCompany, host, ({ record, key }, other) => {
        fc.pre(!key.endsWith(`.${other.key}`) && other.key !== key)
        const outcome = validate(Company, { ...record, domain: other.name })
        assert.strictEqual(outcome.reasonCode, "DOMAIN_MISMATCH")
        assert.include(outcome.errors.domain, `write ${key}`)
      }),
      { numRuns: 200 }
    )
  })
})

describe("validate on huge values", () => {
  it("takes time linear in the size of the values (no regular expression backtracks quadratically)", () => {
    const n = 50_000
    const run = (c: string) => c.repeat(n)
    const shapes = [
      `1${run(" ")}1`,
      `1${run(" ")}x1`,
      `12345${run(" ")}x`,
      `a@${run(".")}x.`,
      `.${run(".")}a@b.co`,
      `https://${run("a.")}com`,
      `www.${run("www.")}com`,
      `linkedin.com/in/${run("a/")}`,
      `mailto:${run("<")}`,
      `x${run(":")}1`,
      `${run("-")}a`,
      `${run("1.")}`
    ]
    const started = performance.now()
    for (const entity of entities) {
      for (const shape of shapes) {
        const record = Object.fromEntries(entity.fields.map((f) => [f.name, shape]))
        assertWellFormed(entity, validate(entity, record))
      }
    }
    // quadratic backtracking on 50,000 characters takes seconds per field
    assert.isBelow(performance.now() - started, 2000)
  })
})
