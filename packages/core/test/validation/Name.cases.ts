/** The cases of the name rules: changes to a valid record and what validation must say. */
import type { CaseTable } from "../support/ValidationCases.ts"

export const cases: CaseTable = {
  company: [
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
    }
  ],
  person: [
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
    }
  ]
}
