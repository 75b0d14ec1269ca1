import { assert, describe, it } from "@effect/vitest"
import { reasonCodes } from "../../src/validation/ReasonCode.ts"
import { cases as address } from "./Address.cases.ts"
import { cases as bartonId } from "./BartonId.cases.ts"
import { cases as domain } from "./Domain.cases.ts"
import { cases as email } from "./Email.cases.ts"
import { cases as employeeCount } from "./EmployeeCount.cases.ts"
import { cases as linkedin } from "./Linkedin.cases.ts"
import { cases as name } from "./Name.cases.ts"
import { cases as phone } from "./Phone.cases.ts"
import { cases as composition } from "./Validation.cases.ts"
import { cases as website } from "./Website.cases.ts"

describe("reasonCodes", () => {
  it("are SCREAMING_SNAKE and each has a meaning", () => {
    for (const [code, meaning] of Object.entries(reasonCodes)) {
      assert.match(code, /^[A-Z]+(?:_[A-Z]+)*$/)
      assert.isAbove(meaning.length, 10)
    }
  })

  it("list every code the tables produce, and the tables produce every listed code", () => {
    const produced = new Set(
      [address, bartonId, domain, email, employeeCount, linkedin, name, phone, website, composition]
        .flatMap((t) => [...t.company, ...t.person])
        .map((c) => c.reason)
    )
    assert.deepStrictEqual([...produced].sort(), Object.keys(reasonCodes).sort())
  })
})
