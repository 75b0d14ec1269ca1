/** The cases of how the rules compose: wrong types, and the field priority that picks the reason code: changes to a valid record and what validation must say. */
import type { CaseTable } from "../support/ValidationCases.ts"

export const cases: CaseTable = {
  company: [
    {
      label: "type: a number as the website",
      set: { website: 42 },
      reason: "WRONG_TYPE",
      errors: ["website"]
    },
    {
      label: "type: a number as the phone",
      set: { phone: 3045550101 },
      reason: "WRONG_TYPE",
      errors: ["phone"]
    },
    { label: "type: a list as the state", set: { state: ["WV"] }, reason: "WRONG_TYPE", errors: ["state"] },
    {
      label: "type: an object as the city",
      set: { city: { name: "Morgantown" } },
      reason: "WRONG_TYPE",
      errors: ["city"]
    },
    {
      label: "priority: the name before the website",
      set: { company_name: null, website: null },
      reason: "MISSING_NAME",
      errors: ["company_name", "website"]
    },
    {
      label: "priority: the key before everything",
      set: { company_unique_id: "x", zip: "1", state: "Virginia", phone: "555" },
      reason: "INVALID_BARTON_ID",
      errors: ["company_unique_id", "phone", "state", "zip"]
    }
  ],
  person: [
    {
      label: "type: a list of emails",
      set: { email: ["jane@monongaliacounty.com"] },
      reason: "WRONG_TYPE",
      errors: ["email"]
    },
    { label: "type: a boolean title", set: { title: true }, reason: "WRONG_TYPE", errors: ["title"] },
    {
      label: "priority: the key, then the name, then the email",
      set: { unique_id: null, full_name: null, first_name: null, email: null, linkedin_url: "x" },
      reason: "INVALID_BARTON_ID",
      errors: ["unique_id", "full_name", "email", "linkedin_url"]
    }
  ]
}
