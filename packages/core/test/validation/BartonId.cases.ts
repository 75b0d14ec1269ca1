/** The cases of the Barton ID rules (keys and company ids): changes to a valid record and what validation must say. */
import type { CaseTable } from "../support/ValidationCases.ts"

export const cases: CaseTable = {
  company: [
    {
      label: "key: a Barton ID without its padding",
      set: { company_unique_id: "4.4.1.1.101.101" },
      reason: "INVALID_BARTON_ID",
      errors: ["company_unique_id"],
      says: "NN.NN.NN.NN.NNNNN.NNN"
    },
    {
      label: "key: a letter O for a zero",
      set: { company_unique_id: "04.04.01.01.00101.1O1" },
      reason: "INVALID_BARTON_ID",
      errors: ["company_unique_id"]
    },
    {
      label: "key: missing",
      set: { company_unique_id: null },
      reason: "INVALID_BARTON_ID",
      errors: ["company_unique_id"]
    }
  ],
  person: [
    { label: "company id: missing is fine", set: { company_unique_id: null }, reason: "PASSED" },
    {
      label: "company id: not a Barton ID",
      set: { company_unique_id: "04.04.01.01.00101" },
      reason: "INVALID_COMPANY_ID",
      errors: ["company_unique_id"]
    },
    {
      label: "key: not a Barton ID",
      set: { unique_id: "P-0001" },
      reason: "INVALID_BARTON_ID",
      errors: ["unique_id"]
    }
  ]
}
