import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import { trimText } from "../src/TrimText.ts"

describe("trimText", () => {
  it("trims exactly what String.prototype.trim trims", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (s) => {
        assert.strictEqual(trimText(s), s.trim())
      }),
      { numRuns: 2000 }
    )
  })
})
