/** The cases of the email rules: changes to a valid record and what validation must say. */
import type { CaseTable } from "../support/ValidationCases.ts"

export const cases: CaseTable = {
  company: [],
  person: [
    {
      label: "email: missing",
      set: { email: null },
      reason: "EMPTY_EMAIL",
      errors: ["email"],
      says: "write the person's email address"
    },
    {
      label: "email: a pasted mailto:",
      set: { email: "mailto:jane.doe@monongaliacounty.com" },
      reason: "INVALID_EMAIL",
      errors: ["email"],
      says: "write just the address, jane.doe@monongaliacounty.com"
    },
    {
      label: "email: MAILTO: with a subject",
      set: { email: "MAILTO:jane.doe@monongaliacounty.com?subject=Hello" },
      reason: "INVALID_EMAIL",
      errors: ["email"],
      says: "write just the address, jane.doe@monongaliacounty.com"
    },
    {
      label: "email: a display name",
      set: { email: "Jane Doe <jane.doe@monongaliacounty.com>" },
      reason: "INVALID_EMAIL",
      errors: ["email"],
      says: "write just the address, jane.doe@monongaliacounty.com"
    },
    {
      label: "email: angle brackets",
      set: { email: "<jane.doe@monongaliacounty.com>" },
      reason: "INVALID_EMAIL",
      errors: ["email"],
      says: "jane.doe@monongaliacounty.com"
    },
    {
      label: "email: no top-level domain",
      set: { email: "jane.doe@monongaliacounty" },
      reason: "INVALID_EMAIL",
      errors: ["email"],
      says: "no top-level domain"
    },
    {
      label: "email: two dots in a row",
      set: { email: "jane..doe@monongaliacounty.com" },
      reason: "INVALID_EMAIL",
      errors: ["email"],
      says: "write jane.doe@monongaliacounty.com"
    },
    {
      label: "email: a leading dot",
      set: { email: ".jane@monongaliacounty.com" },
      reason: "INVALID_EMAIL",
      errors: ["email"],
      says: "write jane@monongaliacounty.com"
    },
    {
      label: "email: a trailing dot before the @",
      set: { email: "jane.@monongaliacounty.com" },
      reason: "INVALID_EMAIL",
      errors: ["email"]
    },
    {
      label: "email: a trailing dot after the domain",
      set: { email: "jane.doe@monongaliacounty.com." },
      reason: "INVALID_EMAIL",
      errors: ["email"],
      says: "write jane.doe@monongaliacounty.com"
    },
    {
      label: "email: a space",
      set: { email: "jane doe@monongaliacounty.com" },
      reason: "INVALID_EMAIL",
      errors: ["email"],
      says: "write janedoe@monongaliacounty.com"
    },
    {
      label: "email: two addresses",
      set: { email: "jane@monongaliacounty.com, jdoe@gmail.com" },
      reason: "INVALID_EMAIL",
      errors: ["email"],
      says: "keep one"
    },
    {
      label: "email: a stray semicolon",
      set: { email: "jane.doe@monongaliacounty.com;" },
      reason: "INVALID_EMAIL",
      errors: ["email"],
      says: "write jane.doe@monongaliacounty.com"
    },
    {
      label: "email: a doubled @",
      set: { email: "jane.doe@@monongaliacounty.com" },
      reason: "INVALID_EMAIL",
      errors: ["email"],
      says: "write jane.doe@monongaliacounty.com"
    },
    {
      label: "email: (at) for @",
      set: { email: "jane.doe(at)monongaliacounty.com" },
      reason: "INVALID_EMAIL",
      errors: ["email"],
      says: "no @"
    },
    {
      label: "email: a one-letter top-level domain",
      set: { email: "jane@monongaliacounty.c" },
      reason: "INVALID_EMAIL",
      errors: ["email"]
    },
    {
      label: "email: an IP address",
      set: { email: "jane@192.168.1.1" },
      reason: "INVALID_EMAIL",
      errors: ["email"]
    },
    { label: "email: a placeholder", set: { email: "n/a" }, reason: "INVALID_EMAIL", errors: ["email"] },
    { label: "email: upper case is fine", set: { email: "JANE.DOE@MONONGALIACOUNTY.COM" }, reason: "PASSED" },
    { label: "email: a plus tag is fine", set: { email: "jane+crm@monongaliacounty.com" }, reason: "PASSED" },
    { label: "email: an IDN domain is fine", set: { email: "jürgen@bücher.de" }, reason: "PASSED" }
  ]
}
