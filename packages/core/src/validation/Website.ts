/**
 * A company's website: an http(s) URL whose host is a domain name, with a suggestion for every common
 * slip (no scheme, a doubled or malformed one, an email address); also the host the domain is compared
 * with (none for a page on a hosting platform).
 */
import { domainToASCII } from "node:url"
import type { Read } from "./FieldText.ts"
import { isPlaceholder, shown } from "./FieldText.ts"
import { domainKey, domainKeyOf, hostProblem, platformOf, withoutFinalDot } from "./HostName.ts"
import type { Verdict } from "./Verdict.ts"
import { fail, pass, wrongType } from "./Verdict.ts"

const exampleSite = "https://example.com"

/** A checked website: the verdict, and the host to compare the domain with (null when there is none). */
export interface WebsiteCheck {
  readonly verdict: Verdict
  readonly key: string | null
}

const invalidWebsite = (message: string): WebsiteCheck => ({
  verdict: fail("INVALID_WEBSITE", message),
  key: null
})

/** Checks a URL that starts with `http://` or `https://`. */
const checkHttpUrl = (text: string): WebsiteCheck => {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return invalidWebsite(`not a valid URL: write it as ${exampleSite}`)
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return invalidWebsite(`not an http(s) URL: write it as ${exampleSite}`)
  }
  const host = withoutFinalDot(url.hostname)
  const port = url.port === "" ? "" : `:${url.port}`
  const rest = `${url.pathname === "/" ? "" : url.pathname}${url.search}${url.hash}`
  const clean = shown(`${url.protocol}//${host}${port}${rest}`)
  if (url.username !== "" || url.password !== "") {
    return invalidWebsite(`contains a user name or password: write it without them, as ${clean}`)
  }
  const problem = hostProblem(host)
  if (problem !== null) {
    return invalidWebsite(`the host (${shown(url.hostname)}) ${problem}: write the site as ${exampleSite}`)
  }
  const key = domainKey(host)
  const warnings: Array<string> = []
  if (url.hostname.endsWith(".")) warnings.push(`the host ends with a dot: write ${clean}`)
  const platform = platformOf(key)
  if (platform !== undefined) {
    warnings.push(
      `a ${platform} page, not the company's own site: write the company's website if it has one ` +
        "(no domain is derived from it)"
    )
  }
  return {
    verdict: pass(warnings.length === 0 ? null : warnings.join("; ")),
    key: platform === undefined ? key : null
  }
}

const emailDomainSuggestion = (address: string): string => {
  const domain = address.slice(address.lastIndexOf("@") + 1).split(/[?>\s]/)[0] ?? ""
  const key = domainKeyOf(domainToASCII(domain))
  return key === null ? exampleSite : `https://${key}`
}

export const checkWebsite = (read: Read): WebsiteCheck => {
  if (read.kind === "wrong") return { verdict: wrongType(read.found, exampleSite), key: null }
  if (read.kind === "absent") return { verdict: fail("EMPTY_WEBSITE", "empty or blank"), key: null }
  const text = read.text
  if (isPlaceholder(text)) {
    return invalidWebsite(
      `a placeholder (${shown(text)}), not a website: find the company's site and write it as ${exampleSite}`
    )
  }
  if (/\s/.test(text)) {
    return invalidWebsite(`contains spaces: write a single address without spaces, e.g. ${exampleSite}`)
  }
  const doubled = /^https?:\/*(https?:\/*)(.*)$/i.exec(text)
  if (doubled !== null) {
    return invalidWebsite(`the scheme is written twice: write it as ${shown(`https://${doubled[2]}`)}`)
  }
  if (/^https?:\/\//i.test(text)) return checkHttpUrl(text)
  const malformed = /^(https?):[\\/]*(.*)$/i.exec(text)
  if (malformed !== null) {
    return invalidWebsite(
      `the scheme is malformed: write it as ${shown(`${malformed[1]!.toLowerCase()}://${malformed[2]}`)}`
    )
  }
  if (/^mailto:/i.test(text) || (text.includes("@") && !text.includes("/"))) {
    return invalidWebsite(
      `an email address, not a website: write the company's site, e.g. ${emailDomainSuggestion(text)}`
    )
  }
  const other = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)
  if (other !== null) {
    return invalidWebsite(
      `not an http(s) URL (${other[1]!.toLowerCase()}://): write it as ${shown(`https://${text.slice(other[0].length)}`)}`
    )
  }
  if (text.startsWith("//")) {
    return invalidWebsite(`not an http(s) URL (the scheme is missing): write it as ${shown(`https:${text}`)}`)
  }
  const candidate = `https://${text}`
  if (checkHttpUrl(candidate).verdict.ok) {
    return invalidWebsite(`not an http(s) URL (the scheme is missing): write it as ${shown(candidate)}`)
  }
  return invalidWebsite(`not an http(s) URL: write the company's website as ${exampleSite}`)
}
