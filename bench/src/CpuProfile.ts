/**
 * With `--profile`, the measured Node processes (CLI stages, the daemon) run with `--cpu-prof`, and each
 * profile is summarised here into the functions with the most self time, which goes into the JSON beside
 * the figure it explains. Off by default: the profiler itself costs some speed.
 *
 * Invariant: a profile that is missing or unreadable gives `null`, never a failed run.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"

/** One function's share of a profile. */
export interface ProfileEntry {
  /** `name file:line` */
  readonly function: string
  readonly selfMs: number
  readonly selfPercent: number
}

/** A summarised profile. */
export interface ProfileSummary {
  readonly totalMs: number
  readonly top: ReadonlyArray<ProfileEntry>
}

interface CpuProfileFile {
  readonly nodes: ReadonlyArray<{
    readonly id: number
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
  }>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

/** The node flags that write a profile into `dir`. */
export const profileFlags = (dir: string): ReadonlyArray<string> => ["--cpu-prof", "--cpu-prof-dir", dir]

/** Summarises the (one) `.cpuprofile` in `dir`: the `limit` functions with the most self time. */
export const summariseProfile = (dir: string, limit = 15): ProfileSummary | null => {
  try {
    const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"))
    if (file === undefined) return null
    const profile = JSON.parse(readFileSync(join(dir, file), "utf8")) as CpuProfileFile
    const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]))
    const self = new Map<string, number>()
    let total = 0
    profile.samples.forEach((id, i) => {
      const frame = byId.get(id)
      const delta = profile.timeDeltas[i] ?? 0
      total += delta
      if (frame === undefined) return
      const where =
        frame.url === "" ? "" : ` ${frame.url.split("/").slice(-2).join("/")}:${frame.lineNumber + 1}`
      const key = `${frame.functionName === "" ? "(anonymous)" : frame.functionName}${where}`
      self.set(key, (self.get(key) ?? 0) + delta)
    })
    const top = [...self]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([fn, us]) => ({
        function: fn,
        selfMs: Math.round(us / 1000),
        selfPercent: total > 0 ? Math.round((1000 * us) / total) / 10 : 0
      }))
    return { totalMs: Math.round(total / 1000), top }
  } catch {
    return null
  }
}
