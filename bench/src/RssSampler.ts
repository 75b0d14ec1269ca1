/**
 * Samples a process' memory from `/proc/<pid>/status` (VmRSS, the resident set now, and VmHWM, its peak so
 * far) at a fixed interval, and keeps the maximum per named phase.
 *
 * Invariant: the reported maximum is the largest of every VmRSS and VmHWM read, so a peak between two
 * samples is still caught by VmHWM as long as one sample is taken after it (the last one is taken by
 * `stop()`, while the process still exists, or is lost with it).
 */
import { readFileSync } from "node:fs"

/** Resident memory of a process, in kB: now, and its peak so far. */
export interface MemoryReading {
  readonly rssKb: number
  readonly hwmKb: number
}

/** Reads `/proc/<pid>/status`; null when the process is gone. */
export const readMemory = (pid: number): MemoryReading | null => {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/status`, "utf8")
  } catch {
    return null
  }
  const field = (name: string) => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text)
    return match === null ? 0 : Number(match[1])
  }
  return { rssKb: field("VmRSS"), hwmKb: field("VmHWM") }
}

/** A running sampler. */
export interface RssSampler {
  /** starts attributing samples to `phase` (the previous phase ends) */
  readonly phase: (name: string) => void
  /** the largest resident size seen (MB), overall and per phase */
  readonly peaks: () => {
    readonly maxRssMb: number
    readonly byPhase: Readonly<Record<string, number>>
    readonly samples: number
  }
  /** takes a last sample and stops */
  readonly stop: () => void
}

const mb = (kb: number) => Math.round((kb / 1024) * 10) / 10

/** Samples `pid` every `intervalMs` (default 50 ms) until `stop()` or the process ends. */
export const sampleRss = (pid: number, intervalMs = 50): RssSampler => {
  let phase = "startup"
  let samples = 0
  let max = 0
  let lastHwm = 0
  const byPhase = new Map<string, number>()
  const sample = () => {
    const reading = readMemory(pid)
    if (reading === null) return
    samples++
    // VmHWM is the peak over the whole life: attribute its growth since the last sample to this phase
    const inPhase = Math.max(reading.rssKb, reading.hwmKb > lastHwm ? reading.hwmKb : 0)
    lastHwm = Math.max(lastHwm, reading.hwmKb)
    max = Math.max(max, reading.rssKb, reading.hwmKb)
    byPhase.set(phase, Math.max(byPhase.get(phase) ?? 0, inPhase))
  }
  const timer = setInterval(sample, intervalMs)
  timer.unref()
  sample()
  return {
    phase: (name) => {
      sample()
      phase = name
    },
    peaks: () => ({
      maxRssMb: mb(max),
      byPhase: Object.fromEntries([...byPhase].map(([name, kb]) => [name, mb(kb)])),
      samples
    }),
    stop: () => {
      sample()
      clearInterval(timer)
    }
  }
}
