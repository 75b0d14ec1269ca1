/**
 * Deterministic demo rows of the Neon invalid tables (`marketing.company_invalid`,
 * `marketing.people_invalid`) shaped like the seeds, and fast seeding of a database with them via COPY.
 *
 * The seeds' shape (default options): 119 companies, 114 of them from batch
 * `INTAKE-20251107-163209-b26be042` and 5 older ones from earlier validations, most failing on the missing
 * website (`reason_code` `EMPTY_WEBSITE`, `validation_errors` `{"website": "empty or blank"}`), a few on a
 * bad phone, ZIP code, name or website; and 5 people failing on a missing or invalid email or LinkedIn
 * URL. Names, towns, ZIP codes (247xx-268xx) and phones (304/681) are West Virginia-like.
 *
 * The generator makes only a row's data (with the flaw it picked for it); the validation fields are what
 * core's rules (`validate`) produce for that data, as `enrich-sync revalidate` would write them.
 *
 * Invariants:
 * - every row holds exactly the outcome of core's rules for what it holds (`validation_errors`,
 *   `validation_warnings`, `reason_code`, `validation_status`, and no value the rules would derive), so a
 *   first re-validation of fresh demo data writes nothing;
 * - the same options give the same rows, byte for byte (row `i` is a pure function of the seed and `i`,
 *   through its own PRNG stream), so any row can be made without making the ones before it;
 * - keys (Barton IDs `NN.NN.NN.NN.NNNNN.NNN`) are unique at any scale (they encode the row number);
 * - rows are generated lazily: a million companies stream through COPY in constant memory;
 * - the columns are exactly `Company.sourceColumns` / `Person.sourceColumns` minus the bigserial `id`.
 */
import { Readable } from "node:stream"
import { pipeline } from "node:stream/promises"
import {
  Company,
  type CompanyInvalidRow,
  type Entity,
  Person,
  type PersonInvalidRow,
  projectSource,
  qualified,
  type SyncValue,
  validate,
  validationFields
} from "@enrich-sync/core"
import type pg from "pg"
import { from as copyFrom } from "pg-copy-streams"
import { withClient } from "./Client.ts"
import { copyTextLine } from "./CopyText.ts"
import {
  areaCodes,
  firstNames,
  industries,
  landmarks,
  lastNames,
  streets,
  suffixes,
  titles,
  towns
} from "./DemoVocabulary.ts"
import { SeededRandom } from "./SeededRandom.ts"

/** How much demo data, and from which seed. */
export interface DemoDataOptions {
  /** number of companies (default 119, the seeds' count) */
  readonly companies?: number
  /** number of people (default 5, the seeds' count) */
  readonly people?: number
  /** the PRNG seed (default 20251107); another seed gives other, equally shaped, rows */
  readonly seed?: number
}

/** A demo row of `marketing.company_invalid` (every column but the bigserial `id`). */
export type DemoCompany = Omit<CompanyInvalidRow, "id">
/** A demo row of `marketing.people_invalid` (every column but the bigserial `id`). */
export type DemoPerson = Omit<PersonInvalidRow, "id">

/** The seeds' intake batch, which most demo rows come from. */
export const demoBatchId = "INTAKE-20251107-163209-b26be042"
/** The batches the older rows (from previous validations) come from. */
export const olderBatchIds: ReadonlyArray<string> = [
  "INTAKE-20251024-091512-5d0c7e21",
  "INTAKE-20251031-140247-9a3f61bd"
]
/** How many companies come from previous validations (the first rows); the rest are from `demoBatchId`. */
export const olderCompanyCount = 5

/** The COPY column list of the company rows (`Company.sourceColumns` without `id`), in table order. */
export const demoCompanyColumns: ReadonlyArray<keyof DemoCompany> = Company.sourceColumns
  .map((column) => column.name)
  .filter((name) => name !== "id") as ReadonlyArray<keyof DemoCompany>
/** The COPY column list of the person rows (`Person.sourceColumns` without `id`), in table order. */
export const demoPersonColumns: ReadonlyArray<keyof DemoPerson> = Person.sourceColumns
  .map((column) => column.name)
  .filter((name) => name !== "id") as ReadonlyArray<keyof DemoPerson>

const defaults = { companies: 119, people: 5, seed: 20251107 }

// ---------------------------------------------------------------------------------------------------------
// randomness: one small PRNG stream per row

const mix = (value: number): number => {
  let h = value >>> 0
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** A row's random source: mulberry32 seeded from (seed, stream, index). */
const rowRandom = (seed: number, stream: number, index: number): SeededRandom =>
  new SeededRandom(mix(mix(mix(seed) ^ stream) ^ mix(index) ^ Math.floor(index / 0x100000000)))

const companyStream = 0xc0
const personStream = 0x9e

// ---------------------------------------------------------------------------------------------------------
// keys, times, text

const pad = (n: number, width: number) => String(n).padStart(width, "0")

/** `prefix` + the 10-digit number `number`, split 2/5/3. */
const bartonKey = (prefix: string, number: number): string => {
  const digits = pad(number, 10)
  return `${prefix}${digits.slice(0, 2)}.${digits.slice(2, 7)}.${digits.slice(7)}`
}

/** `04.04.01.` + the 10-digit number 0100101101 + index split 2/5/3: index 0 is `04.04.01.01.00101.101`. */
export const demoCompanyKey = (index: number): string => bartonKey("04.04.01.", 100_101_101 + index)

/** `04.04.02.` + the 10-digit number 0420000001 + index split 2/5/3: index 0 is `04.04.02.04.20000.001`. */
export const demoPersonKey = (index: number): string => bartonKey("04.04.02.", 420_000_001 + index)

/**
 * Formats `timestamp without time zone` values exactly as PostgreSQL prints them (trailing zeros of the
 * fraction dropped, no fraction at all on a whole second), from microseconds since the epoch (UTC).
 * Remembers the last whole second, since consecutive rows are a few milliseconds apart.
 */
class TimestampFormatter {
  private second = Number.NaN
  private prefix = ""
  format(micros: number): string {
    const second = Math.floor(micros / 1_000_000)
    if (second !== this.second) {
      const iso = new Date(second * 1000).toISOString() // 2025-11-07T16:32:09.000Z
      this.second = second
      this.prefix = `${iso.slice(0, 10)} ${iso.slice(11, 19)}`
    }
    let fraction = micros - second * 1_000_000
    if (fraction === 0) return this.prefix
    let digits = 6
    while (fraction % 10 === 0) {
      fraction /= 10
      digits--
    }
    return `${this.prefix}.${String(fraction).padStart(digits, "0")}`
  }
}

const batchStart = Date.UTC(2025, 10, 7, 16, 32, 9) * 1000
const olderStarts = [Date.UTC(2025, 9, 24, 9, 15, 12) * 1000, Date.UTC(2025, 9, 31, 14, 2, 47) * 1000]

const slug = (text: string) =>
  text
    .toLowerCase()
    .replace(/&/g, "and")
    .replace(/[^a-z0-9]+/g, "")

const phoneNumber = (random: SeededRandom): string =>
  `${random.pick(areaCodes)}-${random.int(200, 999)}-${pad(random.int(0, 9999), 4)}`

// ---------------------------------------------------------------------------------------------------------
// validation: what the rules say about a row

/** The validation fields of a demo row, which core's rules fill in. */
type Validated = {
  -readonly [K in
    | "validation_errors"
    | "validation_warnings"
    | "reason_code"
    | "validation_status"]: DemoCompany[K]
}

/**
 * Sets the validation fields of `row` (whose data is final) to what core's rules produce for it, as a
 * re-validation writes them: a value the rules derive (a domain from a valid website) is filled in first,
 * then the row is validated again. The rules see the row through the projection, as the engine reads it.
 */
const withRulesOutcome = <Row extends Validated>(entity: Entity, row: Row): Row => {
  let outcome = validate(entity, projectSource(entity, row))
  const derived = Object.entries(outcome.derived)
  if (derived.length > 0) {
    const columns = row as unknown as Record<string, SyncValue>
    for (const [name, value] of derived) {
      columns[entity.fields.find((field) => field.name === name)?.source ?? name] = value
    }
    outcome = validate(entity, projectSource(entity, row))
  }
  const fields = validationFields(outcome)
  row.validation_errors = fields.validation_errors as Validated["validation_errors"]
  row.validation_warnings = fields.validation_warnings as Validated["validation_warnings"]
  row.reason_code = outcome.reasonCode
  row.validation_status = outcome.status
  return row
}

// ---------------------------------------------------------------------------------------------------------
// companies

/**
 * The flaw the generator gives a company, named after the reason code core's rules then give it (the code
 * of the first error by field priority: `EMPTY_WEBSITE+INVALID_PHONE` fails with `EMPTY_WEBSITE`).
 */
type CompanyProblem =
  | "EMPTY_WEBSITE"
  | "EMPTY_WEBSITE+INVALID_PHONE"
  | "INVALID_PHONE"
  | "INVALID_ZIP"
  | "MISSING_NAME"
  | "INVALID_WEBSITE"

const companyProblem = (r: number): CompanyProblem =>
  r < 0.88
    ? "EMPTY_WEBSITE"
    : r < 0.92
      ? "EMPTY_WEBSITE+INVALID_PHONE"
      : r < 0.945
        ? "INVALID_PHONE"
        : r < 0.97
          ? "INVALID_ZIP"
          : r < 0.985
            ? "MISSING_NAME"
            : "INVALID_WEBSITE"

const badPhone = (random: SeededRandom, good: string): string => {
  switch (random.int(0, 3)) {
    case 0:
      return good.slice(0, -1) // a digit short
    case 1:
      return good.slice(4) // no area code
    case 2:
      return `${good.slice(0, 8)}CALL`
    default:
      return `${good}0` // a digit too many
  }
}

const badZip = (random: SeededRandom, good: string): string => {
  switch (random.int(0, 2)) {
    case 0:
      return good.slice(1) // leading digit lost
    case 1:
      return `WV ${good}`
    default:
      return `${good}-`
  }
}

const badWebsite = (random: SeededRandom, domain: string): string => {
  switch (random.int(0, 2)) {
    case 0:
      return `htp://${domain}`
    case 1:
      return `www.${domain.replace(/\.com$/, "")}`
    default:
      return `https://${domain.replace(/\.com$/, "")} .com`
  }
}

/** Demo company number `index` (0-based) for `seed`. */
export const demoCompanyAt = (index: number, seed: number = defaults.seed): DemoCompany =>
  makeCompany(index, seed, new TimestampFormatter())

const townSlugs = towns.map((town) => slug(town.city))
const countySlugs = towns.map((town) => slug(`${town.county} County`))
const landmarkSlugs = landmarks.map(slug)
const tradeSlugs = industries.map((industry) => industry.trades.map(slug))

const makeCompany = (index: number, seed: number, timestamps: TimestampFormatter): DemoCompany => {
  const random = rowRandom(seed, companyStream, index)
  const townIndex = random.index(towns.length)
  const town = towns[townIndex]!
  const industryIndex = random.index(industries.length)
  const industry = industries[industryIndex]!
  let place: string
  let placeSlug: string
  if (random.next() < 0.55) {
    place = town.city
    placeSlug = townSlugs[townIndex]!
  } else if (random.next() < 0.5) {
    place = `${town.county} County`
    placeSlug = countySlugs[townIndex]!
  } else {
    const landmark = random.index(landmarks.length)
    place = landmarks[landmark]!
    placeSlug = landmarkSlugs[landmark]!
  }
  const trade = random.index(industry.trades.length)
  const name = `${place} ${industry.trades[trade]}${random.pick(suffixes)}`
  const domain = `${placeSlug}${tradeSlugs[industryIndex]![trade]}.com`
  const goodPhone = phoneNumber(random)
  const goodZip = pad(town.zip + random.int(0, town.zipSpan - 1), 5)
  const hasIndustry = random.next() < 0.9
  const employees = random.next() < 0.8 ? random.int(industry.employees[0], industry.employees[1]) : null
  const address = `${random.int(1, 4999)} ${random.pick(streets)}`

  let companyName: string | null = name
  let website: string | null = `https://www.${domain}`
  let domainValue: string | null = domain
  let phone = goodPhone
  let zip = goodZip
  switch (companyProblem(random.next())) {
    case "EMPTY_WEBSITE":
      website = null
      domainValue = null
      break
    case "EMPTY_WEBSITE+INVALID_PHONE":
      website = null
      domainValue = null
      phone = badPhone(random, goodPhone)
      break
    case "INVALID_PHONE":
      phone = badPhone(random, goodPhone)
      break
    case "INVALID_ZIP":
      zip = badZip(random, goodZip)
      break
    case "MISSING_NAME":
      companyName = null
      break
    case "INVALID_WEBSITE":
      website = badWebsite(random, domain)
      domainValue = null
      break
  }

  const older = index < olderCompanyCount
  const batch = older ? olderBatchIds[index % olderBatchIds.length]! : demoBatchId
  const micros = older
    ? olderStarts[index % olderStarts.length]! + index * 1_250_017
    : batchStart + (index - olderCompanyCount) * 37_411 + random.int(0, 999)
  const at = timestamps.format(micros)

  return withRulesOutcome<Validated & DemoCompany>(Company, {
    company_unique_id: demoCompanyKey(index),
    company_name: companyName,
    domain: domainValue,
    industry: hasIndustry ? industry.name : null,
    employee_count: employees,
    website,
    phone,
    address,
    city: town.city,
    state: "WV",
    zip,
    validation_status: null,
    reason_code: "",
    validation_errors: null,
    validation_warnings: null,
    failed_at: at,
    reviewed: false,
    batch_id: batch,
    source_table: Company.rawTable,
    created_at: at,
    updated_at: at,
    enrichment_status: null,
    enriched_at: null,
    enriched_by: null,
    still_invalid: false
  })
}

/** The demo companies, lazily, in key order. */
export function* demoCompanies(options: DemoDataOptions = {}): Generator<DemoCompany> {
  const count = options.companies ?? defaults.companies
  const seed = options.seed ?? defaults.seed
  const timestamps = new TimestampFormatter()
  for (let i = 0; i < count; i++) yield makeCompany(i, seed, timestamps)
}

// ---------------------------------------------------------------------------------------------------------
// people

/** The flaw the generator gives a person (named after its reason code); cycles so that even the 5 default people show all three. */
const personProblems = [
  "EMPTY_EMAIL",
  "INVALID_EMAIL",
  "INVALID_LINKEDIN_URL",
  "INVALID_EMAIL",
  "EMPTY_EMAIL"
] as const

/**
 * Demo person number `index` (0-based) for `seed`. Each works at one of the first `companies` demo
 * companies (at least the default 119, so people always point at real demo keys).
 */
const makePerson = (
  index: number,
  seed: number,
  companies: number,
  timestamps: TimestampFormatter
): DemoPerson => {
  const random = rowRandom(seed, personStream, index)
  const company = demoCompanyAt(random.int(0, Math.max(companies, 1) - 1), seed)
  const first = random.pick(firstNames)
  const last = random.pick(lastNames)
  const domain = company.domain ?? `${slug(company.company_name ?? `${last} family business`)}.com`
  const email = `${first}.${last}@${domain}`.toLowerCase()
  const handle = `${first}-${last}-${random.int(0x1000, 0xffff).toString(16)}`.toLowerCase()
  const linkedin = `https://www.linkedin.com/in/${handle}`
  const problem = personProblems[index % personProblems.length]!

  let row = { email: email as string | null, linkedin_url: linkedin }
  switch (problem) {
    case "EMPTY_EMAIL":
      row = { ...row, email: null }
      break
    case "INVALID_EMAIL": {
      const variant = random.int(0, 2)
      row = {
        ...row,
        email:
          variant === 0
            ? email.replace("@", ".")
            : variant === 1
              ? email.slice(0, email.indexOf("@") + 1)
              : email.replace(".", " ")
      }
      break
    }
    case "INVALID_LINKEDIN_URL": {
      const variant = random.int(0, 2)
      row = {
        ...row,
        linkedin_url:
          variant === 0
            ? `linkedin.com/${handle}`
            : variant === 1
              ? `https://www.linkedn.com/in/${handle}`
              : `https://www.facebook.com/${first}.${last}`.toLowerCase()
      }
      break
    }
  }
  const at = timestamps.format(batchStart + 4_600_000 + index * 52_183 + random.int(0, 999))
  return withRulesOutcome<Validated & DemoPerson>(Person, {
    unique_id: demoPersonKey(index),
    full_name: `${first} ${last}`,
    first_name: first,
    last_name: last,
    email: row.email,
    phone: phoneNumber(random),
    title: random.pick(titles),
    company_name: company.company_name,
    company_unique_id: company.company_unique_id,
    linkedin_url: row.linkedin_url,
    city: company.city,
    state: "WV",
    validation_status: null,
    reason_code: "",
    validation_errors: null,
    validation_warnings: null,
    failed_at: at,
    reviewed: false,
    batch_id: demoBatchId,
    source_table: Person.rawTable,
    created_at: at,
    updated_at: at,
    enrichment_status: null,
    enriched_at: null,
    enriched_by: null,
    still_invalid: false
  })
}

/** The demo people, lazily, in key order. */
export function* demoPeople(options: DemoDataOptions = {}): Generator<DemoPerson> {
  const count = options.people ?? defaults.people
  const seed = options.seed ?? defaults.seed
  const companies = Math.max(options.companies ?? defaults.companies, defaults.companies)
  const timestamps = new TimestampFormatter()
  for (let i = 0; i < count; i++) yield makePerson(i, seed, companies, timestamps)
}

// ---------------------------------------------------------------------------------------------------------
// COPY

/** Rows as COPY text, in chunks of about 64 KB (one write per chunk, not per row). */
function* copyChunks<Row>(rows: Iterable<Row>, columns: ReadonlyArray<keyof Row>): Generator<string> {
  let chunk = ""
  for (const row of rows) {
    chunk += copyTextLine(columns.map((column) => row[column]))
    if (chunk.length >= 65_536) {
      yield chunk
      chunk = ""
    }
  }
  if (chunk !== "") yield chunk
}

const copyInto = async <Row>(
  client: pg.Client,
  table: string,
  columns: ReadonlyArray<keyof Row>,
  rows: Iterable<Row>
): Promise<number> => {
  const sink = client.query(copyFrom(`COPY ${table} (${columns.join(", ")}) FROM STDIN`))
  await pipeline(Readable.from(copyChunks(rows, columns)), sink)
  return sink.rowCount
}

/**
 * Streams the demo rows into `marketing.company_invalid` and `marketing.people_invalid` of the database at
 * `url` (which must already have both tables), in one transaction, with COPY; `id` comes from the
 * bigserial. Returns how many rows of each were written.
 */
export const seedDemoData = (
  url: string,
  options: DemoDataOptions = {}
): Promise<{ readonly companies: number; readonly people: number }> =>
  withClient(url, async (client) => {
    try {
      await client.query("BEGIN")
      const companies = await copyInto(
        client,
        qualified(Company.sourceTable),
        demoCompanyColumns,
        demoCompanies(options)
      )
      const people = await copyInto(
        client,
        qualified(Person.sourceTable),
        demoPersonColumns,
        demoPeople(options)
      )
      await client.query("COMMIT")
      return { companies, people }
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined)
      throw error
    }
  })
