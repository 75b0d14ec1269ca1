import { Readable } from "node:stream"
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import { CopyLineCursor, copyValue, parseCopyLine } from "../../src/store/CopyFormat.ts"

/** Every line the cursor reads from `chunks`, in order. */
const readAll = async (chunks: ReadonlyArray<Buffer>): Promise<Array<string>> => {
  const cursor = new CopyLineCursor(Readable.from(chunks))
  const lines: Array<string> = []
  for (;;) {
    if (cursor.exhausted()) await cursor.fill()
    const line = cursor.line()
    if (line === null) return lines
    lines.push(line)
    cursor.advance()
  }
}

describe("COPY text", () => {
  it("writes values that parse back to themselves", () => {
    fc.assert(
      fc.property(fc.array(fc.option(fc.string({ unit: "binary" }), { nil: null })), (values) => {
        fc.pre(values.length > 0)
        assert.deepStrictEqual(parseCopyLine(values.map(copyValue).join("\t")), values)
      })
    )
  })

  it("reads a stream line by line, whatever its chunks (a character split between two included)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.string({ unit: "binary" }).map((s) => copyValue(s)),
          { minLength: 1, maxLength: 20 }
        ),
        fc.array(fc.nat()),
        fc.boolean(),
        async (lines, cuts, trailingNewline) => {
          const bytes = Buffer.from(lines.join("\n") + (trailingNewline ? "\n" : ""))
          const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
          const chunks = [0, ...at].map((from, i) => bytes.subarray(from, at[i] ?? bytes.length))
          const read = await readAll(chunks.filter((c) => c.length > 0))
          const expected = trailingNewline || lines.at(-1) !== "" ? lines : lines.slice(0, -1)
          assert.deepStrictEqual(read, expected)
        }
      )
    )
  })
})
