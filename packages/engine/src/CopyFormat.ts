/**
 * Postgres' COPY text format: one row per line, columns separated by tabs, `\N` for NULL, and backslash
 * escapes for backslash, tab, newline, carriage return and the other C escapes. Parses and writes it, and
 * splits a byte stream into lines (rows never contain a raw newline: it is always escaped).
 */
import type { Readable } from "node:stream"

const unescapes: { readonly [c: string]: string } = {
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
  "\\": "\\"
}

/** The text of one COPY column that holds backslash escapes (other than the NULL marker). */
export const unescapeField = (field: string): string => {
  let out = ""
  for (let i = 0; i < field.length; i++) {
    const c = field[i]!
    if (c !== "\\") {
      out += c
      continue
    }
    const next = field[i + 1] ?? ""
    if (next in unescapes) {
      out += unescapes[next]
      i++
    } else if (/[0-7]/.test(next)) {
      const oct = /^[0-7]{1,3}/.exec(field.slice(i + 1))![0]
      out += String.fromCharCode(Number.parseInt(oct, 8))
      i += oct.length
    } else if (next === "x" && /^[0-9a-fA-F]/.test(field[i + 2] ?? "")) {
      const hex = /^[0-9a-fA-F]{1,2}/.exec(field.slice(i + 2))![0]
      out += String.fromCharCode(Number.parseInt(hex, 16))
      i += 1 + hex.length
    } else {
      out += next
      i++
    }
  }
  return out
}

/** Parses one COPY text line into its columns (null for `\N`). */
export const parseCopyLine = (line: string): Array<string | null> =>
  line
    .split("\t")
    .map((field) => (field === "\\N" ? null : field.includes("\\") ? unescapeField(field) : field))

const escapePattern = /[\\\n\r\t]/g
const escapes: { readonly [c: string]: string } = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" }

/** Writes one value as a COPY text column (null as `\N`). */
export const copyValue = (value: string | null): string =>
  value === null ? "\\N" : value.replace(escapePattern, (c) => escapes[c]!)

/** Reads a stream of COPY text as lines (without the trailing newline). */
export async function* copyLines(stream: Readable): AsyncGenerator<string> {
  // decode in the stream, so a character split across two chunks is joined before it is read
  stream.setEncoding("utf8")
  let rest = ""
  for await (const chunk of stream) {
    const text = rest + (chunk as string)
    const lines = text.split("\n")
    rest = lines.pop() ?? ""
    for (const line of lines) yield line
  }
  if (rest !== "") yield rest
}
