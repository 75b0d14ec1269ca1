import { assert, describe, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import fc from "fast-check"
import { arrayLiteral } from "../../src/store/RecordSet.ts"
import { engineFixture, onWorkspace } from "../support/EngineFixture.ts"

describe("columnar record sets", () => {
  layer(engineFixture({ migrate: false }))((it) => {
    it.effect("an array literal reads back in Postgres as the values it was built from", () =>
      Effect.gen(function* () {
        // what trips array literals up: quotes, backslashes, braces, commas, spaces, the word NULL, unicode
        const text = fc.oneof(
          fc.string({
            unit: fc.constantFrom('"', "\\", "{", "}", ",", " ", "N", "U", "L", "a", "é", "😀", "\t")
          }),
          fc.string({ unit: "binary" }).map((s) => s.replaceAll("\u0000", "")),
          fc.constant("NULL")
        )
        const samples = fc.sample(fc.array(fc.option(text, { nil: null }), { maxLength: 12 }), 200)
        for (const values of samples) {
          const [row] = yield* onWorkspace(`SELECT $1::text[] AS back`, [arrayLiteral(values)])
          assert.deepStrictEqual(row?.back, values)
        }
        const numbers = [0, -3, 2 ** 53 - 1, null, 7]
        const [ints] = yield* onWorkspace(`SELECT $1::bigint[]::text[] AS back`, [arrayLiteral(numbers)])
        assert.deepStrictEqual(
          ints?.back,
          numbers.map((n) => (n === null ? null : String(n)))
        )
        const [flags] = yield* onWorkspace(`SELECT $1::boolean[] AS back`, [
          arrayLiteral([true, null, false])
        ])
        assert.deepStrictEqual(flags?.back, [true, null, false])
      })
    )
  })
})
