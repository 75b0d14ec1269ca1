/**
 * A company's domain: a bare domain name, consistent with the website's host (the host itself or a parent
 * of it); upper case, `www.` or a final dot are accepted with a warning.
 */
import { domainToASCII } from "node:url"
import type { Read } from "./FieldText.ts"
import { isPlaceholder, shown } from "./FieldText.ts"
import { domainKey, domainKeyOf, hostProblem, withoutFinalDot, withoutWww } from "./HostName.ts"
import type { Verdict } from "./Verdict.ts"
import { fail, pass, wrongType } from "./Verdict.ts"

/** The `domainKey` of a URL's host (the scheme may be missing), or null when it has no domain name. */
const hostOfUrl = (text: string): string | null => {
  try {
    return domainKeyOf(new URL(/^[a-z][a-z0-9+.-]*:/i.test(text) ? text : `https://${text}`).hostname)
  } catch {
    return null
  }
}

export const checkDomain = (read: Read, websiteKey: string | null): Verdict => {
  if (read.kind === "wrong") return wrongType(read.found, "example.com")
  if (read.kind === "absent") return pass()
  const text = read.text
  const suggestion = websiteKey ?? "example.com"
  const invalid = (what: string, fix: string = suggestion) =>
    fail(
      "INVALID_DOMAIN",
      `${what}: write just the domain, ${fix}, or leave it empty to derive it from the website`
    )
  if (isPlaceholder(text)) return invalid(`a placeholder (${shown(text)}), not a domain`)
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text) || /^https?:/i.test(text) || text.includes("/")) {
    return invalid("a URL, not a domain", hostOfUrl(text) ?? suggestion)
  }
  if (text.includes("@")) {
    const after = text.slice(text.lastIndexOf("@") + 1)
    return invalid("an email address, not a domain", domainKeyOf(domainToASCII(after)) ?? suggestion)
  }
  if (/\s/.test(text)) return invalid("contains spaces")
  if (/[:\\?#%[\]<>,;"'`|{}^*=+!$&()~]/.test(text)) return invalid("not a domain name (it holds punctuation)")
  const ascii = domainToASCII(text)
  if (ascii === "") return invalid("not a domain name")
  const bare = withoutFinalDot(ascii)
  const problem = hostProblem(bare)
  if (problem !== null) return invalid(`not a domain name, it ${problem}`)
  const key = domainKey(bare)
  const warnings: Array<string> = []
  if (websiteKey !== null && key !== websiteKey) {
    if (!websiteKey.endsWith(`.${key}`)) {
      return fail(
        "DOMAIN_MISMATCH",
        `does not match the website's host (${websiteKey}): write ${websiteKey}, or correct the website`
      )
    }
    warnings.push(
      `the website is on ${websiteKey}, a subdomain of ${key}: fine if ${key} is the company's domain`
    )
  }
  const lower = withoutFinalDot(text.toLowerCase())
  const tidy = withoutWww(lower)
  const styles: Array<string> = []
  if (text !== text.toLowerCase()) styles.push("upper case")
  if (tidy !== lower) styles.push("a www. prefix")
  if (text.endsWith(".")) styles.push("a final dot")
  if (styles.length > 0) warnings.push(`written with ${styles.join(", ")}: write ${tidy}`)
  return pass(warnings.length === 0 ? null : warnings.join("; "))
}
