/** The cases of the domain rules: changes to a valid record and what validation must say. */
import type { CaseTable } from "../support/ValidationCases.ts"

export const cases: CaseTable = {
  company: [
    {
      label: "domain: upper case is consistent, with a warning",
      set: { domain: "MonongaliaCounty.COM" },
      reason: "PASSED",
      warnings: ["domain"],
      says: "write monongaliacounty.com"
    },
    {
      label: "domain: a www. prefix is consistent, with a warning",
      set: { domain: "www.monongaliacounty.com" },
      reason: "PASSED",
      warnings: ["domain"],
      says: "write monongaliacounty.com"
    },
    {
      label: "domain: a trailing dot is consistent, with a warning",
      set: { domain: "monongaliacounty.com." },
      reason: "PASSED",
      warnings: ["domain"],
      says: "final dot: write monongaliacounty.com"
    },
    {
      label: "domain: the website's www. is ignored",
      set: { website: "https://www.monongaliacounty.com" },
      reason: "PASSED"
    },
    {
      label: "domain: missing is derived from the website",
      set: { domain: null },
      reason: "PASSED",
      derived: { domain: "monongaliacounty.com" }
    },
    {
      label: "domain: derived in lower case, without www. and the final dot",
      set: { website: "HTTP://WWW.MonongaliaCounty.COM./Home", domain: null },
      reason: "PASSED",
      warnings: ["website"],
      derived: { domain: "monongaliacounty.com" }
    },
    {
      label: "domain: a URL is an error that names the host",
      set: { domain: "https://monongaliacounty.com/" },
      reason: "INVALID_DOMAIN",
      errors: ["domain"],
      says: "a URL, not a domain: write just the domain, monongaliacounty.com"
    },
    {
      label: "domain: a host with a path",
      set: { domain: "monongaliacounty.com/contact" },
      reason: "INVALID_DOMAIN",
      errors: ["domain"],
      says: "monongaliacounty.com"
    },
    {
      label: "domain: an email address",
      set: { domain: "info@monongaliacounty.com" },
      reason: "INVALID_DOMAIN",
      errors: ["domain"],
      says: "an email address, not a domain"
    },
    {
      label: "domain: no top-level domain",
      set: { domain: "monongaliacounty" },
      reason: "INVALID_DOMAIN",
      errors: ["domain"],
      says: "no top-level domain"
    },
    {
      label: "domain: a port",
      set: { domain: "monongaliacounty.com:443" },
      reason: "INVALID_DOMAIN",
      errors: ["domain"]
    },
    {
      label: "domain: another company's domain",
      set: { domain: "wvcounty.org" },
      reason: "DOMAIN_MISMATCH",
      errors: ["domain"],
      says: "write monongaliacounty.com, or correct the website"
    },
    {
      label: "domain: a website on a subdomain of the domain is consistent, with a warning",
      set: { website: "https://gis.monongaliacounty.com/maps", domain: "monongaliacounty.com" },
      reason: "PASSED",
      warnings: ["domain"],
      says: "subdomain"
    },
    {
      label: "domain: a subdomain of the website's host does not match",
      set: { domain: "gis.monongaliacounty.com" },
      reason: "DOMAIN_MISMATCH",
      errors: ["domain"]
    },
    {
      label: "domain: without a website only the website fails, nothing is derived",
      set: { website: null, domain: null },
      reason: "EMPTY_WEBSITE",
      errors: ["website"]
    },
    {
      label: "domain: an invalid website derives nothing",
      set: { website: "monongaliacounty", domain: null },
      reason: "INVALID_WEBSITE",
      errors: ["website"]
    },
    {
      label: "domain: checked on its own when the website is missing",
      set: { website: null, domain: "https://monongaliacounty.com" },
      reason: "EMPTY_WEBSITE",
      errors: ["website", "domain"]
    }
  ],
  person: []
}
