/** The cases of the website rules: changes to a valid record and what validation must say. */
import type { CaseTable } from "../support/ValidationCases.ts"

export const cases: CaseTable = {
  company: [
    { label: "website: missing", set: { website: null }, reason: "EMPTY_WEBSITE", errors: ["website"] },
    {
      label: "website: www. without a scheme suggests https://www.",
      set: { website: "www.monongaliacounty.com" },
      reason: "INVALID_WEBSITE",
      errors: ["website"],
      says: "write it as https://www.monongaliacounty.com"
    },
    {
      label: "website: a bare domain suggests https://",
      set: { website: "monongaliacounty.com/contact" },
      reason: "INVALID_WEBSITE",
      errors: ["website"],
      says: "write it as https://monongaliacounty.com/contact"
    },
    {
      label: "website: upper case is fine",
      set: { website: "HTTPS://WWW.MONONGALIACOUNTY.COM/" },
      reason: "PASSED"
    },
    { label: "website: http is fine", set: { website: "http://monongaliacounty.com" }, reason: "PASSED" },
    {
      label: "website: a page with a path and a query is fine",
      set: { website: "https://monongaliacounty.com/about-us?ref=google#top" },
      reason: "PASSED"
    },
    {
      label: "website: a port is fine",
      set: { website: "https://monongaliacounty.com:8443/" },
      reason: "PASSED"
    },
    {
      label: "website: a trailing dot on the host is accepted with a warning",
      set: { website: "https://monongaliacounty.com./" },
      reason: "PASSED",
      warnings: ["website"],
      says: "write https://monongaliacounty.com"
    },
    {
      label: "website: an IDN host with its Unicode domain",
      set: { website: "https://bücher.de", domain: "bücher.de" },
      reason: "PASSED"
    },
    {
      label: "website: an IDN host with its punycode domain",
      set: { website: "https://www.bücher.de/impressum", domain: "xn--bcher-kva.de" },
      reason: "PASSED"
    },
    {
      label: "website: an IDN host derives its punycode domain",
      set: { website: "https://BÜCHER.de", domain: null },
      reason: "PASSED",
      derived: { domain: "xn--bcher-kva.de" }
    },
    {
      label: "website: ftp:// is not http(s)",
      set: { website: "ftp://monongaliacounty.com" },
      reason: "INVALID_WEBSITE",
      errors: ["website"],
      says: "write it as https://monongaliacounty.com"
    },
    {
      label: "website: a malformed scheme",
      set: { website: "http:/monongaliacounty.com" },
      reason: "INVALID_WEBSITE",
      errors: ["website"],
      says: "write it as http://monongaliacounty.com"
    },
    {
      label: "website: the scheme pasted twice",
      set: { website: "https://https://monongaliacounty.com" },
      reason: "INVALID_WEBSITE",
      errors: ["website"],
      says: "written twice: write it as https://monongaliacounty.com"
    },
    {
      label: "website: a mailto: link",
      set: { website: "mailto:info@monongaliacounty.com" },
      reason: "INVALID_WEBSITE",
      errors: ["website"],
      says: "an email address, not a website: write the company's site, e.g. https://monongaliacounty.com"
    },
    {
      label: "website: an email address",
      set: { website: "info@monongaliacounty.com" },
      reason: "INVALID_WEBSITE",
      errors: ["website"],
      says: "https://monongaliacounty.com"
    },
    {
      label: "website: N/A",
      set: { website: "N/A" },
      reason: "INVALID_WEBSITE",
      errors: ["website"],
      says: "placeholder"
    },
    {
      label: "website: a spreadsheet #N/A",
      set: { website: "#N/A" },
      reason: "INVALID_WEBSITE",
      errors: ["website"],
      says: "placeholder"
    },
    {
      label: "website: no top-level domain",
      set: { website: "https://localhost/" },
      reason: "INVALID_WEBSITE",
      errors: ["website"],
      says: "no top-level domain"
    },
    {
      label: "website: an IP address",
      set: { website: "http://192.168.1.10/" },
      reason: "INVALID_WEBSITE",
      errors: ["website"],
      says: "IP address"
    },
    {
      label: "website: spaces in the host",
      set: { website: "https://monongalia county.com" },
      reason: "INVALID_WEBSITE",
      errors: ["website"],
      says: "spaces"
    },
    {
      label: "website: an underscore in the host",
      set: { website: "https://monongalia_county.com" },
      reason: "INVALID_WEBSITE",
      errors: ["website"],
      says: "cannot hold"
    },
    {
      label: "website: a label starting with a hyphen",
      set: { website: "https://-monongalia.com" },
      reason: "INVALID_WEBSITE",
      errors: ["website"],
      says: "hyphen"
    },
    {
      label: "website: a top-level domain with a digit",
      set: { website: "https://monongaliacounty.c0m" },
      reason: "INVALID_WEBSITE",
      errors: ["website"],
      says: "not letters"
    },
    {
      label: "website: two dots in a row",
      set: { website: "https://monongaliacounty..com" },
      reason: "INVALID_WEBSITE",
      errors: ["website"],
      says: "empty label"
    },
    {
      label: "website: credentials in the URL",
      set: { website: "https://admin:secret@monongaliacounty.com/" },
      reason: "INVALID_WEBSITE",
      errors: ["website"],
      says: "write it without them, as https://monongaliacounty.com"
    },
    {
      label: "website: protocol-relative",
      set: { website: "//monongaliacounty.com" },
      reason: "INVALID_WEBSITE",
      errors: ["website"],
      says: "write it as https://monongaliacounty.com"
    },
    {
      label: "website: a Facebook page is accepted with a warning and derives no domain",
      set: { website: "https://www.facebook.com/MonongaliaCounty", domain: null },
      reason: "PASSED",
      warnings: ["website"],
      says: "facebook.com page"
    },
    {
      label: "website: a Facebook page is not compared with the domain",
      set: { website: "https://www.facebook.com/MonongaliaCounty" },
      reason: "PASSED",
      warnings: ["website"]
    }
  ],
  person: []
}
