/**
 * A phone number: empty, a US number (10 digits, or 11 starting with 1, with a real area code and
 * exchange), or `+` and 8 to 15 digits; an extension is allowed.
 */
import { isPlaceholder, optionalText, shown, spaces, strip } from "./FieldText.ts"
import type { Verdict } from "./Verdict.ts"
import { fail, pass } from "./Verdict.ts"

const examplePhone = "(304) 555-0101"

const checkNanp = (ten: string): Verdict => {
  const area = ten.slice(0, 3)
  const exchange = ten.slice(3, 6)
  if (area.startsWith("0") || area.startsWith("1")) {
    return fail(
      "INVALID_PHONE",
      `the area code (${area}) cannot start with 0 or 1: check the number, e.g. ${examplePhone}`
    )
  }
  if (exchange.startsWith("0") || exchange.startsWith("1")) {
    return fail(
      "INVALID_PHONE",
      `the exchange (${exchange}, after the area code) cannot start with 0 or 1: check the number, e.g. ${examplePhone}`
    )
  }
  return pass()
}

export const checkPhone = optionalText(examplePhone, (text) => {
  const invalid = (what: string) => fail("INVALID_PHONE", what)
  if (isPlaceholder(text)) {
    return invalid(
      `a placeholder (${shown(text)}), not a phone number: write the number, e.g. ${examplePhone}, or leave it empty`
    )
  }
  if (/^tel:/i.test(text))
    return invalid(`pasted with "tel:": write just the number, ${shown(text.slice(4))}`)
  const extension = /(?:x|ext\.?|extension)[\s:.]*\d{1,6}$/i.exec(text)
  const main = extension === null ? text : strip(text.slice(0, extension.index), `,${spaces}`)
  if (/[/,;&]|\bor\b|\band\b/i.test(main))
    return invalid(`holds more than one number: keep one, e.g. ${examplePhone}`)
  if (!/^\+?[\d\s().\-\u2010-\u2015\u2212]+$/.test(main)) {
    return /\p{L}/u.test(main)
      ? invalid(`contains letters: write the number in digits, e.g. ${examplePhone} (an extension as x123)`)
      : invalid(`contains characters a phone number cannot hold: write it as ${examplePhone}`)
  }
  const digits = main.replace(/\D/g, "")
  if (main.startsWith("+")) {
    if (digits.startsWith("1")) {
      return digits.length === 11
        ? checkNanp(digits.slice(1))
        : invalid(
            `a +1 (US) number has 10 digits after +1, this has ${digits.length - 1}: write it as +1 304 555 0101`
          )
    }
    if (digits.length >= 8 && digits.length <= 15) {
      return pass(`an international number (+${digits.slice(0, 3)}...): check the country code is right`)
    }
    return invalid(
      `an international number has 8 to 15 digits after the +, this has ${digits.length}: check it`
    )
  }
  if (digits.length === 10) return checkNanp(digits)
  if (digits.length === 11 && digits.startsWith("1")) return checkNanp(digits.slice(1))
  if (digits.startsWith("011") && digits.length > 11) {
    return invalid(
      `starts with 011 (the US international prefix): write + instead, e.g. +${shown(digits.slice(3))}`
    )
  }
  if (digits.length === 7)
    return invalid(`7 digits, the area code is missing: write it with the area code, e.g. ${examplePhone}`)
  if (digits.length > 11) {
    return invalid(
      `${digits.length} digits: write an international number with + and its country code, e.g. +44 20 7946 0958`
    )
  }
  return invalid(`${digits.length} digits, a US number has 10: write the whole number, e.g. ${examplePhone}`)
})
