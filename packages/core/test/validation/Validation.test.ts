import { assert, describe, it } from "@effect/vitest"
import { Company } from "../../src/Company.ts"
import { Person } from "../../src/Person.ts"
import { validate, validateCompany, validatePerson } from "../../src/validation/Validation.ts"
import { caseTable, company, person, runCases } from "../support/ValidationCases.ts"

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

  /** The outcome of a record that passes with nothing to say. */
  const passed = { status: "PASSED", errors: {}, warnings: {}, reasonCode: "PASSED", derived: {} }

  it("the guide's enriched company passes", () => {
    assert.deepStrictEqual(validateCompany(company()), passed)
  })

  it("a valid person passes", () => {
    assert.deepStrictEqual(validatePerson(person()), passed)
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

runCases("types and priority", caseTable("Validation"))
