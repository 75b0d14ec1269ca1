/**
 * fast-check arbitraries of text as PostgreSQL prints it: `timestamp` text whose fields may overflow, and
 * JSON number tokens of any size and precision. Shared by the tests of core's parsers and of the engine's
 * COPY projection and SQL hash, which must read the same text the same way.
 *
 * This module imports nothing but fast-check, so that core's tests can import it by path: core cannot
 * depend on this package (testing -> embedded -> core would be a cycle).
 */
import * as fc from "fast-check"

/** `0` to `max`, zero-padded to `width` digits (`max` past the field's range makes it overflow). */
const digits = (max: number, width: number) =>
  fc.integer({ min: 0, max }).map((n) => String(n).padStart(width, "0"))

/**
 * Text laid out as Postgres prints a `timestamp` (`2025-11-07 16:32:09.123456`, or with a `T`), with
 * fields that may overflow (`02-30`, `24:00`, `:60`), up to `fractionDigits` fraction digits, and one of
 * `zones` after it (none by default).
 */
export const timestampText = (
  options: { readonly fractionDigits?: number; readonly zones?: ReadonlyArray<string> } = {}
): fc.Arbitrary<string> =>
  fc
    .record({
      year: fc.oneof(digits(9999, 4), fc.constantFrom("0000", "0044", "1900", "2000", "2024", "2025")),
      month: digits(13, 2),
      day: digits(32, 2),
      hour: digits(25, 2),
      minute: digits(61, 2),
      second: digits(61, 2),
      separator: fc.constantFrom(" ", "T"),
      fraction: fc.oneof(
        fc.constant(""),
        fc.stringMatching(new RegExp(`^\\.\\d{1,${options.fractionDigits ?? 6}}$`))
      ),
      zone: fc.constantFrom(...(options.zones ?? [""]))
    })
    .map(
      (t) =>
        `${t.year}-${t.month}-${t.day}${t.separator}${t.hour}:${t.minute}:${t.second}${t.fraction}${t.zone}`
    )

/**
 * JSON number tokens: long digit strings (up to `digits` of them before and after the point), runs of
 * zeros, fractions, exponents up to `maxExponent` in either case and with any sign.
 */
export const jsonNumberToken = (
  options: { readonly digits?: number; readonly maxExponent?: number } = {}
): fc.Arbitrary<string> => {
  const n = options.digits ?? 30
  return fc
    .record({
      sign: fc.constantFrom("", "-"),
      whole: fc.oneof(
        fc.constant("0"),
        fc.stringMatching(new RegExp(`^[1-9][0-9]{0,${n}}$`)),
        fc.stringMatching(new RegExp(`^[1-9]0{0,${n}}$`))
      ),
      fraction: fc.option(fc.stringMatching(new RegExp(`^[0-9]{1,${n}}$`)), { nil: undefined }),
      exponent: fc.option(
        fc.tuple(
          fc.constantFrom("e", "E"),
          fc.constantFrom("", "+", "-"),
          fc.integer({ min: 0, max: options.maxExponent ?? 60 })
        ),
        { nil: undefined }
      )
    })
    .map(
      ({ sign, whole, fraction, exponent }) =>
        `${sign}${whole}${fraction === undefined ? "" : `.${fraction}`}${exponent === undefined ? "" : exponent.join("")}`
    )
}
