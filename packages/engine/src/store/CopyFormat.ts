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

/**
 * Reads a stream of COPY text as batches of whole lines (without their newlines), one batch per chunk the
 * stream delivers: a caller that works line by line pays for one asynchronous step per chunk, not per line.
 */
export async function* copyLineBatches(stream: Readable): AsyncGenerator<ReadonlyArray<string>> {
  // decode in the stream, so a character split across two chunks is joined before it is read
  stream.setEncoding("utf8")
  let rest = ""
  for await (const chunk of stream) {
    const lines = (rest + (chunk as string)).split("\n")
    rest = lines.pop() ?? ""
    if (lines.length > 0) yield lines
  }
  if (rest !== "") yield [rest]
}

/** Reads a COPY stream line by line, with an asynchronous step only per batch of lines. */
export class CopyLineCursor {
  private readonly batches: AsyncIterator<ReadonlyArray<string>>
  private lines: ReadonlyArray<string> = []
  private at = 0
  private ended = false

  constructor(stream: Readable) {
    this.batches = copyLineBatches(stream)[Symbol.asyncIterator]()
  }

  /** Whether the current batch is used up (then `fill` before reading on). */
  exhausted(): boolean {
    return this.at >= this.lines.length && !this.ended
  }

  /** Reads the next batch of lines (or learns that there is none). */
  async fill(): Promise<void> {
    while (this.at >= this.lines.length && !this.ended) {
      const next = await this.batches.next()
      if (next.done === true) this.ended = true
      else {
        this.lines = next.value
        this.at = 0
      }
    }
  }

  /** The current line, or null at the end of the stream. */
  line(): string | null {
    return this.at < this.lines.length ? this.lines[this.at]! : null
  }

  advance(): void {
    this.at++
  }
}
