/**
 * A preload (`node --import`) for the processes the bench measures: when the process exits, however it
 * exits, it writes its peak resident set size (`getrusage` maxrss, kB) and its CPU times as JSON to the
 * file named by `BENCH_PEAK_RSS_FILE`. Nothing happens without that variable.
 *
 * Invariant: it changes nothing else in the process (no output, no handles kept open). It is JavaScript,
 * not TypeScript: a `.ts` preload would make Node load its type stripper (about 30 MB) into a program that
 * runs without it (the package's bundles).
 */
import { writeFileSync } from "node:fs"

const file = process.env.BENCH_PEAK_RSS_FILE
if (file !== undefined && file !== "") {
  process.on("exit", () => {
    const usage = process.resourceUsage()
    try {
      writeFileSync(
        file,
        JSON.stringify({
          maxRssKb: usage.maxRSS,
          userCpuMs: usage.userCPUTime / 1000,
          systemCpuMs: usage.systemCPUTime / 1000
        })
      )
    } catch {
      // the bench reports the peak as unknown
    }
  })
}
