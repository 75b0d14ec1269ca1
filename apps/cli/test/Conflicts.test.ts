/**
 * The arguments of `enrich-sync conflicts`: `--since` as an age or a time (an offset applied, UTC without
 * one, a day or time that does not exist refused) and a conflict id.
 */
import { assert, describe, it } from "@effect/vitest"
import { parseConflictId, parseSince } from "../src/Conflicts.ts"

const now = Date.UTC(2025, 10, 7, 16, 32, 9, 123)

describe("conflicts arguments", () => {
  it("--since takes an age before now", () => {
    assert.strictEqual(parseSince("30m", now), "2025-11-07T16:02:09.123Z")
    assert.strictEqual(parseSince("12h", now), "2025-11-07T04:32:09.123Z")
    assert.strictEqual(parseSince("7d", now), "2025-10-31T16:32:09.123Z")
    assert.strictEqual(parseSince(" 2W ", now), "2025-10-24T16:32:09.123Z")
  })

  it("--since takes a date or a time, in UTC unless it has an offset", () => {
    assert.strictEqual(parseSince("2025-11-07", now), "2025-11-07T00:00:00.000Z")
    assert.strictEqual(parseSince("2025-11-07 16:32", now), "2025-11-07T16:32:00.000Z")
    assert.strictEqual(parseSince("2025-11-07T16:32:09.5Z", now), "2025-11-07T16:32:09.500Z")
    assert.strictEqual(parseSince("2025-11-07T16:32:09+02:00", now), "2025-11-07T14:32:09.000Z")
    assert.strictEqual(parseSince("2025-11-07T16:32:09-0530", now), "2025-11-07T22:02:09.000Z")
  })

  it("--since refuses anything else, and days or times that do not exist", () => {
    for (const text of [
      "yesterday",
      "",
      "7",
      "7 days",
      "2025-02-30",
      "2025-13-01",
      "2025-11-07T24:00",
      "11/07/2025"
    ])
      assert.isNull(parseSince(text, now), text)
  })

  it("a conflict id is a whole number from 1", () => {
    assert.strictEqual(parseConflictId("12"), 12)
    assert.strictEqual(parseConflictId(" 7 "), 7)
    for (const text of ["0", "-3", "1.5", "twelve", "", "1e3"]) assert.isNull(parseConflictId(text), text)
  })
})
