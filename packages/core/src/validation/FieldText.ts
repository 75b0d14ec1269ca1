/**
 * A field's value as the rules read it, and the words messages use for it: text (trimmed, blank is
 * absent), absent, or of a wrong type; long values shortened; placeholders for "no value" recognised. A
 * text field with no rule of its own is only required to be text (`checkFreeText`).
 */
import type { SyncRecord, SyncValue } from "../Projection.ts"
import { trimmedCharacters, trimText } from "../TrimText.ts"
import type { Verdict } from "./Verdict.ts"
import { pass, wrongType } from "./Verdict.ts"

/** A field's value as read: absent (null, missing or blank), text, or another type. */
export type Read =
  | { readonly kind: "absent" }
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "wrong"; readonly found: string }

/** A field's value, or null when the record does not hold it as its own property. */
export const own = (record: SyncRecord, field: string): SyncValue =>
  Object.hasOwn(record, field) ? (record[field] ?? null) : null

export const describeValue = (value: SyncValue): string => {
  if (typeof value === "number") return "a number"
  if (typeof value === "boolean") return "true/false"
  if (typeof value === "string") return "text"
  if (Array.isArray(value)) return "a list"
  return "an object"
}

/** Reads a text field: null, missing and blank are absent; other types are wrong. */
export const readText = (record: SyncRecord, field: string): Read => {
  const value = own(record, field)
  if (value === null) return { kind: "absent" }
  if (typeof value !== "string") return { kind: "wrong", found: describeValue(value) }
  const text = trimText(value)
  return text === "" ? { kind: "absent" } : { kind: "text", text }
}

/**
 * `text` without the characters of `chars` at its ends. (A loop, because a regular expression like `/\.+$/`
 * takes time quadratic in a long run of dots that is not at the end.)
 */
export const strip = (text: string, chars: string, ends: "start" | "end" | "both" = "end"): string => {
  let start = 0
  let end = text.length
  if (ends !== "end") while (start < end && chars.includes(text[start]!)) start++
  if (ends !== "start") while (end > start && chars.includes(text[end - 1]!)) end--
  return text.slice(start, end)
}

/** The characters the projection trims, as a string. */
export const spaces = String.fromCodePoint(...trimmedCharacters)

/** Long values are cut in messages (a message quotes the value it suggests). */
export const shown = (text: string): string => {
  if (text.length <= 120) return text
  // never half a character: a lone surrogate is text Postgres refuses in json
  const end = /[\uD800-\uDBFF]/.test(text[116] ?? "") ? 116 : 117
  return `${text.slice(0, end)}...`
}

const placeholders = new Set([
  "n/a",
  "none",
  "null",
  "unknown",
  "tbd",
  "tba",
  "not available",
  "not applicable"
])
/** Text that stands for "no value": words typed for it, punctuation only, or a spreadsheet error (`#N/A`). */
export const isPlaceholder = (text: string): boolean =>
  placeholders.has(text.toLowerCase()) ||
  /^[-?._/\\]+$/.test(text) ||
  /^#(?:N\/A|VALUE!|REF!|NAME\?|DIV\/0!|NUM!|NULL!)$/i.test(text)

/** A field of free text: any text passes, another type does not. */
export const checkFreeText = (read: Read): Verdict =>
  read.kind === "wrong" ? wrongType(read.found, "plain text") : pass()

/**
 * The check of a field that may be empty: a value of another type fails as `WRONG_TYPE` (suggesting
 * `example`), no value passes, and text is `check`ed.
 */
export const optionalText =
  (example: string, check: (text: string) => Verdict) =>
  (read: Read): Verdict =>
    read.kind === "wrong"
      ? wrongType(read.found, example)
      : read.kind === "absent"
        ? pass()
        : check(read.text)
