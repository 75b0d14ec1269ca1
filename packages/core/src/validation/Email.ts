/**
 * A person's email: one syntactically valid address (RFC 5322 atext, internationalised allowed, a domain
 * name after the @), with the corrected address when the slip is obvious.
 */
import { domainToASCII } from "node:url"
import { trimText } from "../TrimText.ts"
import type { Read } from "./FieldText.ts"
import { isPlaceholder, shown, strip } from "./FieldText.ts"
import { hostProblem } from "./HostName.ts"
import type { Verdict } from "./Verdict.ts"
import { fail, pass, wrongType } from "./Verdict.ts"

const exampleEmail = "name@company.com"

/** What is wrong with an email address, with a corrected address when one is obvious; null when valid. */
interface EmailProblem {
  readonly problem: string
  readonly fix: string | null
}

const problemOf = (problem: string, fix: string | null = null): EmailProblem => ({ problem, fix })

/** Checks the syntax of one address: one @, a local part of atext without stray dots, a domain name. */
const emailProblem = (text: string): EmailProblem | null => {
  if (/\s/.test(text)) return problemOf("contains spaces", text.replace(/\s+/g, ""))
  const at = text.split("@").length - 1
  if (at === 0) return problemOf("has no @")
  if (at > 1) return problemOf("has more than one @", text.replace(/@+/g, "@"))
  const local = text.slice(0, text.indexOf("@"))
  const domain = text.slice(text.indexOf("@") + 1)
  if (local === "") return problemOf("has nothing before the @")
  if (local.length > 64) return problemOf("has more than 64 characters before the @")
  if (local.startsWith(".") || local.endsWith(".")) {
    return problemOf("starts or ends with a dot before the @", `${strip(local, ".", "both")}@${domain}`)
  }
  if (local.includes(".."))
    return problemOf("has two dots in a row before the @", `${local.replace(/\.{2,}/g, ".")}@${domain}`)
  // atext of RFC 5322, plus any non-ASCII character (internationalised addresses)
  if (!/^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-\u0080-\u{10ffff}]+$/u.test(local)) {
    return problemOf("has a character before the @ that an address cannot hold")
  }
  if (domain === "") return problemOf("has nothing after the @")
  if (domain.endsWith(".")) return problemOf("ends with a dot", strip(text, "."))
  if (/[\\:/?#%[\]<>,;"'`|{}^*=+!$&()~]/.test(domain)) {
    return problemOf(`has a character a domain cannot hold after the @ (${shown(domain)})`)
  }
  const ascii = domainToASCII(domain)
  if (ascii === "") return problemOf(`has no domain name after the @ (${shown(domain)})`)
  const problem = hostProblem(ascii)
  return problem === null ? null : problemOf(`has a domain after the @ (${shown(domain)}) that ${problem}`)
}

export const checkEmail = (read: Read): Verdict => {
  if (read.kind === "wrong") return wrongType(read.found, exampleEmail)
  if (read.kind === "absent") {
    return fail("EMPTY_EMAIL", `empty or blank: write the person's email address, e.g. ${exampleEmail}`)
  }
  const text = read.text
  const invalid = (what: string) => fail("INVALID_EMAIL", what)
  if (isPlaceholder(text)) {
    return invalid(
      `a placeholder (${shown(text)}), not an address: write the person's email, e.g. ${exampleEmail}`
    )
  }
  const mailto = /^mailto:\s*([^?]*)/i.exec(text)
  if (mailto !== null)
    return invalid(`pasted with "mailto:": write just the address, ${shown(trimText(mailto[1]!))}`)
  const bracketed = /<([^<>]*)>/.exec(text)
  if (bracketed !== null) {
    return invalid(
      `holds a display name or angle brackets: write just the address, ${shown(trimText(bracketed[1]!))}`
    )
  }
  const parts = text.split(/[,;\s]+/).filter((part) => part.includes("@"))
  if (parts.length > 1) return invalid(`holds more than one address: keep one, e.g. ${exampleEmail}`)
  if (/[,;]/.test(text)) {
    const single = trimText(text.replace(/[,;]/g, " "))
    return emailProblem(single) === null
      ? invalid(`has a stray comma or semicolon: write ${shown(single)}`)
      : invalid(`holds a comma or semicolon: write a single address, e.g. ${exampleEmail}`)
  }
  const found = emailProblem(text)
  if (found === null) return pass()
  return found.fix !== null && emailProblem(found.fix) === null
    ? invalid(`${found.problem}: write ${shown(found.fix)}`)
    : invalid(`${found.problem}: write it as ${exampleEmail}`)
}
