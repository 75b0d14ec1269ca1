/**
 * A small seeded PRNG (mulberry32): the demo data's per-row streams and the randomized tests' decisions.
 * What it returns depends only on its seed; `fork` gives an independent stream (one per actor of a test),
 * so what each one decides does not depend on how the actors interleave.
 */

/** A seeded source of random decisions. */
export class SeededRandom {
  private state: number
  constructor(seed: number) {
    this.state = seed >>> 0
  }
  /** a fraction in [0, 1) */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0
    let t = Math.imul(this.state ^ (this.state >>> 15), 1 | this.state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  /** an integer in [min, max] */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }
  /** an index into a list of `length` items */
  index(length: number): number {
    return Math.floor(this.next() * length)
  }
  /** true with probability `p` */
  chance(p: number): boolean {
    return this.next() < p
  }
  pick<A>(items: ReadonlyArray<A>): A {
    if (items.length === 0) throw new Error("SeededRandom.pick: nothing to pick from")
    return items[this.index(items.length)]!
  }
  /** `n` distinct items of `items` (all of them when there are fewer) */
  sample<A>(items: ReadonlyArray<A>, n: number): Array<A> {
    const rest = [...items]
    const out: Array<A> = []
    while (out.length < n && rest.length > 0) out.push(rest.splice(this.index(rest.length), 1)[0]!)
    return out
  }
  /** an independent stream for one actor, fixed by this stream's seed and `stream` */
  fork(stream: number): SeededRandom {
    return new SeededRandom(Math.imul(this.state ^ 0x9e3779b9, stream * 2 + 1) ^ (stream << 16))
  }
}
