/**
 * Names: a company needs its name, a person a full name or both first and last name; a placeholder is no
 * name.
 */
import type { SyncRecord } from "../Projection.ts"
import type { Read } from "./FieldText.ts"
import { isPlaceholder, readText, shown } from "./FieldText.ts"
import type { Verdict } from "./Verdict.ts"
import { fail, pass, wrongType } from "./Verdict.ts"

export const checkRequiredName = (read: Read, what: string): Verdict => {
  if (read.kind === "wrong") return wrongType(read.found, "Monongalia County Commission")
  if (read.kind === "absent") return fail("MISSING_NAME", `empty or blank: write ${what}`)
  if (isPlaceholder(read.text))
    return fail("MISSING_NAME", `a placeholder (${shown(read.text)}): write ${what}`)
  return pass()
}

export const checkPersonName = (record: SyncRecord): { readonly [field: string]: Verdict } => {
  const full = readText(record, "full_name")
  const first = readText(record, "first_name")
  const last = readText(record, "last_name")
  const verdicts: { [field: string]: Verdict } = {}
  if (first.kind === "wrong") verdicts.first_name = wrongType(first.found, "Jane")
  if (last.kind === "wrong") verdicts.last_name = wrongType(last.found, "Doe")
  if (full.kind === "wrong") {
    verdicts.full_name = wrongType(full.found, "Jane Doe")
    return verdicts
  }
  const named = (read: Read) => read.kind === "text" && !isPlaceholder(read.text)
  if (named(full) || (named(first) && named(last))) return verdicts
  const missing = [named(first) ? null : "first_name", named(last) ? null : "last_name"].filter(
    (f) => f !== null
  )
  const what = full.kind === "text" ? `a placeholder (${shown(full.text)})` : "empty or blank"
  verdicts.full_name = fail(
    "MISSING_NAME",
    missing.length === 2
      ? `${what}, and so are first_name and last_name: write the person's full name, or first_name and last_name`
      : `${what}, and ${missing[0]} is empty: write the person's full name, or fill ${missing[0]}`
  )
  return verdicts
}
