import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { makeProgress, progressLine } from "../src/Progress.ts"

describe("progress", () => {
  it("a plain line says what, how far, how fast and how long is left", () => {
    assert.strictEqual(
      progressLine({ stage: "backfill", entity: "company", done: 50_000, total: 200_000 }, 10_000),
      "backfill company: 50,000/200,000 (25%), 5.0k/s, ETA 30s"
    )
    assert.strictEqual(
      progressLine({ stage: "promote", entity: "people", done: 5, total: 5 }, 2_000),
      "promote people: 5/5 (100%), 3/s, ETA 0s"
    )
  })

  it.effect("without a terminal: nothing for short work, periodic lines for long work, each state once", () =>
    Effect.gen(function* () {
      const quiet: Array<string> = []
      yield* Effect.scoped(
        Effect.gen(function* () {
          const sink = yield* makeProgress((line) => quiet.push(line), { tty: false })
          sink.onProgress({ stage: "backfill", entity: "company", done: 50, total: 100 })
          sink.onProgress({ stage: "backfill", entity: "company", done: 100, total: 100 })
        })
      )
      assert.deepStrictEqual(quiet, [])

      const lines: Array<string> = []
      yield* Effect.scoped(
        Effect.gen(function* () {
          const sink = yield* makeProgress((line) => lines.push(line), { tty: false, intervalMs: 0 })
          sink.onProgress({ stage: "merge", entity: "company", done: 0, total: 2 })
          sink.onProgress({ stage: "merge", entity: "company", done: 1, total: 2 })
          sink.onProgress({ stage: "merge", entity: "company", done: 2, total: 2 })
          sink.onProgress({ stage: "merge", entity: "company", done: 2, total: 2 })
        })
      )
      assert.deepStrictEqual(
        lines.map((l) => l.split(" (")[0]),
        ["merge company: 0/2", "merge company: 1/2", "merge company: 2/2"]
      )
    })
  )
})
