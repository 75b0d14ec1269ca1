/**
 * A rule's verdict on one field: passed (perhaps with a warning) or failed with a reason code and a
 * message that says what is wrong and how to fix it.
 */
import type { ReasonCode } from "./ReasonCode.ts"

/** A rule's verdict on one field. */
export type Verdict =
  | { readonly ok: true; readonly warning: string | null }
  | { readonly ok: false; readonly code: ReasonCode; readonly message: string }

export const pass = (warning: string | null = null): Verdict => ({ ok: true, warning })
export const fail = (code: ReasonCode, message: string): Verdict => ({ ok: false, code, message })

/** The verdict on a field that holds another type than text (`found`, see `describeValue`). */
export const wrongType = (found: string, example: string): Verdict =>
  fail("WRONG_TYPE", `holds ${found}, not text: write it as text, e.g. ${example}`)
