/**
 * The validation tests' tables: a valid company and person (the sync guide's), a case (a change to one of
 * them and what validation must say), and the runner every rule family's test uses.
 */
import { assert, describe, it } from "@effect/vitest"
import { Company } from "../../src/Company.ts"
import { Person } from "../../src/Person.ts"
import type { SyncRecord, SyncValue } from "../../src/Projection.ts"
import type { ValidationOutcome } from "../../src/validation/Validation.ts"
import { validateCompany, validatePerson } from "../../src/validation/Validation.ts"
import { blank, fixHint } from "./Records.ts"

export type Fields = { readonly [field: string]: SyncValue }

/** The guide's enriched company (its manual UPDATE), as a projected sync record. */
export const company = (overrides: Fields = {}): SyncRecord => ({
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

export const person = (overrides: Fields = {}): SyncRecord => ({
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
export interface Case {
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

export const expectOutcome = (outcome: ValidationOutcome, c: Case) => {
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

/** The cases of one rule family, on a company and on a person. */
export interface CaseTable {
  readonly company: ReadonlyArray<Case>
  readonly person: ReadonlyArray<Case>
}

/** Runs a family's cases: each change is applied to the valid record and validated. */
export const runCases = (family: string, table: CaseTable): void => {
  describe(family, () => {
    if (table.company.length > 0) {
      describe("validateCompany", () => {
        it.each(table.company)("$label", (c) => {
          expectOutcome(validateCompany(company(c.set)), c)
        })
      })
    }
    if (table.person.length > 0) {
      describe("validatePerson", () => {
        it.each(table.person)("$label", (c) => {
          expectOutcome(validatePerson(person(c.set)), c)
        })
      })
    }
  })
}
