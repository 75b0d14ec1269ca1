/** The cases of the state and ZIP rules: changes to a valid record and what validation must say. */
import type { CaseTable } from "../support/ValidationCases.ts"

export const cases: CaseTable = {
  company: [
    { label: "state: WV", set: { state: "WV" }, reason: "PASSED" },
    { label: "state: DC", set: { state: "DC" }, reason: "PASSED" },
    { label: "state: a territory (PR)", set: { state: "PR" }, reason: "PASSED" },
    {
      label: "state: lower case is accepted with a warning",
      set: { state: "wv" },
      reason: "PASSED",
      warnings: ["state"],
      says: "write WV"
    },
    {
      label: "state: the state's name",
      set: { state: "West Virginia" },
      reason: "INVALID_STATE",
      errors: ["state"],
      says: "write the two-letter code WV"
    },
    {
      label: "state: with dots",
      set: { state: "W.V." },
      reason: "INVALID_STATE",
      errors: ["state"],
      says: "WV"
    },
    { label: "state: not a state", set: { state: "ZZ" }, reason: "INVALID_STATE", errors: ["state"] },
    { label: "zip: 5 digits", set: { zip: "26505" }, reason: "PASSED" },
    { label: "zip: ZIP+4", set: { zip: "26505-1234" }, reason: "PASSED" },
    {
      label: "zip: the leading zero lost by a spreadsheet",
      set: { zip: "2134" },
      reason: "INVALID_ZIP",
      errors: ["zip"],
      says: "leading zero: write 02134"
    },
    {
      label: "zip: ZIP+4 without its hyphen",
      set: { zip: "265051234" },
      reason: "INVALID_ZIP",
      errors: ["zip"],
      says: "write 26505-1234"
    },
    {
      label: "zip: a decimal number from a spreadsheet",
      set: { zip: "26505.0" },
      reason: "INVALID_ZIP",
      errors: ["zip"],
      says: "write 26505"
    },
    { label: "zip: letters", set: { zip: "ABCDE" }, reason: "INVALID_ZIP", errors: ["zip"] }
  ],
  person: [{ label: "state: lower case", set: { state: "wv" }, reason: "PASSED", warnings: ["state"] }]
}
