/**
 * The rule table agrees with the rules: every reason code in it is a known one and every field a field of
 * the entity's priority list, in that order; every field has a rule; and every (first error field, reason
 * code) that `validate` reports, on every case of every rule family and on arbitrary records, is in it.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import { Company } from "../../src/Company.ts"
import type { Entity } from "../../src/Entity.ts"
import { Person } from "../../src/Person.ts"
import type { SyncRecord, SyncValue } from "../../src/Projection.ts"
import { fieldPriority, reasonCodes, validate, validationRules } from "../../src/validation/index.ts"
import { caseTable, company, families, person } from "../support/ValidationCases.ts"

const tables = families.map(caseTable)

const entities: ReadonlyArray<Entity> = [Company, Person]

const listed = (entity: Entity) => new Set(validationRules(entity).map((r) => `${r.field} ${r.code}`))

/** The first error's field and the reason code, as the table lists rules; null when the record passed. */
const firstError = (entity: Entity, record: SyncRecord): string | null => {
  const outcome = validate(entity, record)
  const [field] = Object.keys(outcome.errors)
  return field === undefined ? null : `${field} ${outcome.reasonCode}`
}

describe("the validation rule table", () => {
  it("names known codes and the entity's fields, in priority order, with a rule for every field", () => {
    for (const entity of entities) {
      const priority = fieldPriority(entity)
      const rules = validationRules(entity)
      for (const r of rules) {
        assert.isTrue(Object.hasOwn(reasonCodes, r.code), `${entity.name} ${r.field}: unknown code ${r.code}`)
        assert.include(priority, r.field)
        assert.isAbove(r.message.length, 10)
      }
      const order = rules.map((r) => priority.indexOf(r.field))
      assert.deepStrictEqual(
        order,
        [...order].sort((a, b) => a - b)
      )
      assert.deepStrictEqual([...new Set(rules.map((r) => r.field))], [...priority])
    }
    // the seed's message for a missing website, exactly
    assert.deepInclude(validationRules(Company), {
      field: "website",
      code: "EMPTY_WEBSITE",
      required: true,
      message: "empty or blank"
    })
  })

  it("holds every first error of every rule family's cases", () => {
    for (const table of tables) {
      for (const c of table.company) {
        const found = firstError(Company, company(c.set))
        if (found !== null) assert.isTrue(listed(Company).has(found), `company, ${c.label}: ${found}`)
      }
      for (const c of table.person) {
        const found = firstError(Person, person(c.set))
        if (found !== null) assert.isTrue(listed(Person).has(found), `person, ${c.label}: ${found}`)
      }
    }
  })

  it("holds the first error of arbitrary records", () => {
    const value: fc.Arbitrary<SyncValue> = fc.oneof(
      fc.constant(null),
      fc.string({ maxLength: 12 }),
      fc.constantFrom("https://acme.com", "acme.com", "WV", "26505", "(304) 555-0101", "a@b.co", "-1"),
      fc.integer({ min: -5, max: 1000 }),
      fc.jsonValue({ maxDepth: 1 }) as fc.Arbitrary<SyncValue>
    )
    for (const entity of entities) {
      const base = entity.name === "company" ? company() : person()
      const rules = listed(entity)
      fc.assert(
        fc.property(
          fc.dictionary(fc.constantFrom(...fieldPriority(entity)), value, { maxKeys: 4 }),
          (changes) => {
            const found = firstError(entity, { ...base, ...changes })
            if (found !== null) assert.isTrue(rules.has(found), `${entity.name}: ${found}`)
          }
        ),
        { numRuns: 2000 }
      )
    }
  })
})
