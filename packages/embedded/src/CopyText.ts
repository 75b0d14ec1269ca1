/**
 * The text format of PostgreSQL's `COPY ... FROM STDIN` (tab-separated, `\N` for NULL, backslash escapes).
 *
 * Invariant: any value this encodes is read back by `COPY FROM` as the same value (strings byte for byte;
 * objects and arrays as their JSON text, for json/jsonb columns; booleans as `t`/`f`). NUL characters,
 * which PostgreSQL text cannot hold, are the caller's problem.
 */

const special = /[\\\t\n\r]/
const escapeText = (text: string): string =>
  special.test(text)
    ? text.replaceAll("\\", "\\\\").replaceAll("\t", "\\t").replaceAll("\n", "\\n").replaceAll("\r", "\\r")
    : text

/** One value as a COPY text field. */
export const copyTextValue = (value: unknown): string => {
  switch (typeof value) {
    case "string":
      return escapeText(value)
    case "number":
    case "bigint":
      return String(value)
    case "boolean":
      return value ? "t" : "f"
    case "undefined":
      return "\\N"
    default:
      if (value === null) return "\\N"
      return escapeText(value instanceof Date ? value.toISOString() : JSON.stringify(value))
  }
}

/** One row (values in column order) as a COPY text line, newline included. */
export const copyTextLine = (values: ReadonlyArray<unknown>): string => {
  let line = ""
  for (let i = 0; i < values.length; i++) line += (i === 0 ? "" : "\t") + copyTextValue(values[i])
  return `${line}\n`
}
