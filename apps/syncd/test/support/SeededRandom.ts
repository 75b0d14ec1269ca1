/**
 * A small seeded PRNG (mulberry32) for the randomized tests, and the run's seed: `ENRICH_SYNC_CHAOS_SEED`
 * when set (to replay a failed run), else a random one. Each actor of a test (a writer, the fault driver, the
 * killer) takes a stream of its own (`fork`), so what each one decides depends only on the seed, however
 * the actors interleave.
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
  /** true with probability `p` */
  chance(p: number): boolean {
    return this.next() < p
  }
  pick<A>(items: ReadonlyArray<A>): A {
    if (items.length === 0) throw new Error("SeededRandom.pick: nothing to pick from")
    return items[Math.floor(this.next() * items.length)]!
  }
  /** `n` distinct items of `items` (all of them when there are fewer) */
  sample<A>(items: ReadonlyArray<A>, n: number): Array<A> {
    const rest = [...items]
    const out: Array<A> = []
    while (out.length < n && rest.length > 0)
      out.push(rest.splice(Math.floor(this.next() * rest.length), 1)[0]!)
    return out
  }
  /** an independent stream for one actor, fixed by this stream's seed and `stream` */
  fork(stream: number): SeededRandom {
    return new SeededRandom(Math.imul(this.state ^ 0x9e3779b9, stream * 2 + 1) ^ (stream << 16))
  }
}

/** The run's seed: `ENRICH_SYNC_CHAOS_SEED` (a whole number) when set, else a random one. */
export const chaosSeed = (): number => {
  const text = process.env.ENRICH_SYNC_CHAOS_SEED
  if (text === undefined || text.trim() === "") return Math.floor(Math.random() * 2 ** 31)
  const seed = Number(text)
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new Error(
      `ENRICH_SYNC_CHAOS_SEED must be a whole number (the seed a failed run printed), not ${text}`
    )
  return seed
}

/** A whole, positive number from the environment variable `name`, or `fallback` when it is not set. */
export const positiveFromEnv = (name: string, fallback: number): number => {
  const text = process.env[name]
  if (text === undefined || text.trim() === "") return fallback
  const n = Number(text)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, not ${text}`)
  return n
}
