/** The cases of the phone rules: changes to a valid record and what validation must say. */
import type { CaseTable } from "../support/ValidationCases.ts"

export const cases: CaseTable = {
  company: [
    { label: "phone: (304) 555-0101", set: { phone: "(304) 555-0101" }, reason: "PASSED" },
    { label: "phone: 304.555.0101", set: { phone: "304.555.0101" }, reason: "PASSED" },
    { label: "phone: +1 304 555 0101", set: { phone: "+1 304 555 0101" }, reason: "PASSED" },
    { label: "phone: 1-304-555-0101", set: { phone: "1-304-555-0101" }, reason: "PASSED" },
    { label: "phone: digits only", set: { phone: "3045550101" }, reason: "PASSED" },
    { label: "phone: en dashes from a word processor", set: { phone: "304–555–0101" }, reason: "PASSED" },
    { label: "phone: extension x123", set: { phone: "304-555-0101 x123" }, reason: "PASSED" },
    { label: "phone: extension ext. 123", set: { phone: "(304) 555-0101 ext. 123" }, reason: "PASSED" },
    {
      label: "phone: an international number is accepted with a warning",
      set: { phone: "+44 20 7946 0958" },
      reason: "PASSED",
      warnings: ["phone"],
      says: "international"
    },
    {
      label: "phone: no area code",
      set: { phone: "555-0101" },
      reason: "INVALID_PHONE",
      errors: ["phone"],
      says: "area code is missing"
    },
    {
      label: "phone: an area code starting with 1",
      set: { phone: "(123) 555-0101" },
      reason: "INVALID_PHONE",
      errors: ["phone"],
      says: "area code (123)"
    },
    {
      label: "phone: an exchange starting with 1",
      set: { phone: "(304) 155-0101" },
      reason: "INVALID_PHONE",
      errors: ["phone"],
      says: "exchange (155"
    },
    {
      label: "phone: letters",
      set: { phone: "1-800-FLOWERS" },
      reason: "INVALID_PHONE",
      errors: ["phone"],
      says: "letters"
    },
    {
      label: "phone: two numbers",
      set: { phone: "304-555-0101 / 304-555-0102" },
      reason: "INVALID_PHONE",
      errors: ["phone"],
      says: "keep one"
    },
    {
      label: "phone: a tel: link",
      set: { phone: "tel:+13045550101" },
      reason: "INVALID_PHONE",
      errors: ["phone"],
      says: "write just the number, +13045550101"
    },
    {
      label: "phone: +1 with a digit missing",
      set: { phone: "+1 304 555 010" },
      reason: "INVALID_PHONE",
      errors: ["phone"],
      says: "10 digits after +1"
    },
    {
      label: "phone: the 011 prefix",
      set: { phone: "011 44 20 7946 0958" },
      reason: "INVALID_PHONE",
      errors: ["phone"],
      says: "write + instead"
    },
    {
      label: "phone: too short an international number",
      set: { phone: "+44 123" },
      reason: "INVALID_PHONE",
      errors: ["phone"]
    }
  ],
  person: [
    { label: "phone: invalid", set: { phone: "291-7257" }, reason: "INVALID_PHONE", errors: ["phone"] },
    { label: "phone: missing is fine", set: { phone: null }, reason: "PASSED" }
  ]
}
