/**
 * The trimming of text the projection applies to every text value, in TypeScript and (through the list of
 * characters) in the SQL projection: ECMAScript whitespace and line terminators, at both ends.
 *
 * Invariant: `trimText` removes exactly what `String.prototype.trim` removes, the characters of
 * `trimmedCharacters`.
 */

/**
 * The characters `String.prototype.trim` removes (ECMAScript WhiteSpace and LineTerminator), listed so the
 * SQL projection can use the same set.
 */
export const trimmedCharacters: ReadonlyArray<number> = [
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006,
  0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff
]

const trimClass = trimmedCharacters.map((c) => `\\u{${c.toString(16)}}`).join("")
const trimPattern = new RegExp(`^[${trimClass}]+|[${trimClass}]+$`, "gu")

const trimmedSet = new Set(trimmedCharacters)

// every trimmed character is at most U+0020 or at least U+00A0: most characters are decided without the set
const isTrimmed = (code: number): boolean => (code <= 0x20 || code >= 0xa0) && trimmedSet.has(code)

/** Trims the characters of `trimmedCharacters` from both ends. */
export const trimText = (value: string): string => {
  if (value === "") return value
  // most values need nothing: look at both ends before running the pattern
  if (!isTrimmed(value.charCodeAt(0)) && !isTrimmed(value.charCodeAt(value.length - 1))) return value
  return value.replace(trimPattern, "")
}
