/** The cases of the employee count rule: changes to a valid record and what validation must say. */
import type { CaseTable } from "../support/ValidationCases.ts"

export const cases: CaseTable = {
  company: [
    { label: "employees: zero", set: { employee_count: 0 }, reason: "PASSED" },
    { label: "employees: unknown", set: { employee_count: null }, reason: "PASSED" },
    {
      label: "employees: negative",
      set: { employee_count: -3 },
      reason: "NEGATIVE_EMPLOYEE_COUNT",
      errors: ["employee_count"],
      says: "negative (-3)"
    },
    {
      label: "employees: a fraction",
      set: { employee_count: 12.5 },
      reason: "INVALID_EMPLOYEE_COUNT",
      errors: ["employee_count"]
    },
    {
      label: "employees: text",
      set: { employee_count: "250" },
      reason: "WRONG_TYPE",
      errors: ["employee_count"]
    }
  ],
  person: []
}
