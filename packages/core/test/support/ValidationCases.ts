/**
 * The validation tests' tables, kept as data: the sync guide's valid company and person (`ValidRecords.json`),
 * each rule family's cases (`../validation/<Family>.cases.json`: a change to a valid record and what
 * validation must say), and the runner every family's test uses.
 *
 * Invariant: a table is checked as it loads: a missing or unknown key, a value of the wrong type, or a field
 * its entity does not have fails the tests that load it, with an error naming the file and the row.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Schema from "effect/Schema"
import type { ParseOptions } from "effect/SchemaAST"
import { Company } from "../../src/Company.ts"
import type { Entity } from "../../src/Entity.ts"
import { Person } from "../../src/Person.ts"
import type { SyncRecord } from "../../src/Projection.ts"
import type { ValidationOutcome } from "../../src/validation/Validation.ts"
import { validateCompany, validatePerson } from "../../src/validation/Validation.ts"
import address from "../validation/Address.cases.json" with { type: "json" }
import bartonId from "../validation/BartonId.cases.json" with { type: "json" }
import domain from "../validation/Domain.cases.json" with { type: "json" }
import email from "../validation/Email.cases.json" with { type: "json" }
import employeeCount from "../validation/EmployeeCount.cases.json" with { type: "json" }
import linkedin from "../validation/Linkedin.cases.json" with { type: "json" }
import name from "../validation/Name.cases.json" with { type: "json" }
import phone from "../validation/Phone.cases.json" with { type: "json" }
import validation from "../validation/Validation.cases.json" with { type: "json" }
import website from "../validation/Website.cases.json" with { type: "json" }
import { blank, fixHint } from "./Records.ts"
import validRecords from "./ValidRecords.json" with { type: "json" }

/** Values of some fields of a record: a change to it, or what validation derives. */
const Fields = Schema.Record(Schema.String, Schema.Json)
export type Fields = typeof Fields.Type

/** One table row: a change to a valid record and what validation must say about it. */
const Case = Schema.Struct({
  label: Schema.NonEmptyString,
  set: Fields,
  /** the expected reason code (`PASSED` when the record passes) */
  reason: Schema.NonEmptyString,
  /** fields with errors, in priority order (default: none) */
  errors: Schema.optionalKey(Schema.Array(Schema.String)),
  /** fields with warnings (default: none) */
  warnings: Schema.optionalKey(Schema.Array(Schema.String)),
  /** text the first error's message (or the first warning, when passed) must contain */
  says: Schema.optionalKey(Schema.NonEmptyString),
  /** the expected derived values (default: none) */
  derived: Schema.optionalKey(Fields)
})
export type Case = typeof Case.Type

/** The cases of one rule family, on a company and on a person. */
const CaseTable = Schema.Struct({ company: Schema.Array(Case), person: Schema.Array(Case) })
export type CaseTable = typeof CaseTable.Type

/** The entities, by the key their valid record and their cases have in the data files. */
const entities = { company: Company, person: Person } as const
const sides = ["company", "person"] as const

/** Decodes what was read from `file` (test/…), refusing unknown keys, or throws an error naming the file. */
const decode = <A>(file: string, decoder: (input: unknown, options: ParseOptions) => A, data: unknown): A => {
  try {
    return decoder(data, { onExcessProperty: "error", errors: "all" })
  } catch (cause) {
    const issues = cause instanceof Error ? cause.message : String(cause)
    const fix = "fix the keys and values it names (test/support/ValidationCases.ts says what each one holds)"
    throw new Error(`test/${file} is not well formed: ${issues}\n${fix}`, { cause })
  }
}

/** Throws an error naming `where` unless every name is a field of `entity`. */
const checkFields = (where: string, entity: Entity, names: ReadonlyArray<string>): void => {
  const unknown = names.filter((n) => !entity.fields.some((f) => f.name === n))
  if (unknown.length > 0) {
    const known = entity.fields.map((f) => f.name).join(", ")
    throw new Error(`test/${where}: ${unknown.join(", ")} is not a field: write one of ${known}`)
  }
}

const recordsFile = "support/ValidRecords.json"
const records = decode(
  recordsFile,
  Schema.decodeUnknownSync(Schema.Struct({ company: Fields, person: Fields })),
  validRecords
)
for (const side of sides) checkFields(`${recordsFile}, ${side}`, entities[side], Object.keys(records[side]))

/** A record of `entity` with every field null, then `values`, then `overrides`. */
const recordOf =
  (entity: Entity, values: Fields) =>
  (overrides: Fields = {}): SyncRecord => ({ ...blank(entity), ...values, ...overrides })

/** The guide's enriched company (its manual UPDATE), as a projected sync record, with `overrides`. */
export const company = recordOf(Company, records.company)
/** A valid person of that company, as a projected sync record, with `overrides`. */
export const person = recordOf(Person, records.person)

const tables = {
  Address: address,
  BartonId: bartonId,
  Domain: domain,
  Email: email,
  EmployeeCount: employeeCount,
  Linkedin: linkedin,
  Name: name,
  Phone: phone,
  Validation: validation,
  Website: website
}

/** A rule family with a case table (`Validation`: how the rules compose, types and field priority). */
export type Family = keyof typeof tables
export const families = Object.keys(tables) as ReadonlyArray<Family>

/** The cases of `family`, read from `validation/<family>.cases.json` and checked. */
export const caseTable = (family: Family): CaseTable => {
  const file = `validation/${family}.cases.json`
  const table = decode(file, Schema.decodeUnknownSync(CaseTable), tables[family])
  for (const side of sides) {
    for (const c of table[side]) {
      const named = [
        ...Object.keys(c.set),
        ...Object.keys(c.derived ?? {}),
        ...(c.errors ?? []),
        ...(c.warnings ?? [])
      ]
      checkFields(`${file}, ${side} "${c.label}"`, entities[side], named)
    }
  }
  return table
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

/** Runs a family's cases under `title`: each change is applied to the valid record and validated. */
export const runCases = (title: string, table: CaseTable): void => {
  describe(title, () => {
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
