/**
 * The reason codes a validation outcome names, each with its meaning.
 */

/**
 * The reason codes, with their meaning. `reason_code` is the code of the first error by field priority,
 * or `PASSED`.
 */
export const reasonCodes = {
  PASSED: "no errors: the record may be promoted to the master table",
  WRONG_TYPE: "a field holds a value of the wrong type (a number where text belongs, a list, an object, ...)",
  INVALID_BARTON_ID: "the record's key is empty or not a Barton ID (NN.NN.NN.NN.NNNNN.NNN)",
  MISSING_NAME:
    "no name: a company needs company_name; a person needs full_name, or first_name and last_name",
  EMPTY_WEBSITE: "the company has no website (the seed's code; the message is exactly `empty or blank`)",
  INVALID_WEBSITE: "the website is not an http(s) URL with a real host name",
  INVALID_DOMAIN:
    "the domain is not a bare domain name (a URL, an email address, spaces, no top-level domain)",
  DOMAIN_MISMATCH:
    "the domain is not the website's host (nor a parent of it), ignoring case, `www.` and a final dot",
  INVALID_EMPLOYEE_COUNT: "the employee count is not a whole number",
  NEGATIVE_EMPLOYEE_COUNT: "the employee count is negative",
  INVALID_PHONE:
    "the phone is not a plausible number (10 US digits, 11 starting with 1, or + and 8 to 15 digits)",
  INVALID_STATE: "the state is not a two-letter US state, DC or territory code",
  INVALID_ZIP: "the ZIP code is not 5 digits or ZIP+4 (12345-6789)",
  EMPTY_EMAIL: "the person has no email address",
  INVALID_EMAIL: "the email is not a single, syntactically valid address",
  INVALID_LINKEDIN_URL: "the LinkedIn URL is not a profile URL (linkedin.com/in/<name>)",
  INVALID_COMPANY_ID: "the person's company_unique_id is not a Barton ID"
} as const

/** A reason code (see `reasonCodes`). */
export type ReasonCode = keyof typeof reasonCodes
