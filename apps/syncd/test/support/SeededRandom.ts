/**
 * The randomized tests' PRNG (`SeededRandom` of `@enrich-sync/embedded`, the demo data's) and the run's
 * seed: `ENRICH_SYNC_CHAOS_SEED` when set (to replay a failed run), else a random one. Each actor of a test
 * (a writer, the fault driver, the killer) takes a stream of its own (`fork`), so what each one decides
 * depends only on the seed, however the actors interleave.
 */
export { SeededRandom } from "@enrich-sync/embedded"

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
