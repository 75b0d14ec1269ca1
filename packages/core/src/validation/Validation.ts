/**
 * Validation: the rules a record must pass to leave the invalid table for the master table (the sync
 * guide's re-validation stage, run on every pushed record). Rules run on a projected sync record
 * (`SyncRecord`), so text is already trimmed and empty text is `null`; the rules still trim and accept any
 * JSON value.
 *
 * Each failing field gets one error (field -> message). A message says what is wrong and how to fix it,
 * because enrichers read it in the workspace. The reason code is the code of the first error in a fixed
 * field priority (`companyFieldPriority`, `personFieldPriority`), or `PASSED`. The missing website keeps the
 * seed's wording exactly: `{"website": "empty or blank"}` with `EMPTY_WEBSITE`.
 *
 * Leniencies, each with a warning: a domain written with upper case, `www.` or a final dot; a website on a
 * subdomain of the domain (`shop.acme.com` for `acme.com`); a website that is a page on a hosting platform
 * (`hostingPlatforms`: no domain is derived from it or compared with it); a lower-case state; a `+`
 * international phone; a LinkedIn URL without its scheme or with more path after the profile name.
 *
 * Invariant: validation is total, pure and deterministic: it never throws, whatever the record holds
 * (values of the wrong type are errors in the outcome), the status is `PASSED` exactly when there are no
 * errors, and applying `derived` to the record and validating again derives nothing more and adds no error.
 */
import { domainToASCII } from "node:url"
import type { Entity } from "./Entity.ts"
import type { SyncRecord, SyncValue } from "./Projection.ts"
import { trimmedCharacters, trimText } from "./TrimText.ts"

/**
 * The reason codes, with their meaning. `reason_code` is the code of the first error by field priority,
 * or `PASSED`.
 */
export const reasonCodes = {
  PASSED: "no errors: the record may be promoted to the master table",
  WRONG_TYPE: "a field holds a value of the wrong type (a number where text belongs, a list, an object, ...)",
  INVALID_BARTON_ID: "the record's key is empty or not a Barton ID (NN.NN.NN.NN.NNNNN.NNN)",
  MISSING_NAME:
    "no name: a company needs company_name; a person needs full_name, or first_name and last_name",
  EMPTY_WEBSITE: "the company has no website (the seed's code; the message is exactly `empty or blank`)",
  INVALID_WEBSITE: "the website is not an http(s) URL with a real host name",
  INVALID_DOMAIN:
    "the domain is not a bare domain name (a URL, an email address, spaces, no top-level domain)",
  DOMAIN_MISMATCH:
    "the domain is not the website's host (nor a parent of it), ignoring case, `www.` and a final dot",
  INVALID_EMPLOYEE_COUNT: "the employee count is not a whole number",
  NEGATIVE_EMPLOYEE_COUNT: "the employee count is negative",
  INVALID_PHONE:
    "the phone is not a plausible number (10 US digits, 11 starting with 1, or + and 8 to 15 digits)",
  INVALID_STATE: "the state is not a two-letter US state, DC or territory code",
  INVALID_ZIP: "the ZIP code is not 5 digits or ZIP+4 (12345-6789)",
  EMPTY_EMAIL: "the person has no email address",
  INVALID_EMAIL: "the email is not a single, syntactically valid address",
  INVALID_LINKEDIN_URL: "the LinkedIn URL is not a profile URL (linkedin.com/in/<name>)",
  INVALID_COMPANY_ID: "the person's company_unique_id is not a Barton ID"
} as const

/** A reason code (see `reasonCodes`). */
export type ReasonCode = keyof typeof reasonCodes

/** The outcome of validating one record. */
export interface ValidationOutcome {
  readonly status: "PASSED" | "FAILED"
  /** field -> what is wrong and how to fix it (Neon `validation_errors`); `{}` when PASSED */
  readonly errors: { readonly [field: string]: string }
  /** field -> what is suspicious but accepted (Neon `validation_warnings`) */
  readonly warnings: { readonly [field: string]: string }
  /** `PASSED`, or the code of the first error by field priority (Neon `reason_code`) */
  readonly reasonCode: string
  /** values the rules fill in: `{ domain }` from the website's host when the domain is missing */
  readonly derived: { readonly [field: string]: SyncValue }
}

/** The order in which company fields decide the reason code. */
export const companyFieldPriority: ReadonlyArray<string> = [
  "company_unique_id",
  "company_name",
  "website",
  "domain",
  "employee_count",
  "phone",
  "state",
  "zip",
  "industry",
  "address",
  "city"
]

/** The order in which person fields decide the reason code. */
export const personFieldPriority: ReadonlyArray<string> = [
  "unique_id",
  "full_name",
  "first_name",
  "last_name",
  "email",
  "company_unique_id",
  "linkedin_url",
  "phone",
  "state",
  "title",
  "company_name",
  "city"
]

// ---------------------------------------------------------------------------------------------------------
// Verdicts and reading values

type Verdict =
  | { readonly ok: true; readonly warning: string | null }
  | { readonly ok: false; readonly code: ReasonCode; readonly message: string }

const pass = (warning: string | null = null): Verdict => ({ ok: true, warning })
const fail = (code: ReasonCode, message: string): Verdict => ({ ok: false, code, message })

type Read =
  | { readonly kind: "absent" }
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "wrong"; readonly found: string }

/** A field's value, or null when the record does not hold it as its own property. */
const own = (record: SyncRecord, field: string): SyncValue =>
  Object.hasOwn(record, field) ? (record[field] ?? null) : null

const describeValue = (value: SyncValue): string => {
  if (typeof value === "number") return "a number"
  if (typeof value === "boolean") return "true/false"
  if (typeof value === "string") return "text"
  if (Array.isArray(value)) return "a list"
  return "an object"
}

/** Reads a text field: null, missing and blank are absent; other types are wrong. */
const readText = (record: SyncRecord, field: string): Read => {
  const value = own(record, field)
  if (value === null) return { kind: "absent" }
  if (typeof value !== "string") return { kind: "wrong", found: describeValue(value) }
  const text = trimText(value)
  return text === "" ? { kind: "absent" } : { kind: "text", text }
}

const wrongType = (found: string, example: string): Verdict =>
  fail("WRONG_TYPE", `holds ${found}, not text: write it as text, e.g. ${example}`)

/**
 * `text` without the characters of `chars` at its ends. (A loop, because a regular expression like `/\.+$/`
 * takes time quadratic in a long run of dots that is not at the end.)
 */
const strip = (text: string, chars: string, ends: "start" | "end" | "both" = "end"): string => {
  let start = 0
  let end = text.length
  if (ends !== "end") while (start < end && chars.includes(text[start]!)) start++
  if (ends !== "start") while (end > start && chars.includes(text[end - 1]!)) end--
  return text.slice(start, end)
}

/** The characters the projection trims, as a string. */
const spaces = String.fromCodePoint(...trimmedCharacters)

/** Long values are cut in messages (a message quotes the value it suggests). */
const shown = (text: string): string => (text.length > 120 ? `${text.slice(0, 117)}...` : text)

const placeholders = new Set([
  "n/a",
  "none",
  "null",
  "unknown",
  "tbd",
  "tba",
  "not available",
  "not applicable"
])
/** Text that stands for "no value": words typed for it, punctuation only, or a spreadsheet error (`#N/A`). */
const isPlaceholder = (text: string): boolean =>
  placeholders.has(text.toLowerCase()) ||
  /^[-?._/\\]+$/.test(text) ||
  /^#(?:N\/A|VALUE!|REF!|NAME\?|DIV\/0!|NUM!|NULL!)$/i.test(text)

// ---------------------------------------------------------------------------------------------------------
// Host names

/**
 * Why an ASCII host (lower case, no final dot) is not a domain name, or null when it is one: at least two
 * labels of letters, digits and inner hyphens (1 to 63 characters each), a top-level domain of letters or
 * punycode, 253 characters at most.
 */
const hostProblem = (host: string): string | null => {
  if (host === "") return "is empty"
  if (host.length > 253) return "is longer than 253 characters"
  if (/^\d+(?:\.\d+){3}$/.test(host) || host.startsWith("[")) return "is an IP address, not a domain name"
  const labels = host.split(".")
  if (labels.length < 2) return "has no top-level domain (like .com)"
  if (labels.some((label) => label === "")) return "has an empty label (two dots in a row, or a leading dot)"
  if (labels.some((label) => label.length > 63)) return "has a label longer than 63 characters"
  for (const label of labels) {
    if (label.startsWith("-") || label.endsWith("-"))
      return `has a part (${shown(label)}) that starts or ends with a hyphen`
    if (!/^[a-z0-9-]+$/.test(label)) return `has a character a domain name cannot hold (in ${shown(label)})`
  }
  const tld = labels[labels.length - 1]!
  if (!/^[a-z]{2,63}$/.test(tld) && !/^xn--[a-z0-9-]+$/.test(tld)) {
    return `has a top-level domain (.${shown(tld)}) that is not letters`
  }
  return null
}

const withoutFinalDot = (host: string): string => (host.endsWith(".") ? host.slice(0, -1) : host)

/** Drops leading `www.` labels while at least two labels remain (`www.com` stays). */
const withoutWww = (host: string): string => {
  let result = host
  while (result.startsWith("www.") && result.slice(4).includes(".")) result = result.slice(4)
  return result
}

/** The form domains and website hosts are compared in: ASCII, lower case, no final dot, no `www.`. */
const domainKey = (asciiHost: string): string => withoutWww(withoutFinalDot(asciiHost))

/** The `domainKey` of an ASCII host, or null when the host (without a final dot) is not a domain name. */
const domainKeyOf = (asciiHost: string): string | null =>
  hostProblem(withoutFinalDot(asciiHost)) === null ? domainKey(asciiHost) : null

/**
 * Sites that host a company's page without being its website: a website on one of them is accepted with a
 * warning, and no domain is derived from it or compared with it.
 */
export const hostingPlatforms: ReadonlyArray<string> = [
  "facebook.com",
  "fb.com",
  "instagram.com",
  "linkedin.com",
  "twitter.com",
  "youtube.com",
  "yelp.com"
]
const platformOf = (key: string): string | undefined =>
  hostingPlatforms.find((platform) => key === platform || key.endsWith(`.${platform}`))

// ---------------------------------------------------------------------------------------------------------
// Barton IDs

const bartonPattern = /^\d{2}\.\d{2}\.\d{2}\.\d{2}\.\d{5}\.\d{3}$/
const bartonExample = "NN.NN.NN.NN.NNNNN.NNN, e.g. 04.04.01.01.00101.101"

/** Whether `text` is a Barton ID (`NN.NN.NN.NN.NNNNN.NNN`). */
export const isBartonId = (text: string): boolean => bartonPattern.test(text)

const checkKey = (read: Read, label: string): Verdict => {
  if (read.kind === "wrong") return wrongType(read.found, "04.04.01.01.00101.101")
  if (read.kind === "absent") {
    return fail("INVALID_BARTON_ID", `empty or blank: write the ${label}'s Barton ID, ${bartonExample}`)
  }
  return isBartonId(read.text)
    ? pass()
    : fail("INVALID_BARTON_ID", `not a Barton ID: write it in the form ${bartonExample}`)
}

// ---------------------------------------------------------------------------------------------------------
// Website

const exampleSite = "https://example.com"

/** A checked website: the verdict, and the host to compare the domain with (null when there is none). */
interface WebsiteCheck {
  readonly verdict: Verdict
  readonly key: string | null
}

const invalidWebsite = (message: string): WebsiteCheck => ({
  verdict: fail("INVALID_WEBSITE", message),
  key: null
})

/** Checks a URL that starts with `http://` or `https://`. */
const checkHttpUrl = (text: string): WebsiteCheck => {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return invalidWebsite(`not a valid URL: write it as ${exampleSite}`)
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return invalidWebsite(`not an http(s) URL: write it as ${exampleSite}`)
  }
  const host = withoutFinalDot(url.hostname)
  const port = url.port === "" ? "" : `:${url.port}`
  const rest = `${url.pathname === "/" ? "" : url.pathname}${url.search}${url.hash}`
  const clean = shown(`${url.protocol}//${host}${port}${rest}`)
  if (url.username !== "" || url.password !== "") {
    return invalidWebsite(`contains a user name or password: write it without them, as ${clean}`)
  }
  const problem = hostProblem(host)
  if (problem !== null) {
    return invalidWebsite(`the host (${shown(url.hostname)}) ${problem}: write the site as ${exampleSite}`)
  }
  const key = domainKey(host)
  const warnings: Array<string> = []
  if (url.hostname.endsWith(".")) warnings.push(`the host ends with a dot: write ${clean}`)
  const platform = platformOf(key)
  if (platform !== undefined) {
    warnings.push(
      `a ${platform} page, not the company's own site: write the company's website if it has one ` +
        "(no domain is derived from it)"
    )
  }
  return {
    verdict: pass(warnings.length === 0 ? null : warnings.join("; ")),
    key: platform === undefined ? key : null
  }
}

const emailDomainSuggestion = (address: string): string => {
  const domain = address.slice(address.lastIndexOf("@") + 1).split(/[?>\s]/)[0] ?? ""
  const key = domainKeyOf(domainToASCII(domain))
  return key === null ? exampleSite : `https://${key}`
}

const checkWebsite = (read: Read): WebsiteCheck => {
  if (read.kind === "wrong") return { verdict: wrongType(read.found, exampleSite), key: null }
  if (read.kind === "absent") return { verdict: fail("EMPTY_WEBSITE", "empty or blank"), key: null }
  const text = read.text
  if (isPlaceholder(text)) {
    return invalidWebsite(
      `a placeholder (${shown(text)}), not a website: find the company's site and write it as ${exampleSite}`
    )
  }
  if (/\s/.test(text)) {
    return invalidWebsite(`contains spaces: write a single address without spaces, e.g. ${exampleSite}`)
  }
  const doubled = /^https?:\/*(https?:\/*)(.*)$/i.exec(text)
  if (doubled !== null) {
    return invalidWebsite(`the scheme is written twice: write it as ${shown(`https://${doubled[2]}`)}`)
  }
  if (/^https?:\/\//i.test(text)) return checkHttpUrl(text)
  const malformed = /^(https?):[\\/]*(.*)$/i.exec(text)
  if (malformed !== null) {
    return invalidWebsite(
      `the scheme is malformed: write it as ${shown(`${malformed[1]!.toLowerCase()}://${malformed[2]}`)}`
    )
  }
  if (/^mailto:/i.test(text) || (text.includes("@") && !text.includes("/"))) {
    return invalidWebsite(
      `an email address, not a website: write the company's site, e.g. ${emailDomainSuggestion(text)}`
    )
  }
  const other = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)
  if (other !== null) {
    return invalidWebsite(
      `not an http(s) URL (${other[1]!.toLowerCase()}://): write it as ${shown(`https://${text.slice(other[0].length)}`)}`
    )
  }
  if (text.startsWith("//")) {
    return invalidWebsite(`not an http(s) URL (the scheme is missing): write it as ${shown(`https:${text}`)}`)
  }
  const candidate = `https://${text}`
  if (checkHttpUrl(candidate).verdict.ok) {
    return invalidWebsite(`not an http(s) URL (the scheme is missing): write it as ${shown(candidate)}`)
  }
  return invalidWebsite(`not an http(s) URL: write the company's website as ${exampleSite}`)
}

// ---------------------------------------------------------------------------------------------------------
// Domain

/** The `domainKey` of a URL's host (the scheme may be missing), or null when it has no domain name. */
const hostOfUrl = (text: string): string | null => {
  try {
    return domainKeyOf(new URL(/^[a-z][a-z0-9+.-]*:/i.test(text) ? text : `https://${text}`).hostname)
  } catch {
    return null
  }
}

const checkDomain = (read: Read, websiteKey: string | null): Verdict => {
  if (read.kind === "wrong") return wrongType(read.found, "example.com")
  if (read.kind === "absent") return pass()
  const text = read.text
  const suggestion = websiteKey ?? "example.com"
  const invalid = (what: string, fix: string = suggestion) =>
    fail(
      "INVALID_DOMAIN",
      `${what}: write just the domain, ${fix}, or leave it empty to derive it from the website`
    )
  if (isPlaceholder(text)) return invalid(`a placeholder (${shown(text)}), not a domain`)
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text) || /^https?:/i.test(text) || text.includes("/")) {
    return invalid("a URL, not a domain", hostOfUrl(text) ?? suggestion)
  }
  if (text.includes("@")) {
    const after = text.slice(text.lastIndexOf("@") + 1)
    return invalid("an email address, not a domain", domainKeyOf(domainToASCII(after)) ?? suggestion)
  }
  if (/\s/.test(text)) return invalid("contains spaces")
  if (/[:\\?#%[\]<>,;"'`|{}^*=+!$&()~]/.test(text)) return invalid("not a domain name (it holds punctuation)")
  const ascii = domainToASCII(text)
  if (ascii === "") return invalid("not a domain name")
  const bare = withoutFinalDot(ascii)
  const problem = hostProblem(bare)
  if (problem !== null) return invalid(`not a domain name, it ${problem}`)
  const key = domainKey(bare)
  const warnings: Array<string> = []
  if (websiteKey !== null && key !== websiteKey) {
    if (!websiteKey.endsWith(`.${key}`)) {
      return fail(
        "DOMAIN_MISMATCH",
        `does not match the website's host (${websiteKey}): write ${websiteKey}, or correct the website`
      )
    }
    warnings.push(
      `the website is on ${websiteKey}, a subdomain of ${key}: fine if ${key} is the company's domain`
    )
  }
  const lower = withoutFinalDot(text.toLowerCase())
  const tidy = withoutWww(lower)
  const styles: Array<string> = []
  if (text !== text.toLowerCase()) styles.push("upper case")
  if (tidy !== lower) styles.push("a www. prefix")
  if (text.endsWith(".")) styles.push("a final dot")
  if (styles.length > 0) warnings.push(`written with ${styles.join(", ")}: write ${tidy}`)
  return pass(warnings.length === 0 ? null : warnings.join("; "))
}

// ---------------------------------------------------------------------------------------------------------
// Employee count

const checkEmployeeCount = (value: SyncValue): Verdict => {
  if (value === null) return pass()
  if (typeof value !== "number") {
    return fail("WRONG_TYPE", `holds ${describeValue(value)}, not a number: write a whole number, e.g. 250`)
  }
  if (!Number.isSafeInteger(value)) {
    return fail(
      "INVALID_EMPLOYEE_COUNT",
      `not a whole number (${value}): write the number of employees, e.g. 250`
    )
  }
  if (value < 0) {
    return fail(
      "NEGATIVE_EMPLOYEE_COUNT",
      `negative (${value}): write the number of employees (0 or more), or leave it empty when unknown`
    )
  }
  return pass()
}

// ---------------------------------------------------------------------------------------------------------
// Phone

const examplePhone = "(304) 555-0101"

const checkNanp = (ten: string): Verdict => {
  const area = ten.slice(0, 3)
  const exchange = ten.slice(3, 6)
  if (area.startsWith("0") || area.startsWith("1")) {
    return fail(
      "INVALID_PHONE",
      `the area code (${area}) cannot start with 0 or 1: check the number, e.g. ${examplePhone}`
    )
  }
  if (exchange.startsWith("0") || exchange.startsWith("1")) {
    return fail(
      "INVALID_PHONE",
      `the exchange (${exchange}, after the area code) cannot start with 0 or 1: check the number, e.g. ${examplePhone}`
    )
  }
  return pass()
}

const checkPhone = (read: Read): Verdict => {
  if (read.kind === "wrong") return wrongType(read.found, examplePhone)
  if (read.kind === "absent") return pass()
  const text = read.text
  const invalid = (what: string) => fail("INVALID_PHONE", what)
  if (isPlaceholder(text)) {
    return invalid(
      `a placeholder (${shown(text)}), not a phone number: write the number, e.g. ${examplePhone}, or leave it empty`
    )
  }
  if (/^tel:/i.test(text))
    return invalid(`pasted with "tel:": write just the number, ${shown(text.slice(4))}`)
  const extension = /(?:x|ext\.?|extension)[\s:.]*\d{1,6}$/i.exec(text)
  const main = extension === null ? text : strip(text.slice(0, extension.index), `,${spaces}`)
  if (/[/,;&]|\bor\b|\band\b/i.test(main))
    return invalid(`holds more than one number: keep one, e.g. ${examplePhone}`)
  if (!/^\+?[\d\s().\-\u2010-\u2015\u2212]+$/.test(main)) {
    return /\p{L}/u.test(main)
      ? invalid(`contains letters: write the number in digits, e.g. ${examplePhone} (an extension as x123)`)
      : invalid(`contains characters a phone number cannot hold: write it as ${examplePhone}`)
  }
  const digits = main.replace(/\D/g, "")
  if (main.startsWith("+")) {
    if (digits.startsWith("1")) {
      return digits.length === 11
        ? checkNanp(digits.slice(1))
        : invalid(
            `a +1 (US) number has 10 digits after +1, this has ${digits.length - 1}: write it as +1 304 555 0101`
          )
    }
    if (digits.length >= 8 && digits.length <= 15) {
      return pass(`an international number (+${digits.slice(0, 3)}...): check the country code is right`)
    }
    return invalid(
      `an international number has 8 to 15 digits after the +, this has ${digits.length}: check it`
    )
  }
  if (digits.length === 10) return checkNanp(digits)
  if (digits.length === 11 && digits.startsWith("1")) return checkNanp(digits.slice(1))
  if (digits.startsWith("011") && digits.length > 11) {
    return invalid(
      `starts with 011 (the US international prefix): write + instead, e.g. +${shown(digits.slice(3))}`
    )
  }
  if (digits.length === 7)
    return invalid(`7 digits, the area code is missing: write it with the area code, e.g. ${examplePhone}`)
  if (digits.length > 11) {
    return invalid(
      `${digits.length} digits: write an international number with + and its country code, e.g. +44 20 7946 0958`
    )
  }
  return invalid(`${digits.length} digits, a US number has 10: write the whole number, e.g. ${examplePhone}`)
}

// ---------------------------------------------------------------------------------------------------------
// State and ZIP

const stateNames: { readonly [code: string]: string } = {
  AL: "alabama",
  AK: "alaska",
  AZ: "arizona",
  AR: "arkansas",
  CA: "california",
  CO: "colorado",
  CT: "connecticut",
  DE: "delaware",
  DC: "district of columbia",
  FL: "florida",
  GA: "georgia",
  HI: "hawaii",
  ID: "idaho",
  IL: "illinois",
  IN: "indiana",
  IA: "iowa",
  KS: "kansas",
  KY: "kentucky",
  LA: "louisiana",
  ME: "maine",
  MD: "maryland",
  MA: "massachusetts",
  MI: "michigan",
  MN: "minnesota",
  MS: "mississippi",
  MO: "missouri",
  MT: "montana",
  NE: "nebraska",
  NV: "nevada",
  NH: "new hampshire",
  NJ: "new jersey",
  NM: "new mexico",
  NY: "new york",
  NC: "north carolina",
  ND: "north dakota",
  OH: "ohio",
  OK: "oklahoma",
  OR: "oregon",
  PA: "pennsylvania",
  RI: "rhode island",
  SC: "south carolina",
  SD: "south dakota",
  TN: "tennessee",
  TX: "texas",
  UT: "utah",
  VT: "vermont",
  VA: "virginia",
  WA: "washington",
  WV: "west virginia",
  WI: "wisconsin",
  WY: "wyoming",
  AS: "american samoa",
  GU: "guam",
  MP: "northern mariana islands",
  PR: "puerto rico",
  VI: "u.s. virgin islands",
  UM: "u.s. minor outlying islands"
}

/** The two-letter codes of the US states, DC and the territories. */
export const usStateCodes: ReadonlyArray<string> = Object.keys(stateNames)

const stateByName = new Map<string, string>([
  ...Object.entries(stateNames).map(([code, name]): [string, string] => [name, code]),
  ["washington dc", "DC"],
  ["washington d.c.", "DC"],
  ["virgin islands", "VI"],
  ["us virgin islands", "VI"]
])

const checkState = (read: Read): Verdict => {
  if (read.kind === "wrong") return wrongType(read.found, "WV")
  if (read.kind === "absent") return pass()
  const text = read.text
  const upper = text.toUpperCase()
  if (Object.hasOwn(stateNames, upper))
    return text === upper ? pass() : pass(`not upper case: write ${upper}`)
  const byName = stateByName.get(text.toLowerCase().replace(/\s+/g, " "))
  if (byName !== undefined) return fail("INVALID_STATE", `a state name: write the two-letter code ${byName}`)
  const undotted = upper.replace(/[.\s]/g, "")
  if (undotted.length === 2 && Object.hasOwn(stateNames, undotted)) {
    return fail("INVALID_STATE", `written with dots or spaces: write the two-letter code ${undotted}`)
  }
  return fail("INVALID_STATE", `not a US state code: write the state's two-letter code, e.g. WV`)
}

const checkZip = (read: Read): Verdict => {
  if (read.kind === "wrong") return wrongType(read.found, "26505")
  if (read.kind === "absent") return pass()
  const text = read.text
  const invalid = (what: string) => fail("INVALID_ZIP", what)
  if (/^\d{5}(?:-\d{4})?$/.test(text)) return pass()
  if (/^\d{4}(?:-\d{4})?$/.test(text)) {
    return invalid(`4 digits, a spreadsheet probably dropped the leading zero: write 0${text}`)
  }
  const nine = /^(\d{5})[\s\u2010-\u2015\u2212.]*(\d{4})$/.exec(text)
  if (nine !== null) return invalid(`ZIP+4 without its hyphen: write ${nine[1]}-${nine[2]}`)
  const decimal = /^(\d{5})\.0+$/.exec(text)
  if (decimal !== null) return invalid(`written as a decimal number: write ${decimal[1]}`)
  if (isPlaceholder(text))
    return invalid(`a placeholder (${shown(text)}): write the 5-digit ZIP code, or leave it empty`)
  if (/^\d{1,3}$/.test(text)) {
    return invalid(
      `${text.length} digits, a ZIP code has 5: write all 5 with their leading zeros, e.g. 02134`
    )
  }
  return invalid(`not a ZIP code: write 5 digits (26505) or ZIP+4 (26505-1234)`)
}

// ---------------------------------------------------------------------------------------------------------
// Email

const exampleEmail = "name@company.com"

/** What is wrong with an email address, with a corrected address when one is obvious; null when valid. */
interface EmailProblem {
  readonly problem: string
  readonly fix: string | null
}

const problemOf = (problem: string, fix: string | null = null): EmailProblem => ({ problem, fix })

/** Checks the syntax of one address: one @, a local part of atext without stray dots, a domain name. */
const emailProblem = (text: string): EmailProblem | null => {
  if (/\s/.test(text)) return problemOf("contains spaces", text.replace(/\s+/g, ""))
  const at = text.split("@").length - 1
  if (at === 0) return problemOf("has no @")
  if (at > 1) return problemOf("has more than one @", text.replace(/@+/g, "@"))
  const local = text.slice(0, text.indexOf("@"))
  const domain = text.slice(text.indexOf("@") + 1)
  if (local === "") return problemOf("has nothing before the @")
  if (local.length > 64) return problemOf("has more than 64 characters before the @")
  if (local.startsWith(".") || local.endsWith(".")) {
    return problemOf("starts or ends with a dot before the @", `${strip(local, ".", "both")}@${domain}`)
  }
  if (local.includes(".."))
    return problemOf("has two dots in a row before the @", `${local.replace(/\.{2,}/g, ".")}@${domain}`)
  // atext of RFC 5322, plus any non-ASCII character (internationalised addresses)
  if (!/^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-\u0080-\u{10ffff}]+$/u.test(local)) {
    return problemOf("has a character before the @ that an address cannot hold")
  }
  if (domain === "") return problemOf("has nothing after the @")
  if (domain.endsWith(".")) return problemOf("ends with a dot", strip(text, "."))
  if (/[\\:/?#%[\]<>,;"'`|{}^*=+!$&()~]/.test(domain)) {
    return problemOf(`has a character a domain cannot hold after the @ (${shown(domain)})`)
  }
  const ascii = domainToASCII(domain)
  if (ascii === "") return problemOf(`has no domain name after the @ (${shown(domain)})`)
  const problem = hostProblem(ascii)
  return problem === null ? null : problemOf(`has a domain after the @ (${shown(domain)}) that ${problem}`)
}

const checkEmail = (read: Read): Verdict => {
  if (read.kind === "wrong") return wrongType(read.found, exampleEmail)
  if (read.kind === "absent") {
    return fail("EMPTY_EMAIL", `empty or blank: write the person's email address, e.g. ${exampleEmail}`)
  }
  const text = read.text
  const invalid = (what: string) => fail("INVALID_EMAIL", what)
  if (isPlaceholder(text)) {
    return invalid(
      `a placeholder (${shown(text)}), not an address: write the person's email, e.g. ${exampleEmail}`
    )
  }
  const mailto = /^mailto:\s*([^?]*)/i.exec(text)
  if (mailto !== null)
    return invalid(`pasted with "mailto:": write just the address, ${shown(trimText(mailto[1]!))}`)
  const bracketed = /<([^<>]*)>/.exec(text)
  if (bracketed !== null) {
    return invalid(
      `holds a display name or angle brackets: write just the address, ${shown(trimText(bracketed[1]!))}`
    )
  }
  const parts = text.split(/[,;\s]+/).filter((part) => part.includes("@"))
  if (parts.length > 1) return invalid(`holds more than one address: keep one, e.g. ${exampleEmail}`)
  if (/[,;]/.test(text)) {
    const single = trimText(text.replace(/[,;]/g, " "))
    return emailProblem(single) === null
      ? invalid(`has a stray comma or semicolon: write ${shown(single)}`)
      : invalid(`holds a comma or semicolon: write a single address, e.g. ${exampleEmail}`)
  }
  const found = emailProblem(text)
  if (found === null) return pass()
  return found.fix !== null && emailProblem(found.fix) === null
    ? invalid(`${found.problem}: write ${shown(found.fix)}`)
    : invalid(`${found.problem}: write it as ${exampleEmail}`)
}

// ---------------------------------------------------------------------------------------------------------
// LinkedIn

const exampleProfile = "https://www.linkedin.com/in/<name>"

const checkLinkedin = (read: Read): Verdict => {
  if (read.kind === "wrong") return wrongType(read.found, exampleProfile)
  if (read.kind === "absent") return pass()
  const text = read.text
  const invalid = (what: string) => fail("INVALID_LINKEDIN_URL", what)
  if (isPlaceholder(text)) {
    return invalid(
      `a placeholder (${shown(text)}): write the person's profile URL, ${exampleProfile}, or leave it empty`
    )
  }
  if (/\s/.test(text)) return invalid(`contains spaces: write a single profile URL, ${exampleProfile}`)
  const hasScheme = /^https?:\/\//i.test(text)
  const bareLinkedin = /^(?:[a-z0-9-]+\.)*(?:linkedin\.com|lnkd\.in)(?:[:/?#]|$)/i.test(text)
  if (!hasScheme && !bareLinkedin)
    return invalid(`not a LinkedIn URL: write the person's profile URL, ${exampleProfile}`)
  let url: URL
  try {
    url = new URL(hasScheme ? text : `https://${text}`)
  } catch {
    return invalid(`not a valid URL: write the person's profile URL, ${exampleProfile}`)
  }
  const host = withoutFinalDot(url.hostname)
  if (host === "lnkd.in")
    return invalid(`a shortened link: open it and copy the profile URL, ${exampleProfile}`)
  if (host !== "linkedin.com" && !host.endsWith(".linkedin.com")) {
    return invalid(
      `not a LinkedIn URL (the host is ${shown(host)}): write the person's profile URL, ${exampleProfile}`
    )
  }
  const segments = url.pathname.split("/").filter((segment) => segment !== "")
  const section = (segments[0] ?? "").toLowerCase()
  if (section === "company") {
    return invalid(
      `a company page, not a person's profile: write the person's profile URL, ${exampleProfile}`
    )
  }
  if (section === "pub") {
    return invalid(
      `an old public-profile URL (/pub/): open it and copy the current profile URL, ${exampleProfile}`
    )
  }
  if (section !== "in") {
    return invalid(
      `not a profile URL (${shown(url.pathname)}): write the person's profile URL, ${exampleProfile}`
    )
  }
  const slug = segments[1]
  if (slug === undefined) return invalid(`has no profile name after /in/: write ${exampleProfile}`)
  const profile = shown(`https://${host}/in/${slug}`)
  const warnings: Array<string> = []
  if (!hasScheme) warnings.push(`missing https://: write ${profile}`)
  if (segments.length > 2) warnings.push(`has more after the profile name: write ${profile}`)
  return pass(warnings.length === 0 ? null : warnings.join("; "))
}

// ---------------------------------------------------------------------------------------------------------
// Names and the remaining text fields

const checkRequiredName = (read: Read, what: string): Verdict => {
  if (read.kind === "wrong") return wrongType(read.found, "Monongalia County Commission")
  if (read.kind === "absent") return fail("MISSING_NAME", `empty or blank: write ${what}`)
  if (isPlaceholder(read.text))
    return fail("MISSING_NAME", `a placeholder (${shown(read.text)}): write ${what}`)
  return pass()
}

const checkPersonName = (record: SyncRecord): { readonly [field: string]: Verdict } => {
  const full = readText(record, "full_name")
  const first = readText(record, "first_name")
  const last = readText(record, "last_name")
  const verdicts: { [field: string]: Verdict } = {}
  if (first.kind === "wrong") verdicts.first_name = wrongType(first.found, "Jane")
  if (last.kind === "wrong") verdicts.last_name = wrongType(last.found, "Doe")
  if (full.kind === "wrong") {
    verdicts.full_name = wrongType(full.found, "Jane Doe")
    return verdicts
  }
  const named = (read: Read) => read.kind === "text" && !isPlaceholder(read.text)
  if (named(full) || (named(first) && named(last))) return verdicts
  const missing = [named(first) ? null : "first_name", named(last) ? null : "last_name"].filter(
    (f) => f !== null
  )
  const what = full.kind === "text" ? `a placeholder (${shown(full.text)})` : "empty or blank"
  verdicts.full_name = fail(
    "MISSING_NAME",
    missing.length === 2
      ? `${what}, and so are first_name and last_name: write the person's full name, or first_name and last_name`
      : `${what}, and ${missing[0]} is empty: write the person's full name, or fill ${missing[0]}`
  )
  return verdicts
}

const checkFreeText = (read: Read): Verdict =>
  read.kind === "wrong" ? wrongType(read.found, "plain text") : pass()

// ---------------------------------------------------------------------------------------------------------
// Outcomes

const outcome = (
  priority: ReadonlyArray<string>,
  verdicts: { readonly [field: string]: Verdict },
  derived: { readonly [field: string]: SyncValue }
): ValidationOutcome => {
  const errors: { [field: string]: string } = {}
  const warnings: { [field: string]: string } = {}
  let reasonCode: string = "PASSED"
  for (const field of priority) {
    const verdict = verdicts[field]
    if (verdict === undefined) continue
    if (verdict.ok) {
      if (verdict.warning !== null) warnings[field] = verdict.warning
    } else {
      if (reasonCode === "PASSED") reasonCode = verdict.code
      errors[field] = verdict.message
    }
  }
  return { status: reasonCode === "PASSED" ? "PASSED" : "FAILED", errors, warnings, reasonCode, derived }
}

/**
 * Validates a company sync record: a Barton ID key, a name, an http(s) website, a domain consistent with
 * it (derived from the website when missing), and, when present, a non-negative employee count, a
 * plausible phone, a US state code and a ZIP code.
 */
export const validateCompany = (record: SyncRecord): ValidationOutcome => {
  const website = checkWebsite(readText(record, "website"))
  const domainRead = readText(record, "domain")
  const derived: { [field: string]: SyncValue } = {}
  if (domainRead.kind === "absent" && website.key !== null) derived.domain = website.key
  return outcome(
    companyFieldPriority,
    {
      company_unique_id: checkKey(readText(record, "company_unique_id"), "company"),
      company_name: checkRequiredName(readText(record, "company_name"), "the company's name"),
      website: website.verdict,
      domain: checkDomain(domainRead, website.key),
      employee_count: checkEmployeeCount(own(record, "employee_count")),
      phone: checkPhone(readText(record, "phone")),
      state: checkState(readText(record, "state")),
      zip: checkZip(readText(record, "zip")),
      industry: checkFreeText(readText(record, "industry")),
      address: checkFreeText(readText(record, "address")),
      city: checkFreeText(readText(record, "city"))
    },
    derived
  )
}

const checkCompanyId = (read: Read): Verdict => {
  if (read.kind === "wrong") return wrongType(read.found, "04.04.01.01.00101.101")
  if (read.kind === "absent" || isBartonId(read.text)) return pass()
  return fail(
    "INVALID_COMPANY_ID",
    `not a Barton ID: write the company's company_unique_id, ${bartonExample}, or leave it empty`
  )
}

/**
 * Validates a person sync record: a Barton ID key, a name (full, or first and last), a valid email, and,
 * when present, a Barton company id, a LinkedIn profile URL, a plausible phone and a US state code.
 */
export const validatePerson = (record: SyncRecord): ValidationOutcome =>
  outcome(
    personFieldPriority,
    {
      unique_id: checkKey(readText(record, "unique_id"), "person"),
      ...checkPersonName(record),
      email: checkEmail(readText(record, "email")),
      company_unique_id: checkCompanyId(readText(record, "company_unique_id")),
      linkedin_url: checkLinkedin(readText(record, "linkedin_url")),
      phone: checkPhone(readText(record, "phone")),
      state: checkState(readText(record, "state")),
      title: checkFreeText(readText(record, "title")),
      company_name: checkFreeText(readText(record, "company_name")),
      city: checkFreeText(readText(record, "city"))
    },
    {}
  )

/** Validates a sync record of `entity` with the entity's rules. */
export const validate = (entity: Entity, record: SyncRecord): ValidationOutcome => {
  switch (entity.name) {
    case "company":
      return validateCompany(record)
    case "people":
      return validatePerson(record)
  }
}
