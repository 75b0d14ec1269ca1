/**
 * The US address fields with rules: the state (a two-letter code of `UsStates`) and the ZIP code (5 digits
 * or ZIP+4).
 */
import { isPlaceholder, optionalText, shown } from "./FieldText.ts"
import { stateByName, stateNames } from "./UsStates.ts"
import { fail, pass } from "./Verdict.ts"

export const checkState = optionalText("WV", (text) => {
  const upper = text.toUpperCase()
  if (Object.hasOwn(stateNames, upper))
    return text === upper ? pass() : pass(`not upper case: write ${upper}`)
  const byName = stateByName.get(text.toLowerCase().replace(/\s+/g, " "))
  if (byName !== undefined) return fail("INVALID_STATE", `a state name: write the two-letter code ${byName}`)
  const undotted = upper.replace(/[.\s]/g, "")
  if (undotted.length === 2 && Object.hasOwn(stateNames, undotted)) {
    return fail("INVALID_STATE", `written with dots or spaces: write the two-letter code ${undotted}`)
  }
  return fail("INVALID_STATE", `not a US state code: write the state's two-letter code, e.g. WV`)
})

export const checkZip = optionalText("26505", (text) => {
  const invalid = (what: string) => fail("INVALID_ZIP", what)
  if (/^\d{5}(?:-\d{4})?$/.test(text)) return pass()
  if (/^\d{4}(?:-\d{4})?$/.test(text)) {
    return invalid(`4 digits, a spreadsheet probably dropped the leading zero: write 0${text}`)
  }
  const nine = /^(\d{5})[\s\u2010-\u2015\u2212.]*(\d{4})$/.exec(text)
  if (nine !== null) return invalid(`ZIP+4 without its hyphen: write ${nine[1]}-${nine[2]}`)
  const decimal = /^(\d{5})\.0+$/.exec(text)
  if (decimal !== null) return invalid(`written as a decimal number: write ${decimal[1]}`)
  if (isPlaceholder(text))
    return invalid(`a placeholder (${shown(text)}): write the 5-digit ZIP code, or leave it empty`)
  if (/^\d{1,3}$/.test(text)) {
    return invalid(
      `${text.length} digits, a ZIP code has 5: write all 5 with their leading zeros, e.g. 02134`
    )
  }
  return invalid(`not a ZIP code: write 5 digits (26505) or ZIP+4 (26505-1234)`)
})
