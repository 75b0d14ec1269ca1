/**
 * Validation: the rules a record must pass to leave the invalid table for the master table (the sync
 * guide's re-validation stage, run on every pushed record), one family of rules per module of this folder,
 * composed here per entity. Rules run on a projected sync record (`SyncRecord`), so text is already
 * trimmed and empty text is `null`; the rules still trim and accept any JSON value.
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
import type { Entity } from "../Entity.ts"
import type { SyncRecord, SyncValue } from "../Projection.ts"
import { checkState, checkZip } from "./Address.ts"
import { checkCompanyId, checkKey } from "./BartonId.ts"
import { checkDomain } from "./Domain.ts"
import { checkEmail } from "./Email.ts"
import { checkEmployeeCount } from "./EmployeeCount.ts"
import { checkFreeText, own, type Read, readText } from "./FieldText.ts"
import { checkLinkedin } from "./Linkedin.ts"
import { checkPersonName, checkRequiredName } from "./Name.ts"
import { checkPhone } from "./Phone.ts"
import type { Verdict } from "./Verdict.ts"
import { checkWebsite } from "./Website.ts"

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

/** Each field's verdict: its check of the field's text. */
const checkTexts = (
  record: SyncRecord,
  checks: { readonly [field: string]: (read: Read) => Verdict }
): { readonly [field: string]: Verdict } =>
  Object.fromEntries(Object.entries(checks).map(([field, check]) => [field, check(readText(record, field))]))

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
      ...checkTexts(record, {
        phone: checkPhone,
        state: checkState,
        zip: checkZip,
        industry: checkFreeText,
        address: checkFreeText,
        city: checkFreeText
      })
    },
    derived
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
      ...checkTexts(record, {
        email: checkEmail,
        company_unique_id: checkCompanyId,
        linkedin_url: checkLinkedin,
        phone: checkPhone,
        state: checkState,
        title: checkFreeText,
        company_name: checkFreeText,
        city: checkFreeText
      })
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
