/**
 * The verdict constructors: a pass carries no warning unless given one, a failure carries its code and
 * message as given, and a value of another type than text fails as `WRONG_TYPE` with a message that names
 * what was found and shows the example to write.
 */
import { assert, describe, it } from "@effect/vitest"
import { fail, pass, wrongType } from "../../src/validation/Verdict.ts"
import { fixHint } from "../support/Records.ts"

describe("Verdict", () => {
  it("a pass has no warning unless it is given one", () => {
    assert.deepStrictEqual(pass(), { ok: true, warning: null })
    assert.deepStrictEqual(pass(null), { ok: true, warning: null })
    assert.deepStrictEqual(pass("written with upper case: write acme.com"), {
      ok: true,
      warning: "written with upper case: write acme.com"
    })
  })

  it("a failure carries its reason code and message unchanged", () => {
    assert.deepStrictEqual(fail("EMPTY_WEBSITE", "empty or blank"), {
      ok: false,
      code: "EMPTY_WEBSITE",
      message: "empty or blank"
    })
  })

  it("another type than text fails as WRONG_TYPE, naming what was found and the example to write", () => {
    const verdict = wrongType("a number", "https://example.com")
    assert.deepStrictEqual(verdict, {
      ok: false,
      code: "WRONG_TYPE",
      message: "holds a number, not text: write it as text, e.g. https://example.com"
    })
    if (!verdict.ok) assert.match(verdict.message, fixHint, "the message says how to fix it")
  })
})
