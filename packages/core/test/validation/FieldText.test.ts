/**
 * How the rules read a field and quote it: null, missing, inherited and blank are absent, other types are
 * named in words, text is trimmed as the projection trims; `strip` removes exactly the given characters at
 * the chosen ends; long values are cut to 120 characters in messages; placeholders for "no value" are
 * recognised and real values are not.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import type { SyncRecord } from "../../src/Projection.ts"
import { trimmedCharacters, trimText } from "../../src/TrimText.ts"
import {
  checkFreeText,
  describeValue,
  isPlaceholder,
  optionalText,
  own,
  readText,
  shown,
  spaces,
  strip
} from "../../src/validation/FieldText.ts"
import { fail, pass, type Verdict } from "../../src/validation/Verdict.ts"

/** Text made of every character the projection trims, and some it does not (a zero-width space among them). */
const spacedText = fc
  .array(
    fc.oneof(
      fc.constantFrom(...trimmedCharacters.map((c) => String.fromCodePoint(c))),
      fc.constantFrom("a", "é", "🚀", "\u200b", "\u0085", "-")
    ),
    { maxLength: 12 }
  )
  .map((cs) => cs.join(""))

describe("own", () => {
  it("reads a record's own fields; missing and inherited names read as null", () => {
    const record: SyncRecord = { city: "Morgantown", zip: null, employee_count: 0, enriched: false }
    assert.strictEqual(own(record, "city"), "Morgantown")
    assert.strictEqual(own(record, "employee_count"), 0)
    assert.strictEqual(own(record, "enriched"), false)
    assert.strictEqual(own(record, "zip"), null)
    assert.strictEqual(own(record, "state"), null)
    for (const inherited of ["constructor", "toString", "hasOwnProperty", "__proto__"]) {
      assert.strictEqual(own(record, inherited), null, inherited)
    }
    // a row decoded from JSON can hold such names as its own fields
    assert.strictEqual(own(JSON.parse('{"__proto__": "x", "constructor": "y"}'), "__proto__"), "x")
    assert.strictEqual(own({ city: undefined } as unknown as SyncRecord, "city"), null)
  })
})

describe("describeValue", () => {
  it("names each JSON type the way messages say it", () => {
    assert.strictEqual(describeValue(250), "a number")
    assert.strictEqual(describeValue(0), "a number")
    assert.strictEqual(describeValue(true), "true/false")
    assert.strictEqual(describeValue("250"), "text")
    assert.strictEqual(describeValue(["a", "b"]), "a list")
    assert.strictEqual(describeValue([]), "a list")
    assert.strictEqual(describeValue({ street: "243 High Street" }), "an object")
  })
})

describe("readText", () => {
  it("null, missing, inherited and blank values are absent", () => {
    const record: SyncRecord = {
      a: null,
      b: "",
      c: "   ",
      d: "\t\r\n",
      e: "\u00a0\u3000\ufeff\u2028"
    }
    for (const field of ["a", "b", "c", "d", "e", "missing", "toString"]) {
      assert.deepStrictEqual(readText(record, field), { kind: "absent" }, field)
    }
  })

  it("text is trimmed as the projection trims it, and only at the ends", () => {
    const read = (value: string) => readText({ field: value }, "field")
    assert.deepStrictEqual(read("  Monongalia County Commission\n"), {
      kind: "text",
      text: "Monongalia County Commission"
    })
    assert.deepStrictEqual(read("\u00a0243  High Street\u3000"), { kind: "text", text: "243  High Street" })
    // a zero-width space is not white space: it is text (the rules then say what is wrong with it)
    assert.deepStrictEqual(read("\u200b"), { kind: "text", text: "\u200b" })
  })

  it("other types are wrong, named in words", () => {
    const record: SyncRecord = { n: 0, b: false, l: [], o: {} }
    assert.deepStrictEqual(readText(record, "n"), { kind: "wrong", found: "a number" })
    assert.deepStrictEqual(readText(record, "b"), { kind: "wrong", found: "true/false" })
    assert.deepStrictEqual(readText(record, "l"), { kind: "wrong", found: "a list" })
    assert.deepStrictEqual(readText(record, "o"), { kind: "wrong", found: "an object" })
  })

  it("property: text reads as its trimmed self, blank text as absent", () => {
    fc.assert(
      fc.property(spacedText, (value) => {
        const trimmed = trimText(value)
        assert.deepStrictEqual(
          readText({ value }, "value"),
          trimmed === "" ? { kind: "absent" } : { kind: "text", text: trimmed }
        )
      }),
      { numRuns: 1000 }
    )
  })
})

describe("strip", () => {
  it("removes the given characters from the end, the start or both", () => {
    assert.strictEqual(
      strip("..monongaliacounty.com...", "."),
      "..monongaliacounty.com",
      "the end by default"
    )
    assert.strictEqual(strip("...jane.doe...", ".", "start"), "jane.doe...")
    assert.strictEqual(strip("...jane.doe...", ".", "end"), "...jane.doe")
    assert.strictEqual(strip("...jane.doe...", ".", "both"), "jane.doe")
    assert.strictEqual(strip(" -(304) 291-7257- ", " -", "both"), "(304) 291-7257")
    assert.strictEqual(strip("....", ".", "both"), "")
    assert.strictEqual(strip("....", ".", "start"), "")
    assert.strictEqual(strip("a..b", "."), "a..b")
    assert.strictEqual(strip("", ".", "both"), "")
    assert.strictEqual(strip("..a..", "", "both"), "..a..")
  })

  it("property: removes exactly the runs of those characters at the chosen ends (as a regular expression would)", () => {
    const alphabet = fc.constantFrom(".", "-", " ", "a", "b", "é", "\u00a0", "]", "\\")
    const word = (maxLength: number) => fc.array(alphabet, { maxLength }).map((cs) => cs.join(""))
    /** The reference: `^[chars]+` and `[chars]+$` removed (quadratic on long runs, fine on short text). */
    const reference = (text: string, chars: string, ends: "start" | "end" | "both") => {
      const set = `[${[...chars].map((c) => `\\u{${c.codePointAt(0)!.toString(16)}}`).join("")}]+`
      const fromStart = ends === "end" ? text : text.replace(new RegExp(`^${set}`, "u"), "")
      return ends === "start" ? fromStart : fromStart.replace(new RegExp(`${set}$`, "u"), "")
    }
    fc.assert(
      fc.property(word(30), word(3), fc.constantFrom("start", "end", "both"), (text, chars, ends) => {
        assert.strictEqual(strip(text, chars, ends), reference(text, chars, ends))
      }),
      { numRuns: 2000 }
    )
  })

  it("spaces are the characters the projection trims, so stripping them is trimming", () => {
    assert.deepStrictEqual(
      [...spaces].map((c) => c.codePointAt(0)),
      [...trimmedCharacters]
    )
    fc.assert(
      fc.property(spacedText, (s) => {
        assert.strictEqual(strip(s, spaces, "both"), trimText(s))
      }),
      { numRuns: 1000 }
    )
  })
})

describe("shown", () => {
  it("keeps values of 120 characters and cuts longer ones to 117 and an ellipsis", () => {
    const exactly = "x".repeat(120)
    assert.strictEqual(shown(exactly), exactly)
    assert.strictEqual(shown("https://monongaliacounty.com"), "https://monongaliacounty.com")
    assert.strictEqual(shown(""), "")
    const long = `https://monongaliacounty.com/${"a".repeat(200)}`
    const cut = shown(long)
    assert.strictEqual(cut.length, 120)
    assert.strictEqual(cut, `${long.slice(0, 117)}...`)
    assert.strictEqual(shown(`${exactly}y`), `${"x".repeat(117)}...`)
  })

  it("never cuts a character in half: a message must stay text Postgres takes in json", () => {
    // an emoji (two UTF-16 units) across the cut: left out whole, not cut to a lone surrogate
    const across = `${"a".repeat(116)}😀${"b".repeat(10)}`
    assert.strictEqual(shown(across), `${"a".repeat(116)}...`)
    assert.strictEqual(shown(`${"a".repeat(115)}😀${"b".repeat(10)}`), `${"a".repeat(115)}😀...`)
    for (let at = 100; at < 125; at++) {
      const text = `${"a".repeat(at)}😀${"c".repeat(30)}`
      assert.notMatch(shown(text), /[\uD800-\uDBFF](?![\uDC00-\uDFFF])/, `an emoji at ${at}`)
    }
  })
})

describe("isPlaceholder", () => {
  it("recognises the words typed for no value, in any case", () => {
    for (const text of [
      "n/a",
      "N/A",
      "none",
      "None",
      "NULL",
      "unknown",
      "Unknown",
      "TBD",
      "tba",
      "not available",
      "Not Applicable"
    ]) {
      assert.isTrue(isPlaceholder(text), text)
    }
  })

  it("recognises punctuation only and spreadsheet errors", () => {
    for (const text of ["-", "--", "?", "???", ".", "...", "_", "/", "\\", "-?-", "#N/A", "#n/a"]) {
      assert.isTrue(isPlaceholder(text), text)
    }
    for (const text of ["#VALUE!", "#REF!", "#NAME?", "#DIV/0!", "#NUM!", "#NULL!", "#value!"]) {
      assert.isTrue(isPlaceholder(text), text)
    }
  })

  it("does not take real values, or words that merely contain a placeholder, for one", () => {
    for (const text of [
      "Nonesuch Farms",
      "none.com",
      "Unknown Mortal Orchestra",
      "N/A Holdings",
      "null@example.com",
      "NA",
      "#N/A2",
      "#VALUE",
      "N/A!",
      "#1",
      "-1",
      "0",
      "a-b",
      "https://example.com",
      "https://example.com/",
      "Acme Inc.",
      "(304) 291-7257",
      ""
    ]) {
      assert.isFalse(isPlaceholder(text), text)
    }
  })
})

describe("checkFreeText and optionalText", () => {
  it("free text passes whatever it says, or when absent; another type fails as WRONG_TYPE", () => {
    assert.deepStrictEqual(checkFreeText({ kind: "text", text: "n/a" }), pass())
    assert.deepStrictEqual(checkFreeText({ kind: "absent" }), pass())
    assert.deepStrictEqual(
      checkFreeText({ kind: "wrong", found: "a number" }),
      fail("WRONG_TYPE", "holds a number, not text: write it as text, e.g. plain text")
    )
  })

  it("an optional field passes when absent, fails another type with its example, and checks text", () => {
    const seen: Array<string> = []
    const check = optionalText("26505", (text): Verdict => {
      seen.push(text)
      return text === "26505" ? pass() : fail("INVALID_ZIP", `not a ZIP code (${text}): write 26505`)
    })
    assert.deepStrictEqual(check({ kind: "absent" }), pass())
    assert.deepStrictEqual(
      check({ kind: "wrong", found: "a list" }),
      fail("WRONG_TYPE", "holds a list, not text: write it as text, e.g. 26505")
    )
    assert.deepStrictEqual(seen, [], "the check sees only text")
    assert.deepStrictEqual(check({ kind: "text", text: "26505" }), pass())
    assert.deepStrictEqual(
      check({ kind: "text", text: "2650" }),
      fail("INVALID_ZIP", "not a ZIP code (2650): write 26505")
    )
    assert.deepStrictEqual(seen, ["26505", "2650"])
    // with readText: a blank value never reaches the check
    assert.deepStrictEqual(check(readText({ zip: " \t" }, "zip")), pass())
    assert.deepStrictEqual(seen, ["26505", "2650"])
  })
})
