/**
 * Host names as the website, domain and email rules compare them: what makes an ASCII host a domain
 * name, the form hosts are compared in (no final dot, no `www.`), and the platforms that host a company's
 * page without being its website.
 */
import { shown } from "./FieldText.ts"

/**
 * Why an ASCII host (lower case, no final dot) is not a domain name, or null when it is one: at least two
 * labels of letters, digits and inner hyphens (1 to 63 characters each), a top-level domain of letters or
 * punycode, 253 characters at most.
 */
export const hostProblem = (host: string): string | null => {
  if (host === "") return "is empty"
  if (host.length > 253) return "is longer than 253 characters"
  if (/^\d+(?:\.\d+){3}$/.test(host) || host.startsWith("[")) return "is an IP address, not a domain name"
  const labels = host.split(".")
  if (labels.length < 2) return "has no top-level domain (like .com)"
  if (labels.some((label) => label === "")) return "has an empty label (two dots in a row, or a leading dot)"
  if (labels.some((label) => label.length > 63)) return "has a label longer than 63 characters"
  for (const label of labels) {
    if (label.startsWith("-") || label.endsWith("-"))
      return `has a part (${shown(label)}) that starts or ends with a hyphen`
    if (!/^[a-z0-9-]+$/.test(label)) return `has a character a domain name cannot hold (in ${shown(label)})`
  }
  const tld = labels[labels.length - 1]!
  if (!/^[a-z]{2,63}$/.test(tld) && !/^xn--[a-z0-9-]+$/.test(tld)) {
    return `has a top-level domain (.${shown(tld)}) that is not letters`
  }
  return null
}

export const withoutFinalDot = (host: string): string => (host.endsWith(".") ? host.slice(0, -1) : host)

/** Drops leading `www.` labels while at least two labels remain (`www.com` stays). */
export const withoutWww = (host: string): string => {
  let result = host
  while (result.startsWith("www.") && result.slice(4).includes(".")) result = result.slice(4)
  return result
}

/** The form domains and website hosts are compared in: ASCII, lower case, no final dot, no `www.`. */
export const domainKey = (asciiHost: string): string => withoutWww(withoutFinalDot(asciiHost))

/** The `domainKey` of an ASCII host, or null when the host (without a final dot) is not a domain name. */
export const domainKeyOf = (asciiHost: string): string | null =>
  hostProblem(withoutFinalDot(asciiHost)) === null ? domainKey(asciiHost) : null

/**
 * Sites that host a company's page without being its website: a website on one of them is accepted with a
 * warning, and no domain is derived from it or compared with it.
 */
export const hostingPlatforms: ReadonlyArray<string> = [
  "facebook.com",
  "fb.com",
  "instagram.com",
  "linkedin.com",
  "twitter.com",
  "youtube.com",
  "yelp.com"
]
export const platformOf = (key: string): string | undefined =>
  hostingPlatforms.find((platform) => key === platform || key.endsWith(`.${platform}`))
