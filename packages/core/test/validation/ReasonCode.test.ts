import { assert, describe, it } from "@effect/vitest"
import { reasonCodes } from "../../src/validation/ReasonCode.ts"
import { caseTable, families } from "../support/ValidationCases.ts"

describe("reasonCodes", () => {
  it("are SCREAMING_SNAKE and each has a meaning", () => {
    for (const [code, meaning] of Object.entries(reasonCodes)) {
      assert.match(code, /^[A-Z]+(?:_[A-Z]+)*$/)
      assert.isAbove(meaning.length, 10)
    }
  })

  it("list every code the tables produce, and the tables produce every listed code", () => {
    const produced = new Set(
      families
        .map(caseTable)
        .flatMap((t) => [...t.company, ...t.person])
        .map((c) => c.reason)
    )
    assert.deepStrictEqual([...produced].sort(), Object.keys(reasonCodes).sort())
  })
})
