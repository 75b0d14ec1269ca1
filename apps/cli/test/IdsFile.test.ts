import { assert, describe, it } from "@effect/vitest"
import * as Result from "effect/Result"
import { parseIds } from "../src/IdsFile.ts"

describe("parseIds", () => {
  it("reads one Barton ID per line, skipping blank lines and # comments, each id once, in order", () => {
    const text =
      "# PASSED companies\r\n04.04.01.01.00101.102\n\n  04.04.01.01.00101.101  # enriched by hand\n04.04.01.01.00101.102\n"
    const result = parseIds(text, "passed.txt")
    assert.isTrue(Result.isSuccess(result))
    if (Result.isSuccess(result)) {
      assert.deepStrictEqual(result.success, ["04.04.01.01.00101.102", "04.04.01.01.00101.101"])
    }
  })

  it("fails on any other line, naming the file, the line number and the text", () => {
    const result = parseIds("04.04.01.01.00101.101\nPASSED: 85 companies\n", "passed.txt")
    assert.isTrue(Result.isFailure(result))
    if (Result.isFailure(result)) {
      assert.strictEqual(result.failure.reason, "Input")
      assert.strictEqual(result.failure.exitCode, 1)
      assert.include(result.failure.message, 'passed.txt:2: "PASSED: 85 companies" is not a Barton ID')
      assert.notInclude(result.failure.message, "\n")
    }
  })

  it("names the first three bad lines and counts the rest", () => {
    const result = parseIds(["a", "b", "04.04.01.01.00101.101", "c", "d", "e"].join("\n"), "standard input")
    assert.isTrue(Result.isFailure(result))
    if (Result.isFailure(result)) {
      assert.include(
        result.failure.message,
        'standard input:1: "a", standard input:2: "b", standard input:4: "c" (and 2 more) are not Barton IDs'
      )
    }
  })

  it("accepts an empty input as no ids", () => {
    const result = parseIds("\n# nothing passed\n", "passed.txt")
    assert.deepStrictEqual(Result.isSuccess(result) ? result.success : null, [])
  })
})
