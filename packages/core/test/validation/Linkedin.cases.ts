/** The cases of the LinkedIn rules: changes to a valid record and what validation must say. */
import type { CaseTable } from "../support/ValidationCases.ts"

export const cases: CaseTable = {
  company: [],
  person: [
    { label: "linkedin: missing is fine", set: { linkedin_url: null }, reason: "PASSED" },
    {
      label: "linkedin: a country subdomain and a trailing slash",
      set: { linkedin_url: "https://uk.linkedin.com/in/jane-doe-123/" },
      reason: "PASSED"
    },
    {
      label: "linkedin: tracking parameters are fine",
      set: { linkedin_url: "https://www.linkedin.com/in/jane-doe-123?originalSubdomain=uk" },
      reason: "PASSED"
    },
    {
      label: "linkedin: upper case is fine",
      set: { linkedin_url: "HTTPS://WWW.LINKEDIN.COM/in/Jane-Doe" },
      reason: "PASSED"
    },
    {
      label: "linkedin: no scheme is accepted with a warning",
      set: { linkedin_url: "www.linkedin.com/in/jane-doe-123" },
      reason: "PASSED",
      warnings: ["linkedin_url"],
      says: "write https://www.linkedin.com/in/jane-doe-123"
    },
    {
      label: "linkedin: extra path after the profile is accepted with a warning",
      set: { linkedin_url: "https://www.linkedin.com/in/jane-doe-123/overlay/contact-info/" },
      reason: "PASSED",
      warnings: ["linkedin_url"],
      says: "write https://www.linkedin.com/in/jane-doe-123"
    },
    {
      label: "linkedin: a company page",
      set: { linkedin_url: "https://www.linkedin.com/company/monongalia-county" },
      reason: "INVALID_LINKEDIN_URL",
      errors: ["linkedin_url"],
      says: "a company page, not a person's profile"
    },
    {
      label: "linkedin: an old /pub/ URL",
      set: { linkedin_url: "http://www.linkedin.com/pub/jane-doe/12/345/678" },
      reason: "INVALID_LINKEDIN_URL",
      errors: ["linkedin_url"],
      says: "/pub/"
    },
    {
      label: "linkedin: no profile name",
      set: { linkedin_url: "https://www.linkedin.com/in/" },
      reason: "INVALID_LINKEDIN_URL",
      errors: ["linkedin_url"]
    },
    {
      label: "linkedin: a shortened link",
      set: { linkedin_url: "https://lnkd.in/eXaMpLe" },
      reason: "INVALID_LINKEDIN_URL",
      errors: ["linkedin_url"],
      says: "shortened"
    },
    {
      label: "linkedin: a look-alike host",
      set: { linkedin_url: "https://linkedin.com.example.net/in/jane" },
      reason: "INVALID_LINKEDIN_URL",
      errors: ["linkedin_url"]
    },
    {
      label: "linkedin: a typo in the host",
      set: { linkedin_url: "https://www.linkedln.com/in/jane" },
      reason: "INVALID_LINKEDIN_URL",
      errors: ["linkedin_url"]
    },
    {
      label: "linkedin: just the slug",
      set: { linkedin_url: "jane-doe-123" },
      reason: "INVALID_LINKEDIN_URL",
      errors: ["linkedin_url"]
    },
    {
      label: "linkedin: a search page",
      set: { linkedin_url: "https://www.linkedin.com/search/results/people/?keywords=jane" },
      reason: "INVALID_LINKEDIN_URL",
      errors: ["linkedin_url"],
      says: "not a profile URL"
    }
  ]
}
