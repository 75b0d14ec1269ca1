/**
 * A person's LinkedIn URL: empty, or a profile URL (`linkedin.com/in/<name>`); a missing scheme or more
 * path after the profile name is accepted with a warning.
 */
import { isPlaceholder, optionalText, shown } from "./FieldText.ts"
import { withoutFinalDot } from "./HostName.ts"
import { fail, pass } from "./Verdict.ts"

const exampleProfile = "https://www.linkedin.com/in/<name>"

export const checkLinkedin = optionalText(exampleProfile, (text) => {
  const invalid = (what: string) => fail("INVALID_LINKEDIN_URL", what)
  if (isPlaceholder(text)) {
    return invalid(
      `a placeholder (${shown(text)}): write the person's profile URL, ${exampleProfile}, or leave it empty`
    )
  }
  if (/\s/.test(text)) return invalid(`contains spaces: write a single profile URL, ${exampleProfile}`)
  const hasScheme = /^https?:\/\//i.test(text)
  const bareLinkedin = /^(?:[a-z0-9-]+\.)*(?:linkedin\.com|lnkd\.in)(?:[:/?#]|$)/i.test(text)
  if (!hasScheme && !bareLinkedin)
    return invalid(`not a LinkedIn URL: write the person's profile URL, ${exampleProfile}`)
  let url: URL
  try {
    url = new URL(hasScheme ? text : `https://${text}`)
  } catch {
    return invalid(`not a valid URL: write the person's profile URL, ${exampleProfile}`)
  }
  const host = withoutFinalDot(url.hostname)
  if (host === "lnkd.in")
    return invalid(`a shortened link: open it and copy the profile URL, ${exampleProfile}`)
  if (host !== "linkedin.com" && !host.endsWith(".linkedin.com")) {
    return invalid(
      `not a LinkedIn URL (the host is ${shown(host)}): write the person's profile URL, ${exampleProfile}`
    )
  }
  const segments = url.pathname.split("/").filter((segment) => segment !== "")
  const section = (segments[0] ?? "").toLowerCase()
  if (section === "company") {
    return invalid(
      `a company page, not a person's profile: write the person's profile URL, ${exampleProfile}`
    )
  }
  if (section === "pub") {
    return invalid(
      `an old public-profile URL (/pub/): open it and copy the current profile URL, ${exampleProfile}`
    )
  }
  if (section !== "in") {
    return invalid(
      `not a profile URL (${shown(url.pathname)}): write the person's profile URL, ${exampleProfile}`
    )
  }
  const slug = segments[1]
  if (slug === undefined) return invalid(`has no profile name after /in/: write ${exampleProfile}`)
  const profile = shown(`https://${host}/in/${slug}`)
  const warnings: Array<string> = []
  if (!hasScheme) warnings.push(`missing https://: write ${profile}`)
  if (segments.length > 2) warnings.push(`has more after the profile name: write ${profile}`)
  return pass(warnings.length === 0 ? null : warnings.join("; "))
})
