/**
 * The validation rules as a table, for people and programs that read them rather than run them (the sync
 * manifest): per entity, each field's rules in field priority order, each with the reason code it fails
 * with, whether the field is required, and its message (what is wrong and how to fix it; the rules' own
 * messages quote the value and suggest a fix for it, these say it in general).
 *
 * Invariant: every (field, reason code) that `validate` reports is in the table (tested on every rule
 * family's cases and on arbitrary records), and every code is one of `reasonCodes`.
 */
import type { Entity } from "../Entity.ts"
import type { ReasonCode } from "./ReasonCode.ts"
import { companyFieldPriority, personFieldPriority } from "./Validation.ts"

/** One rule of a field. */
export interface ValidationRule {
  readonly field: string
  /** the reason code a record failing it gets, when this field is its first error */
  readonly code: ReasonCode
  /** the field must hold a value (a person's full_name: unless first_name and last_name both do) */
  readonly required: boolean
  readonly message: string
}

/** The fields that must hold a value (a person's name: full_name, or first_name and last_name). */
const requiredFields = new Set([
  "company_unique_id",
  "company_name",
  "website",
  "unique_id",
  "full_name",
  "email"
])

const rule = (field: string, code: ReasonCode, message: string): ValidationRule => ({
  field,
  code,
  required: requiredFields.has(field),
  message
})

const wrongType = (field: string, example: string): ValidationRule =>
  rule(
    field,
    "WRONG_TYPE",
    `holds a value of another type than text (a number, a list, an object): write it as text, e.g. ${example}`
  )

const bartonExample = "04.04.01.01.00101.101 (NN.NN.NN.NN.NNNNN.NNN)"

/** A record's key: the Barton ID of the `label` (company or person). */
const keyRules = (field: string, label: string, example: string): ReadonlyArray<ValidationRule> => [
  rule(
    field,
    "INVALID_BARTON_ID",
    `empty or not a Barton ID: write the ${label}'s Barton ID, ${bartonExample}`
  ),
  wrongType(field, example)
]

const phoneRules = (): ReadonlyArray<ValidationRule> => [
  rule(
    "phone",
    "INVALID_PHONE",
    "not a plausible phone number: write 10 US digits, 11 starting with 1, or + and 8 to 15 digits, e.g. (304) 555-0101 (an extension as x123), or leave it empty"
  ),
  wrongType("phone", "(304) 555-0101")
]

const stateRules = (): ReadonlyArray<ValidationRule> => [
  rule(
    "state",
    "INVALID_STATE",
    "not a US state code: write the state's two-letter code (or DC, or a territory's), e.g. WV, or leave it empty"
  ),
  wrongType("state", "WV")
]

const freeText = (field: string, example: string): ValidationRule => wrongType(field, example)

/** The company rules, in field priority order. */
const companyRules: ReadonlyArray<ValidationRule> = [
  ...keyRules("company_unique_id", "company", "04.04.01.01.00101.101"),
  rule("company_name", "MISSING_NAME", "empty, blank or a placeholder: write the company's name"),
  wrongType("company_name", "Monongalia County Commission"),
  // the seed's wording, exactly
  rule("website", "EMPTY_WEBSITE", "empty or blank"),
  rule(
    "website",
    "INVALID_WEBSITE",
    "not an http(s) URL with a real host name: write the company's site, e.g. https://monongaliacounty.com"
  ),
  wrongType("website", "https://monongaliacounty.com"),
  rule(
    "domain",
    "INVALID_DOMAIN",
    "not a bare domain name (a URL, an email address, spaces, no top-level domain): write just the domain, e.g. monongaliacounty.com (left empty, it is derived from the website)"
  ),
  rule(
    "domain",
    "DOMAIN_MISMATCH",
    "not the website's host nor a parent of it: write the website's domain, or fix the website"
  ),
  wrongType("domain", "monongaliacounty.com"),
  rule(
    "employee_count",
    "INVALID_EMPLOYEE_COUNT",
    "not a whole number: write the number of employees, e.g. 250, or leave it empty"
  ),
  rule(
    "employee_count",
    "NEGATIVE_EMPLOYEE_COUNT",
    "negative: write the number of employees (0 or more), or leave it empty when unknown"
  ),
  rule(
    "employee_count",
    "WRONG_TYPE",
    "holds text or another value that is not a number: write a whole number, e.g. 250"
  ),
  ...phoneRules(),
  ...stateRules(),
  rule(
    "zip",
    "INVALID_ZIP",
    "not a ZIP code: write 5 digits (26505) or ZIP+4 (26505-1234), or leave it empty"
  ),
  wrongType("zip", "26505"),
  freeText("industry", "Government"),
  freeText("address", "243 High Street"),
  freeText("city", "Morgantown")
]

/** The person rules, in field priority order. */
const personRules: ReadonlyArray<ValidationRule> = [
  ...keyRules("unique_id", "person", "04.04.02.04.20000.001"),
  rule(
    "full_name",
    "MISSING_NAME",
    "no name: write full_name, or both first_name and last_name (a placeholder is no name)"
  ),
  wrongType("full_name", "Jane Doe"),
  wrongType("first_name", "Jane"),
  wrongType("last_name", "Doe"),
  rule("email", "EMPTY_EMAIL", "empty or blank: write the person's email address, e.g. jane.doe@example.com"),
  rule(
    "email",
    "INVALID_EMAIL",
    "not a single, valid email address: write one address, e.g. jane.doe@example.com"
  ),
  wrongType("email", "jane.doe@example.com"),
  rule(
    "company_unique_id",
    "INVALID_COMPANY_ID",
    `not a Barton ID: write the company's company_unique_id, ${bartonExample}, or leave it empty`
  ),
  wrongType("company_unique_id", "04.04.01.01.00101.101"),
  rule(
    "linkedin_url",
    "INVALID_LINKEDIN_URL",
    "not a LinkedIn profile URL: write the person's profile, e.g. https://www.linkedin.com/in/jane-doe, or leave it empty"
  ),
  wrongType("linkedin_url", "https://www.linkedin.com/in/jane-doe"),
  ...phoneRules(),
  ...stateRules(),
  freeText("title", "County Clerk"),
  freeText("company_name", "Monongalia County Commission"),
  freeText("city", "Morgantown")
]

/** The rules of `entity`, in field priority order. */
export const validationRules = (entity: Entity): ReadonlyArray<ValidationRule> =>
  entity.name === "company" ? companyRules : personRules

/** The fields of `entity` in the order they decide the reason code. */
export const fieldPriority = (entity: Entity): ReadonlyArray<string> =>
  entity.name === "company" ? companyFieldPriority : personFieldPriority
