import { assert, describe, it } from "@effect/vitest"
import { Company } from "../src/Company.ts"
import { Person } from "../src/Person.ts"
import type { SyncRecord, SyncValue } from "../src/Projection.ts"
import type { ValidationOutcome } from "../src/Validation.ts"
import { reasonCodes, validate, validateCompany, validatePerson } from "../src/Validation.ts"
import { blank, fixHint } from "./support/Records.ts"

type Fields = { readonly [field: string]: SyncValue }

/** The guide's enriched company (its manual UPDATE), as a projected sync record. */
const company = (overrides: Fields = {}): SyncRecord => ({
  ...blank(Company),
  company_unique_id: "04.04.01.01.00101.101",
  company_name: "Monongalia County Commission",
  website: "https://monongaliacounty.com",
  domain: "monongaliacounty.com",
  industry: "Government Administration",
  employee_count: 250,
  phone: "(304) 291-7257",
  address: "243 High Street",
  city: "Morgantown",
  state: "WV",
  zip: "26505",
  enrichment_status: "complete",
  enriched_by: "enricher@example.com",
  neon_id: 101,
  reason_code: "EMPTY_WEBSITE",
  validation_errors: { website: "empty or blank" },
  validation_status: "FAILED",
  batch_id: "INTAKE-20251107-163209-b26be042",
  ...overrides
})

const person = (overrides: Fields = {}): SyncRecord => ({
  ...blank(Person),
  unique_id: "04.04.02.04.20000.001",
  full_name: "Jane Doe",
  first_name: "Jane",
  last_name: "Doe",
  email: "jane.doe@monongaliacounty.com",
  phone: "304-291-7257",
  title: "County Administrator",
  company_name: "Monongalia County Commission",
  company_unique_id: "04.04.01.01.00101.101",
  linkedin_url: "https://www.linkedin.com/in/jane-doe-123",
  city: "Morgantown",
  state: "WV",
  enrichment_status: "complete",
  ...overrides
})

/** One table row: a change to a valid record and what validation must say about it. */
interface Case {
  readonly label: string
  readonly set: Fields
  /** the expected reason code (`PASSED` when the record passes) */
  readonly reason: string
  /** fields with errors, in priority order (default: none) */
  readonly errors?: ReadonlyArray<string>
  /** fields with warnings (default: none) */
  readonly warnings?: ReadonlyArray<string>
  /** text the first error's message (or the first warning, when passed) must contain */
  readonly says?: string
  /** the expected derived values (default: none) */
  readonly derived?: Fields
}

const expectOutcome = (outcome: ValidationOutcome, c: Case) => {
  assert.strictEqual(outcome.reasonCode, c.reason)
  assert.strictEqual(outcome.status, c.reason === "PASSED" ? "PASSED" : "FAILED")
  assert.deepStrictEqual(Object.keys(outcome.errors), [...(c.errors ?? [])])
  assert.deepStrictEqual(Object.keys(outcome.warnings).sort(), [...(c.warnings ?? [])].sort())
  assert.deepStrictEqual(outcome.derived, c.derived ?? {})
  const first = c.errors?.[0] ?? c.warnings?.[0]
  const message = first === undefined ? undefined : (outcome.errors[first] ?? outcome.warnings[first])
  if (c.says !== undefined) {
    assert.isDefined(message)
    assert.include(message, c.says)
  }
  for (const [field, text] of Object.entries(outcome.errors)) {
    if (field === "website" && text === "empty or blank") continue
    assert.match(text, fixHint, `the message for ${field} says how to fix it: ${text}`)
  }
}

describe("the sync guide's records", () => {
  it("a company without a website fails exactly as the seed says", () => {
    const outcome = validateCompany(company({ website: null, domain: null }))
    assert.deepStrictEqual(outcome, {
      status: "FAILED",
      errors: { website: "empty or blank" },
      warnings: {},
      reasonCode: "EMPTY_WEBSITE",
      derived: {}
    })
  })

  it("the guide's enriched company passes", () => {
    assert.deepStrictEqual(validateCompany(company()), {
      status: "PASSED",
      errors: {},
      warnings: {},
      reasonCode: "PASSED",
      derived: {}
    })
  })

  it("a valid person passes", () => {
    assert.deepStrictEqual(validatePerson(person()), {
      status: "PASSED",
      errors: {},
      warnings: {},
      reasonCode: "PASSED",
      derived: {}
    })
  })

  it("validate dispatches on the entity", () => {
    const c = company({ website: "www.monongaliacounty.com" })
    const p = person({ email: "mailto:jane@monongaliacounty.com" })
    assert.deepStrictEqual(validate(Company, c), validateCompany(c))
    assert.deepStrictEqual(validate(Person, p), validatePerson(p))
    assert.strictEqual(validate(Company, c).reasonCode, "INVALID_WEBSITE")
    assert.strictEqual(validate(Person, p).reasonCode, "INVALID_EMAIL")
  })
})

const companyCases: ReadonlyArray<Case> = [
  // website
  { label: "website: missing", set: { website: null }, reason: "EMPTY_WEBSITE", errors: ["website"] },
  {
    label: "website: www. without a scheme suggests https://www.",
    set: { website: "www.monongaliacounty.com" },
    reason: "INVALID_WEBSITE",
    errors: ["website"],
    says: "write it as https://www.monongaliacounty.com"
  },
  {
    label: "website: a bare domain suggests https://",
    set: { website: "monongaliacounty.com/contact" },
    reason: "INVALID_WEBSITE",
    errors: ["website"],
    says: "write it as https://monongaliacounty.com/contact"
  },
  {
    label: "website: upper case is fine",
    set: { website: "HTTPS://WWW.MONONGALIACOUNTY.COM/" },
    reason: "PASSED"
  },
  { label: "website: http is fine", set: { website: "http://monongaliacounty.com" }, reason: "PASSED" },
  {
    label: "website: a page with a path and a query is fine",
    set: { website: "https://monongaliacounty.com/about-us?ref=google#top" },
    reason: "PASSED"
  },
  {
    label: "website: a port is fine",
    set: { website: "https://monongaliacounty.com:8443/" },
    reason: "PASSED"
  },
  {
    label: "website: a trailing dot on the host is accepted with a warning",
    set: { website: "https://monongaliacounty.com./" },
    reason: "PASSED",
    warnings: ["website"],
    says: "write https://monongaliacounty.com"
  },
  {
    label: "website: an IDN host with its Unicode domain",
    set: { website: "https://bücher.de", domain: "bücher.de" },
    reason: "PASSED"
  },
  {
    label: "website: an IDN host with its punycode domain",
    set: { website: "https://www.bücher.de/impressum", domain: "xn--bcher-kva.de" },
    reason: "PASSED"
  },
  {
    label: "website: an IDN host derives its punycode domain",
    set: { website: "https://BÜCHER.de", domain: null },
    reason: "PASSED",
    derived: { domain: "xn--bcher-kva.de" }
  },
  {
    label: "website: ftp:// is not http(s)",
    set: { website: "ftp://monongaliacounty.com" },
    reason: "INVALID_WEBSITE",
    errors: ["website"],
    says: "write it as https://monongaliacounty.com"
  },
  {
    label: "website: a malformed scheme",
    set: { website: "http:/monongaliacounty.com" },
    reason: "INVALID_WEBSITE",
    errors: ["website"],
    says: "write it as http://monongaliacounty.com"
  },
  {
    label: "website: the scheme pasted twice",
    set: { website: "https://https://monongaliacounty.com" },
    reason: "INVALID_WEBSITE",
    errors: ["website"],
    says: "written twice: write it as https://monongaliacounty.com"
  },
  {
    label: "website: a mailto: link",
    set: { website: "mailto:info@monongaliacounty.com" },
    reason: "INVALID_WEBSITE",
    errors: ["website"],
    says: "an email address, not a website: write the company's site, e.g. https://monongaliacounty.com"
  },
  {
    label: "website: an email address",
    set: { website: "info@monongaliacounty.com" },
    reason: "INVALID_WEBSITE",
    errors: ["website"],
    says: "https://monongaliacounty.com"
  },
  {
    label: "website: N/A",
    set: { website: "N/A" },
    reason: "INVALID_WEBSITE",
    errors: ["website"],
    says: "placeholder"
  },
  {
    label: "website: a spreadsheet #N/A",
    set: { website: "#N/A" },
    reason: "INVALID_WEBSITE",
    errors: ["website"],
    says: "placeholder"
  },
  {
    label: "website: no top-level domain",
    set: { website: "https://localhost/" },
    reason: "INVALID_WEBSITE",
    errors: ["website"],
    says: "no top-level domain"
  },
  {
    label: "website: an IP address",
    set: { website: "http://192.168.1.10/" },
    reason: "INVALID_WEBSITE",
    errors: ["website"],
    says: "IP address"
  },
  {
    label: "website: spaces in the host",
    set: { website: "https://monongalia county.com" },
    reason: "INVALID_WEBSITE",
    errors: ["website"],
    says: "spaces"
  },
  {
    label: "website: an underscore in the host",
    set: { website: "https://monongalia_county.com" },
    reason: "INVALID_WEBSITE",
    errors: ["website"],
    says: "cannot hold"
  },
  {
    label: "website: a label starting with a hyphen",
    set: { website: "https://-monongalia.com" },
    reason: "INVALID_WEBSITE",
    errors: ["website"],
    says: "hyphen"
  },
  {
    label: "website: a top-level domain with a digit",
    set: { website: "https://monongaliacounty.c0m" },
    reason: "INVALID_WEBSITE",
    errors: ["website"],
    says: "not letters"
  },
  {
    label: "website: two dots in a row",
    set: { website: "https://monongaliacounty..com" },
    reason: "INVALID_WEBSITE",
    errors: ["website"],
    says: "empty label"
  },
  {
    label: "website: credentials in the URL",
    set: { website: "https://admin:secret@monongaliacounty.com/" },
    reason: "INVALID_WEBSITE",
    errors: ["website"],
    says: "write it without them, as https://monongaliacounty.com"
  },
  {
    label: "website: protocol-relative",
    set: { website: "//monongaliacounty.com" },
    reason: "INVALID_WEBSITE",
    errors: ["website"],
    says: "write it as https://monongaliacounty.com"
  },
  {
    label: "website: a Facebook page is accepted with a warning and derives no domain",
    set: { website: "https://www.facebook.com/MonongaliaCounty", domain: null },
    reason: "PASSED",
    warnings: ["website"],
    says: "facebook.com page"
  },
  {
    label: "website: a Facebook page is not compared with the domain",
    set: { website: "https://www.facebook.com/MonongaliaCounty" },
    reason: "PASSED",
    warnings: ["website"]
  },
  // domain
  {
    label: "domain: upper case is consistent, with a warning",
    set: { domain: "MonongaliaCounty.COM" },
    reason: "PASSED",
    warnings: ["domain"],
    says: "write monongaliacounty.com"
  },
  {
    label: "domain: a www. prefix is consistent, with a warning",
    set: { domain: "www.monongaliacounty.com" },
    reason: "PASSED",
    warnings: ["domain"],
    says: "write monongaliacounty.com"
  },
  {
    label: "domain: a trailing dot is consistent, with a warning",
    set: { domain: "monongaliacounty.com." },
    reason: "PASSED",
    warnings: ["domain"],
    says: "final dot: write monongaliacounty.com"
  },
  {
    label: "domain: the website's www. is ignored",
    set: { website: "https://www.monongaliacounty.com" },
    reason: "PASSED"
  },
  {
    label: "domain: missing is derived from the website",
    set: { domain: null },
    reason: "PASSED",
    derived: { domain: "monongaliacounty.com" }
  },
  {
    label: "domain: derived in lower case, without www. and the final dot",
    set: { website: "HTTP://WWW.MonongaliaCounty.COM./Home", domain: null },
    reason: "PASSED",
    warnings: ["website"],
    derived: { domain: "monongaliacounty.com" }
  },
  {
    label: "domain: a URL is an error that names the host",
    set: { domain: "https://monongaliacounty.com/" },
    reason: "INVALID_DOMAIN",
    errors: ["domain"],
    says: "a URL, not a domain: write just the domain, monongaliacounty.com"
  },
  {
    label: "domain: a host with a path",
    set: { domain: "monongaliacounty.com/contact" },
    reason: "INVALID_DOMAIN",
    errors: ["domain"],
    says: "monongaliacounty.com"
  },
  {
    label: "domain: an email address",
    set: { domain: "info@monongaliacounty.com" },
    reason: "INVALID_DOMAIN",
    errors: ["domain"],
    says: "an email address, not a domain"
  },
  {
    label: "domain: no top-level domain",
    set: { domain: "monongaliacounty" },
    reason: "INVALID_DOMAIN",
    errors: ["domain"],
    says: "no top-level domain"
  },
  {
    label: "domain: a port",
    set: { domain: "monongaliacounty.com:443" },
    reason: "INVALID_DOMAIN",
    errors: ["domain"]
  },
  {
    label: "domain: another company's domain",
    set: { domain: "wvcounty.org" },
    reason: "DOMAIN_MISMATCH",
    errors: ["domain"],
    says: "write monongaliacounty.com, or correct the website"
  },
  {
    label: "domain: a website on a subdomain of the domain is consistent, with a warning",
    set: { website: "https://gis.monongaliacounty.com/maps", domain: "monongaliacounty.com" },
    reason: "PASSED",
    warnings: ["domain"],
    says: "subdomain"
  },
  {
    label: "domain: a subdomain of the website's host does not match",
    set: { domain: "gis.monongaliacounty.com" },
    reason: "DOMAIN_MISMATCH",
    errors: ["domain"]
  },
  {
    label: "domain: without a website only the website fails, nothing is derived",
    set: { website: null, domain: null },
    reason: "EMPTY_WEBSITE",
    errors: ["website"]
  },
  {
    label: "domain: an invalid website derives nothing",
    set: { website: "monongaliacounty", domain: null },
    reason: "INVALID_WEBSITE",
    errors: ["website"]
  },
  {
    label: "domain: checked on its own when the website is missing",
    set: { website: null, domain: "https://monongaliacounty.com" },
    reason: "EMPTY_WEBSITE",
    errors: ["website", "domain"]
  },
  // name and key
  {
    label: "name: missing",
    set: { company_name: null },
    reason: "MISSING_NAME",
    errors: ["company_name"],
    says: "write the company's name"
  },
  {
    label: "name: a placeholder",
    set: { company_name: "N/A" },
    reason: "MISSING_NAME",
    errors: ["company_name"]
  },
  {
    label: "key: a Barton ID without its padding",
    set: { company_unique_id: "4.4.1.1.101.101" },
    reason: "INVALID_BARTON_ID",
    errors: ["company_unique_id"],
    says: "NN.NN.NN.NN.NNNNN.NNN"
  },
  {
    label: "key: a letter O for a zero",
    set: { company_unique_id: "04.04.01.01.00101.1O1" },
    reason: "INVALID_BARTON_ID",
    errors: ["company_unique_id"]
  },
  {
    label: "key: missing",
    set: { company_unique_id: null },
    reason: "INVALID_BARTON_ID",
    errors: ["company_unique_id"]
  },
  // employee count
  { label: "employees: zero", set: { employee_count: 0 }, reason: "PASSED" },
  { label: "employees: unknown", set: { employee_count: null }, reason: "PASSED" },
  {
    label: "employees: negative",
    set: { employee_count: -3 },
    reason: "NEGATIVE_EMPLOYEE_COUNT",
    errors: ["employee_count"],
    says: "negative (-3)"
  },
  {
    label: "employees: a fraction",
    set: { employee_count: 12.5 },
    reason: "INVALID_EMPLOYEE_COUNT",
    errors: ["employee_count"]
  },
  {
    label: "employees: text",
    set: { employee_count: "250" },
    reason: "WRONG_TYPE",
    errors: ["employee_count"]
  },
  // phone
  { label: "phone: (304) 555-0101", set: { phone: "(304) 555-0101" }, reason: "PASSED" },
  { label: "phone: 304.555.0101", set: { phone: "304.555.0101" }, reason: "PASSED" },
  { label: "phone: +1 304 555 0101", set: { phone: "+1 304 555 0101" }, reason: "PASSED" },
  { label: "phone: 1-304-555-0101", set: { phone: "1-304-555-0101" }, reason: "PASSED" },
  { label: "phone: digits only", set: { phone: "3045550101" }, reason: "PASSED" },
  { label: "phone: en dashes from a word processor", set: { phone: "304–555–0101" }, reason: "PASSED" },
  { label: "phone: extension x123", set: { phone: "304-555-0101 x123" }, reason: "PASSED" },
  { label: "phone: extension ext. 123", set: { phone: "(304) 555-0101 ext. 123" }, reason: "PASSED" },
  {
    label: "phone: an international number is accepted with a warning",
    set: { phone: "+44 20 7946 0958" },
    reason: "PASSED",
    warnings: ["phone"],
    says: "international"
  },
  {
    label: "phone: no area code",
    set: { phone: "555-0101" },
    reason: "INVALID_PHONE",
    errors: ["phone"],
    says: "area code is missing"
  },
  {
    label: "phone: an area code starting with 1",
    set: { phone: "(123) 555-0101" },
    reason: "INVALID_PHONE",
    errors: ["phone"],
    says: "area code (123)"
  },
  {
    label: "phone: an exchange starting with 1",
    set: { phone: "(304) 155-0101" },
    reason: "INVALID_PHONE",
    errors: ["phone"],
    says: "exchange (155"
  },
  {
    label: "phone: letters",
    set: { phone: "1-800-FLOWERS" },
    reason: "INVALID_PHONE",
    errors: ["phone"],
    says: "letters"
  },
  {
    label: "phone: two numbers",
    set: { phone: "304-555-0101 / 304-555-0102" },
    reason: "INVALID_PHONE",
    errors: ["phone"],
    says: "keep one"
  },
  {
    label: "phone: a tel: link",
    set: { phone: "tel:+13045550101" },
    reason: "INVALID_PHONE",
    errors: ["phone"],
    says: "write just the number, +13045550101"
  },
  {
    label: "phone: +1 with a digit missing",
    set: { phone: "+1 304 555 010" },
    reason: "INVALID_PHONE",
    errors: ["phone"],
    says: "10 digits after +1"
  },
  {
    label: "phone: the 011 prefix",
    set: { phone: "011 44 20 7946 0958" },
    reason: "INVALID_PHONE",
    errors: ["phone"],
    says: "write + instead"
  },
  {
    label: "phone: too short an international number",
    set: { phone: "+44 123" },
    reason: "INVALID_PHONE",
    errors: ["phone"]
  },
  // state
  { label: "state: WV", set: { state: "WV" }, reason: "PASSED" },
  { label: "state: DC", set: { state: "DC" }, reason: "PASSED" },
  { label: "state: a territory (PR)", set: { state: "PR" }, reason: "PASSED" },
  {
    label: "state: lower case is accepted with a warning",
    set: { state: "wv" },
    reason: "PASSED",
    warnings: ["state"],
    says: "write WV"
  },
  {
    label: "state: the state's name",
    set: { state: "West Virginia" },
    reason: "INVALID_STATE",
    errors: ["state"],
    says: "write the two-letter code WV"
  },
  {
    label: "state: with dots",
    set: { state: "W.V." },
    reason: "INVALID_STATE",
    errors: ["state"],
    says: "WV"
  },
  { label: "state: not a state", set: { state: "ZZ" }, reason: "INVALID_STATE", errors: ["state"] },
  // zip
  { label: "zip: 5 digits", set: { zip: "26505" }, reason: "PASSED" },
  { label: "zip: ZIP+4", set: { zip: "26505-1234" }, reason: "PASSED" },
  {
    label: "zip: the leading zero lost by a spreadsheet",
    set: { zip: "2134" },
    reason: "INVALID_ZIP",
    errors: ["zip"],
    says: "leading zero: write 02134"
  },
  {
    label: "zip: ZIP+4 without its hyphen",
    set: { zip: "265051234" },
    reason: "INVALID_ZIP",
    errors: ["zip"],
    says: "write 26505-1234"
  },
  {
    label: "zip: a decimal number from a spreadsheet",
    set: { zip: "26505.0" },
    reason: "INVALID_ZIP",
    errors: ["zip"],
    says: "write 26505"
  },
  { label: "zip: letters", set: { zip: "ABCDE" }, reason: "INVALID_ZIP", errors: ["zip"] },
  // types and priority
  { label: "type: a number as the website", set: { website: 42 }, reason: "WRONG_TYPE", errors: ["website"] },
  {
    label: "type: a number as the phone",
    set: { phone: 3045550101 },
    reason: "WRONG_TYPE",
    errors: ["phone"]
  },
  { label: "type: a list as the state", set: { state: ["WV"] }, reason: "WRONG_TYPE", errors: ["state"] },
  {
    label: "type: an object as the city",
    set: { city: { name: "Morgantown" } },
    reason: "WRONG_TYPE",
    errors: ["city"]
  },
  {
    label: "priority: the name before the website",
    set: { company_name: null, website: null },
    reason: "MISSING_NAME",
    errors: ["company_name", "website"]
  },
  {
    label: "priority: the key before everything",
    set: { company_unique_id: "x", zip: "1", state: "Virginia", phone: "555" },
    reason: "INVALID_BARTON_ID",
    errors: ["company_unique_id", "phone", "state", "zip"]
  }
]

describe("validateCompany", () => {
  it.each(companyCases)("$label", (c) => {
    expectOutcome(validateCompany(company(c.set)), c)
  })
})

const personCases: ReadonlyArray<Case> = [
  // email
  {
    label: "email: missing",
    set: { email: null },
    reason: "EMPTY_EMAIL",
    errors: ["email"],
    says: "write the person's email address"
  },
  {
    label: "email: a pasted mailto:",
    set: { email: "mailto:jane.doe@monongaliacounty.com" },
    reason: "INVALID_EMAIL",
    errors: ["email"],
    says: "write just the address, jane.doe@monongaliacounty.com"
  },
  {
    label: "email: MAILTO: with a subject",
    set: { email: "MAILTO:jane.doe@monongaliacounty.com?subject=Hello" },
    reason: "INVALID_EMAIL",
    errors: ["email"],
    says: "write just the address, jane.doe@monongaliacounty.com"
  },
  {
    label: "email: a display name",
    set: { email: "Jane Doe <jane.doe@monongaliacounty.com>" },
    reason: "INVALID_EMAIL",
    errors: ["email"],
    says: "write just the address, jane.doe@monongaliacounty.com"
  },
  {
    label: "email: angle brackets",
    set: { email: "<jane.doe@monongaliacounty.com>" },
    reason: "INVALID_EMAIL",
    errors: ["email"],
    says: "jane.doe@monongaliacounty.com"
  },
  {
    label: "email: no top-level domain",
    set: { email: "jane.doe@monongaliacounty" },
    reason: "INVALID_EMAIL",
    errors: ["email"],
    says: "no top-level domain"
  },
  {
    label: "email: two dots in a row",
    set: { email: "jane..doe@monongaliacounty.com" },
    reason: "INVALID_EMAIL",
    errors: ["email"],
    says: "write jane.doe@monongaliacounty.com"
  },
  {
    label: "email: a leading dot",
    set: { email: ".jane@monongaliacounty.com" },
    reason: "INVALID_EMAIL",
    errors: ["email"],
    says: "write jane@monongaliacounty.com"
  },
  {
    label: "email: a trailing dot before the @",
    set: { email: "jane.@monongaliacounty.com" },
    reason: "INVALID_EMAIL",
    errors: ["email"]
  },
  {
    label: "email: a trailing dot after the domain",
    set: { email: "jane.doe@monongaliacounty.com." },
    reason: "INVALID_EMAIL",
    errors: ["email"],
    says: "write jane.doe@monongaliacounty.com"
  },
  {
    label: "email: a space",
    set: { email: "jane doe@monongaliacounty.com" },
    reason: "INVALID_EMAIL",
    errors: ["email"],
    says: "write janedoe@monongaliacounty.com"
  },
  {
    label: "email: two addresses",
    set: { email: "jane@monongaliacounty.com, jdoe@gmail.com" },
    reason: "INVALID_EMAIL",
    errors: ["email"],
    says: "keep one"
  },
  {
    label: "email: a stray semicolon",
    set: { email: "jane.doe@monongaliacounty.com;" },
    reason: "INVALID_EMAIL",
    errors: ["email"],
    says: "write jane.doe@monongaliacounty.com"
  },
  {
    label: "email: a doubled @",
    set: { email: "jane.doe@@monongaliacounty.com" },
    reason: "INVALID_EMAIL",
    errors: ["email"],
    says: "write jane.doe@monongaliacounty.com"
  },
  {
    label: "email: (at) for @",
    set: { email: "jane.doe(at)monongaliacounty.com" },
    reason: "INVALID_EMAIL",
    errors: ["email"],
    says: "no @"
  },
  {
    label: "email: a one-letter top-level domain",
    set: { email: "jane@monongaliacounty.c" },
    reason: "INVALID_EMAIL",
    errors: ["email"]
  },
  {
    label: "email: an IP address",
    set: { email: "jane@192.168.1.1" },
    reason: "INVALID_EMAIL",
    errors: ["email"]
  },
  { label: "email: a placeholder", set: { email: "n/a" }, reason: "INVALID_EMAIL", errors: ["email"] },
  { label: "email: upper case is fine", set: { email: "JANE.DOE@MONONGALIACOUNTY.COM" }, reason: "PASSED" },
  { label: "email: a plus tag is fine", set: { email: "jane+crm@monongaliacounty.com" }, reason: "PASSED" },
  { label: "email: an IDN domain is fine", set: { email: "jürgen@bücher.de" }, reason: "PASSED" },
  // linkedin
  { label: "linkedin: missing is fine", set: { linkedin_url: null }, reason: "PASSED" },
  {
    label: "linkedin: a country subdomain and a trailing slash",
    set: { linkedin_url: "https://uk.linkedin.com/in/jane-doe-123/" },
    reason: "PASSED"
  },
  {
    label: "linkedin: tracking parameters are fine",
    set: { linkedin_url: "https://www.linkedin.com/in/jane-doe-123?originalSubdomain=uk" },
    reason: "PASSED"
  },
  {
    label: "linkedin: upper case is fine",
    set: { linkedin_url: "HTTPS://WWW.LINKEDIN.COM/in/Jane-Doe" },
    reason: "PASSED"
  },
  {
    label: "linkedin: no scheme is accepted with a warning",
    set: { linkedin_url: "www.linkedin.com/in/jane-doe-123" },
    reason: "PASSED",
    warnings: ["linkedin_url"],
    says: "write https://www.linkedin.com/in/jane-doe-123"
  },
  {
    label: "linkedin: extra path after the profile is accepted with a warning",
    set: { linkedin_url: "https://www.linkedin.com/in/jane-doe-123/overlay/contact-info/" },
    reason: "PASSED",
    warnings: ["linkedin_url"],
    says: "write https://www.linkedin.com/in/jane-doe-123"
  },
  {
    label: "linkedin: a company page",
    set: { linkedin_url: "https://www.linkedin.com/company/monongalia-county" },
    reason: "INVALID_LINKEDIN_URL",
    errors: ["linkedin_url"],
    says: "a company page, not a person's profile"
  },
  {
    label: "linkedin: an old /pub/ URL",
    set: { linkedin_url: "http://www.linkedin.com/pub/jane-doe/12/345/678" },
    reason: "INVALID_LINKEDIN_URL",
    errors: ["linkedin_url"],
    says: "/pub/"
  },
  {
    label: "linkedin: no profile name",
    set: { linkedin_url: "https://www.linkedin.com/in/" },
    reason: "INVALID_LINKEDIN_URL",
    errors: ["linkedin_url"]
  },
  {
    label: "linkedin: a shortened link",
    set: { linkedin_url: "https://lnkd.in/eXaMpLe" },
    reason: "INVALID_LINKEDIN_URL",
    errors: ["linkedin_url"],
    says: "shortened"
  },
  {
    label: "linkedin: a look-alike host",
    set: { linkedin_url: "https://linkedin.com.example.net/in/jane" },
    reason: "INVALID_LINKEDIN_URL",
    errors: ["linkedin_url"]
  },
  {
    label: "linkedin: a typo in the host",
    set: { linkedin_url: "https://www.linkedln.com/in/jane" },
    reason: "INVALID_LINKEDIN_URL",
    errors: ["linkedin_url"]
  },
  {
    label: "linkedin: just the slug",
    set: { linkedin_url: "jane-doe-123" },
    reason: "INVALID_LINKEDIN_URL",
    errors: ["linkedin_url"]
  },
  {
    label: "linkedin: a search page",
    set: { linkedin_url: "https://www.linkedin.com/search/results/people/?keywords=jane" },
    reason: "INVALID_LINKEDIN_URL",
    errors: ["linkedin_url"],
    says: "not a profile URL"
  },
  // names
  { label: "name: first and last without full", set: { full_name: null }, reason: "PASSED" },
  {
    label: "name: full without first and last",
    set: { first_name: null, last_name: null },
    reason: "PASSED"
  },
  {
    label: "name: only a first name",
    set: { full_name: null, last_name: null },
    reason: "MISSING_NAME",
    errors: ["full_name"],
    says: "fill last_name"
  },
  {
    label: "name: none at all",
    set: { full_name: null, first_name: null, last_name: null },
    reason: "MISSING_NAME",
    errors: ["full_name"]
  },
  {
    label: "name: a placeholder full name",
    set: { full_name: "N/A", first_name: null, last_name: null },
    reason: "MISSING_NAME",
    errors: ["full_name"]
  },
  // ids
  { label: "company id: missing is fine", set: { company_unique_id: null }, reason: "PASSED" },
  {
    label: "company id: not a Barton ID",
    set: { company_unique_id: "04.04.01.01.00101" },
    reason: "INVALID_COMPANY_ID",
    errors: ["company_unique_id"]
  },
  {
    label: "key: not a Barton ID",
    set: { unique_id: "P-0001" },
    reason: "INVALID_BARTON_ID",
    errors: ["unique_id"]
  },
  // phone and state, shared with companies
  { label: "phone: invalid", set: { phone: "291-7257" }, reason: "INVALID_PHONE", errors: ["phone"] },
  { label: "phone: missing is fine", set: { phone: null }, reason: "PASSED" },
  { label: "state: lower case", set: { state: "wv" }, reason: "PASSED", warnings: ["state"] },
  // types and priority
  {
    label: "type: a list of emails",
    set: { email: ["jane@monongaliacounty.com"] },
    reason: "WRONG_TYPE",
    errors: ["email"]
  },
  { label: "type: a boolean title", set: { title: true }, reason: "WRONG_TYPE", errors: ["title"] },
  {
    label: "priority: the key, then the name, then the email",
    set: { unique_id: null, full_name: null, first_name: null, email: null, linkedin_url: "x" },
    reason: "INVALID_BARTON_ID",
    errors: ["unique_id", "full_name", "email", "linkedin_url"]
  }
]

describe("validatePerson", () => {
  it.each(personCases)("$label", (c) => {
    expectOutcome(validatePerson(person(c.set)), c)
  })
})

describe("reasonCodes", () => {
  it("are SCREAMING_SNAKE and each has a meaning", () => {
    for (const [code, meaning] of Object.entries(reasonCodes)) {
      assert.match(code, /^[A-Z]+(?:_[A-Z]+)*$/)
      assert.isAbove(meaning.length, 10)
    }
  })

  it("list every code the tables produce, and the tables produce every listed code", () => {
    const produced = new Set([...companyCases, ...personCases].map((c) => c.reason))
    assert.deepStrictEqual([...produced].sort(), Object.keys(reasonCodes).sort())
  })
})
