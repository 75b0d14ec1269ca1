/**
 * The seeded PRNG of the demo data and the randomized tests: its stream is mulberry32's for the seed (so a
 * printed seed replays a run), every decision stays in its range, and `fork` gives each actor a stream
 * fixed by the parent's seed and the stream number alone, whatever the actors draw in between.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import { SeededRandom } from "../src/SeededRandom.ts"

/** mulberry32 as its author published it (bryc, "PRNGs": `function mulberry32(a)`), the oracle. */
const mulberry32 = (a: number) => () => {
  a |= 0
  a = (a + 0x6d2b79f5) | 0
  let t = Math.imul(a ^ (a >>> 15), 1 | a)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/** Every decision kind a test or the demo data takes, in one fixed script, as what it decided. */
const decisions = (random: SeededRandom): Array<unknown> => [
  random.next(),
  random.int(-3, 7),
  random.index(10),
  random.chance(0.5),
  random.pick(["a", "b", "c", "d"]),
  random.sample([1, 2, 3, 4, 5, 6, 7, 8], 3),
  random.fork(1).next(),
  random.next()
]

const seed = fc.integer({ min: 0, max: 2 ** 32 - 1 })

describe("SeededRandom", () => {
  it("draws mulberry32's stream for its seed", () => {
    fc.assert(
      fc.property(seed, (s) => {
        const random = new SeededRandom(s)
        const oracle = mulberry32(s)
        for (let i = 0; i < 20; i++) assert.strictEqual(random.next(), oracle())
      })
    )
  })

  it("decides the same for the same seed, and otherwise for another seed", () => {
    fc.assert(
      fc.property(seed, seed, (a, b) => {
        fc.pre(a !== b)
        assert.deepStrictEqual(decisions(new SeededRandom(a)), decisions(new SeededRandom(a)))
        const firsts = (s: number) =>
          Array.from(
            { length: 4 },
            (
              (r) => () =>
                r.next()
            )(new SeededRandom(s))
          )
        assert.notDeepEqual(firsts(a), firsts(b))
      })
    )
  })

  it("keeps every decision in its range, both ends of int reachable", () => {
    fc.assert(
      fc.property(
        seed,
        fc.integer({ min: -50, max: 50 }),
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 1, max: 6 }),
        (s, min, width, length) => {
          const random = new SeededRandom(s)
          const ints = new Set<number>()
          const indexes = new Set<number>()
          for (let i = 0; i < 300; i++) {
            const f = random.next()
            assert.isTrue(f >= 0 && f < 1, String(f))
            const n = random.int(min, min + width)
            assert.isTrue(Number.isInteger(n) && n >= min && n <= min + width, String(n))
            ints.add(n)
            const index = random.index(length)
            assert.isTrue(Number.isInteger(index) && index >= 0 && index < length, String(index))
            indexes.add(index)
            assert.isFalse(random.chance(0))
            assert.isTrue(random.chance(1))
          }
          // every value of a small range comes up in 300 draws
          assert.strictEqual(ints.size, width + 1)
          assert.strictEqual(indexes.size, length)
        }
      ),
      { numRuns: 40 }
    )
  })

  it("picks one of the items, and refuses to pick from nothing", () => {
    fc.assert(
      fc.property(seed, fc.array(fc.string(), { minLength: 1, maxLength: 5 }), (s, items) => {
        assert.include(items, new SeededRandom(s).pick(items))
      })
    )
    assert.throws(() => new SeededRandom(1).pick([]), "SeededRandom.pick: nothing to pick from")
  })

  it("samples n distinct items (all of them when there are fewer), leaving the list alone", () => {
    fc.assert(
      fc.property(seed, fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 15 }), (s, size, n) => {
        const items = Array.from({ length: size }, (_, i) => `item ${i}`)
        const sample = new SeededRandom(s).sample(items, n)
        assert.strictEqual(sample.length, Math.min(n, size))
        assert.strictEqual(new Set(sample).size, sample.length)
        for (const item of sample) assert.include(items, item)
        assert.deepStrictEqual(
          items,
          Array.from({ length: size }, (_, i) => `item ${i}`)
        )
      })
    )
  })

  it("forks streams fixed by the parent's seed and the stream number, however the actors interleave", () => {
    fc.assert(
      fc.property(
        seed,
        fc.integer({ min: 0, max: 1000 }),
        fc.array(fc.boolean(), { maxLength: 40 }),
        (s, stream, turns) => {
          // forking takes nothing from the parent's stream
          const parent = new SeededRandom(s)
          parent.fork(stream)
          assert.strictEqual(parent.next(), new SeededRandom(s).next())

          // two actors, drawn in turns as `turns` says, or one after the other: each decides the same
          const draw = (order: ReadonlyArray<boolean>) => {
            const root = new SeededRandom(s)
            const actors = [root.fork(stream), root.fork(stream + 1)] as const
            const drawn: [Array<number>, Array<number>] = [[], []]
            for (const second of order) drawn[second ? 1 : 0].push(actors[second ? 1 : 0].next())
            return drawn
          }
          const interleaved = draw(turns)
          const sequential = draw([...turns].sort((a, b) => Number(a) - Number(b)))
          assert.deepStrictEqual(interleaved, sequential)

          // another stream number, or the same one after the parent drew, is another stream
          const firsts = (r: SeededRandom) => [r.next(), r.next(), r.next()]
          assert.deepStrictEqual(
            firsts(new SeededRandom(s).fork(stream)),
            firsts(new SeededRandom(s).fork(stream))
          )
          assert.notDeepEqual(
            firsts(new SeededRandom(s).fork(stream)),
            firsts(new SeededRandom(s).fork(stream + 1))
          )
          const moved = new SeededRandom(s)
          moved.next()
          assert.notDeepEqual(firsts(moved.fork(stream)), firsts(new SeededRandom(s).fork(stream)))
          assert.notDeepEqual(firsts(new SeededRandom(s).fork(stream)), firsts(new SeededRandom(s)))
        }
      )
    )
  })
})
