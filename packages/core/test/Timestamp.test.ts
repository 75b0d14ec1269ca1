import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
// by path: core cannot depend on @enrich-sync/testing (see PgText.ts)
import { timestampText as pgTimestampText } from "../../testing/src/PgText.ts"
import {
  canonicalTimestamp,
  compareTimestamps,
  timestampMicros,
  writeCanonicalTimestamp
} from "../src/Timestamp.ts"

describe("canonicalTimestamp", () => {
  it.each([
    ["2025-11-07 16:32:09.123456", "2025-11-07T16:32:09.123456Z"],
    ["2025-11-07 16:32:09.12", "2025-11-07T16:32:09.120000Z"],
    ["2025-11-07 16:32:09", "2025-11-07T16:32:09.000000Z"],
    ["2025-11-07T16:32:09Z", "2025-11-07T16:32:09.000000Z"],
    ["2025-11-07 16:32:09.5+00", "2025-11-07T16:32:09.500000Z"],
    ["2025-11-07 22:02:09.5+05:30", "2025-11-07T16:32:09.500000Z"],
    ["2025-11-07 11:32:09-05", "2025-11-07T16:32:09.000000Z"],
    ["2025-11-08 00:02:09.999999+0730", "2025-11-07T16:32:09.999999Z"],
    ["2025-11-07", "2025-11-07T00:00:00.000000Z"],
    ["0044-03-15 12:00:00", "0044-03-15T12:00:00.000000Z"],
    ["2025-12-31 23:59:59.9999995", "2026-01-01T00:00:00.000000Z"],
    ["infinity", "infinity"],
    ["  ", null],
    ["", null]
  ])("%s -> %s", (input, expected) => {
    assert.strictEqual(canonicalTimestamp(input), expected)
  })

  it("reads a Date in UTC with millisecond precision", () => {
    assert.strictEqual(
      canonicalTimestamp(new Date(Date.UTC(2025, 10, 7, 16, 32, 9, 123))),
      "2025-11-07T16:32:09.123000Z"
    )
  })

  it("rejects text that is not a timestamp", () => {
    assert.throws(() => canonicalTimestamp("next tuesday"))
  })

  it("keeps the order of instants (microseconds since the epoch)", () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date("1900-01-01"), max: new Date("2100-01-01"), noInvalidDate: true }),
        fc.integer({ min: 0, max: 999 }),
        (d, us) => {
          const text = canonicalTimestamp(d)!.slice(0, 23) + String(us).padStart(3, "0") + "Z"
          assert.strictEqual(timestampMicros(text), BigInt(d.getTime()) * 1000n + BigInt(us))
          assert.strictEqual(canonicalTimestamp(text), text)
        }
      )
    )
  })
})

/** The outcome of a call: its result, or that it threw. */
const outcome = <A>(f: () => A): { readonly value: A } | "throws" => {
  try {
    return { value: f() }
  } catch {
    return "throws"
  }
}

/** Text laid out as Postgres prints a `timestamp`, with fields that may overflow (`02-30`, `24:00`, `:60`). */
const timestampText = pgTimestampText()

/** A canonical timestamp anywhere in years 0000-9999. */
const canonicalInstant = fc
  .record({
    ms: fc.integer({ min: Date.parse("0000-01-01T00:00:00Z"), max: Date.parse("9999-12-31T23:59:59.999Z") }),
    us: fc.integer({ min: 0, max: 999 })
  })
  .map(({ ms, us }) => `${canonicalTimestamp(new Date(ms))!.slice(0, 23)}${String(us).padStart(3, "0")}Z`)

describe("canonicalTimestamp: the fast path for the text Postgres prints", () => {
  it("agrees with the general path (a +00 zone takes the general path and changes nothing)", () => {
    fc.assert(
      fc.property(timestampText, (text) => {
        const general = outcome(() => canonicalTimestamp(`${text}+00`))
        assert.deepStrictEqual(
          outcome(() => canonicalTimestamp(text)),
          general
        )
        assert.deepStrictEqual(
          outcome(() => canonicalTimestamp(`${text}Z`)),
          general
        )
        if (general !== "throws") assert.strictEqual(canonicalTimestamp(general.value), general.value)
      }),
      { numRuns: 5000 }
    )
  })

  it.each([
    ["2025-02-29 10:00:00", "2025-03-01T10:00:00.000000Z"],
    ["2024-02-29 10:00:00", "2024-02-29T10:00:00.000000Z"],
    ["2025-11-07 24:00:00", "2025-11-08T00:00:00.000000Z"],
    ["2025-11-07 16:32:60.5", "2025-11-07T16:33:00.500000Z"],
    ["2025-11-07T16:32:09.123456Z", "2025-11-07T16:32:09.123456Z"],
    ["2025-11-07T16:32:09.1234567Z", "2025-11-07T16:32:09.123457Z"]
  ])("carries overflowing fields and rounds as the general path does: %s -> %s", (input, expected) => {
    assert.strictEqual(canonicalTimestamp(input), expected)
  })
})

describe("writeCanonicalTimestamp: the same fast path on COPY bytes", () => {
  /** What the writer makes of `text` placed inside other bytes: the text written, or -1. */
  const written = (text: string): string | -1 => {
    const bytes = Buffer.from(`x\t${text}\ty`, "utf8")
    const target = Buffer.alloc(64, 0x21)
    const end = writeCanonicalTimestamp(bytes, 2, bytes.length - 2, target, 3)
    return end === -1 ? -1 : target.toString("utf8", 3, end)
  }

  it("writes exactly canonicalTimestamp's text, or declines (then canonicalTimestamp reads it)", () => {
    fc.assert(
      fc.property(fc.oneof(timestampText, fc.string(), canonicalInstant), (text) => {
        const bytes = written(text)
        if (bytes !== -1) assert.strictEqual(bytes, canonicalTimestamp(text))
      }),
      { numRuns: 5000 }
    )
  })

  it.each([
    ["2025-11-07 16:32:09", "2025-11-07T16:32:09.000000Z"],
    ["2025-11-07 16:32:09.12", "2025-11-07T16:32:09.120000Z"],
    ["2024-02-29 10:00:00", "2024-02-29T10:00:00.000000Z"]
  ])("writes %s as %s", (input, expected) => {
    assert.strictEqual(written(input), expected)
  })

  it.each([
    "2025-02-29 10:00:00",
    "2025-11-07 24:00:00",
    "2025-11-07 16:32:09+00",
    "2025-11-07 16:32:09.1234567",
    "infinity"
  ])("declines %s", (input) => {
    assert.strictEqual(written(input), -1)
  })
})

describe("timestampMicros and compareTimestamps", () => {
  /** timestampMicros as it was before it had a fast path: Date.parse of the milliseconds. */
  const parsedMicros = (canonical: string): bigint =>
    BigInt(Date.parse(canonical.slice(0, 23) + "Z")) * 1000n + BigInt(canonical.slice(23, 26))

  /** The canonical layout, with fields that may overflow (which Date.parse rejects or carries). */
  const canonicalLayout = timestampText.map((t) => {
    const [date, time] = t.split(/[ T]/)
    return `${date}T${time!.slice(0, 8)}.${time!.slice(9).padEnd(6, "0")}Z`
  })

  it("reads every canonical timestamp of years 0000-9999 as Date.parse does, and throws where it throws", () => {
    fc.assert(
      fc.property(fc.oneof(canonicalInstant, canonicalLayout), (t) => {
        assert.deepStrictEqual(
          outcome(() => timestampMicros(t)),
          outcome(() => parsedMicros(t))
        )
      }),
      { numRuns: 5000 }
    )
  })

  /** Edit times as they may arrive: canonical (text order), other forms timestampMicros reads, and junk. */
  const editTime = fc.oneof(
    { weight: 6, arbitrary: canonicalInstant },
    { weight: 2, arbitrary: canonicalLayout },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        "2025-11-07T16:32:09.000000Z",
        "2025-11-07T16:32:09.000001Z",
        "2025-11-07T16:32:09.000",
        "2025-11-07T16:32:09",
        "2025-02-30T00:00:00.000000Z",
        "12025-01-01T00:00:00.000000Z",
        "-2025-01-01T00:00:00.000000Z",
        "infinity",
        "-infinity",
        "not a time"
      )
    },
    { weight: 1, arbitrary: fc.constantFrom(null, undefined) }
  )

  it("orders as comparing timestampMicros does (null first), and throws where it throws", () => {
    const sign = (a: bigint | null, b: bigint | null) =>
      a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : a > b ? 1 : 0
    fc.assert(
      fc.property(editTime, editTime, fc.boolean(), (a, b, same) => {
        const y = same ? a : b
        const expected = outcome(() => sign(timestampMicros(a), timestampMicros(y)))
        assert.deepStrictEqual(
          outcome(() => Math.sign(compareTimestamps(a, y))),
          expected
        )
      }),
      { numRuns: 5000 }
    )
  })
})
