/**
 * Where the CPU time of a measured phase went: the bench process, a child (the CLI or the daemon), the
 * link process (the latency proxies, when the run has a round trip), each PostgreSQL server (its postmaster, every live backend, and the backends that already exited, through the
 * postmaster's `cutime`/`cstime`), and the whole machine (busy vs. total, from `/proc/stat`, which also
 * shows how much other work the machine was doing). On a 2-core machine this tells which side is the
 * bottleneck of a figure.
 *
 * Invariant: a reading is a difference of two snapshots of monotonic counters; a process that vanished in
 * between counts as zero rather than as a negative number.
 */
import { readdirSync, readFileSync } from "node:fs"

const ticksPerSecond = 100

/** utime + stime (+ cutime + cstime when `children`) of a process, in ticks; 0 when it is gone. */
const processTicks = (pid: number, children: boolean): number => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    // the command may contain spaces and parentheses: fields start after the last ')'
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    const at = (field: number) => Number(fields[field - 3])
    return at(14) + at(15) + (children ? at(16) + at(17) : 0)
  } catch {
    return 0
  }
}

const parentOf = (pid: number): number | null => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1])
  } catch {
    return null
  }
}

/** The CPU ticks of a PostgreSQL server: its postmaster (with reaped children) and its live children. */
const serverTicks = (postmaster: number): number => {
  let total = processTicks(postmaster, true)
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry)
    if (!Number.isInteger(pid) || pid === postmaster) continue
    if (parentOf(pid) === postmaster) total += processTicks(pid, false)
  }
  return total
}

const machineTicks = () => {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!
  const values = line.trim().split(/\s+/).slice(1).map(Number)
  const idle = (values[3] ?? 0) + (values[4] ?? 0)
  const total = values.reduce((s, v) => s + v, 0)
  return { busy: total - idle, total }
}

/** The postmaster of the backend with process id `backendPid` (its parent). */
export const postmasterOf = (backendPid: number): number | null => parentOf(backendPid)

/** The processes to account for. */
export interface CpuSubjects {
  readonly neonPostmaster: number | null
  readonly workspacePostmaster: number | null
  /** the CLI or daemon child being measured, when there is one */
  readonly child?: () => number | null
  /** the process carrying the links (latency proxies), when the run has them */
  readonly links?: number | null
}

/** A snapshot to measure from. */
export interface CpuMeter {
  /** CPU seconds spent since the snapshot, per subject, and the machine's busy share (0-1) */
  readonly read: () => CpuReading
}

/** CPU seconds spent in a phase. */
export interface CpuReading {
  readonly wallSeconds: number
  readonly benchSeconds: number
  readonly childSeconds: number | null
  /** the latency proxies' process (null without links) */
  readonly linkSeconds: number | null
  readonly neonServerSeconds: number | null
  readonly workspaceServerSeconds: number | null
  /** CPU seconds of everything on the machine (these processes and any other work) */
  readonly machineBusySeconds: number
  /** CPU seconds of processes other than the bench, its child, the links and the two servers (other work on the machine) */
  readonly otherProcessesSeconds: number
  /** machineBusySeconds / (wall x cores): 1 means every core was busy */
  readonly machineBusyShare: number
}

const round2 = (x: number) => Math.round(x * 100) / 100

/** Starts measuring. */
export const startCpuMeter = (subjects: CpuSubjects): CpuMeter => {
  const wall0 = performance.now()
  const bench0 = process.cpuUsage()
  const neon0 = subjects.neonPostmaster === null ? null : serverTicks(subjects.neonPostmaster)
  const ws0 = subjects.workspacePostmaster === null ? null : serverTicks(subjects.workspacePostmaster)
  const childPid = subjects.child?.() ?? null
  const child0 = childPid === null ? null : processTicks(childPid, false)
  const links = subjects.links ?? null
  const links0 = links === null ? null : processTicks(links, false)
  const machine0 = machineTicks()
  return {
    read: () => {
      const wall = (performance.now() - wall0) / 1000
      const bench = process.cpuUsage(bench0)
      const machine = machineTicks()
      const pid = subjects.child?.() ?? null
      const busy = (machine.busy - machine0.busy) / ticksPerSecond
      const total = (machine.total - machine0.total) / ticksPerSecond
      const delta = (before: number | null, now: number | null) =>
        before === null || now === null ? null : round2(Math.max(0, now - before) / ticksPerSecond)
      const childSeconds = pid === null ? null : delta(child0 ?? 0, processTicks(pid, false))
      const neonServerSeconds = delta(
        neon0,
        subjects.neonPostmaster === null ? null : serverTicks(subjects.neonPostmaster)
      )
      const workspaceServerSeconds = delta(
        ws0,
        subjects.workspacePostmaster === null ? null : serverTicks(subjects.workspacePostmaster)
      )
      const linkSeconds = links === null ? null : delta(links0, processTicks(links, false))
      const benchSeconds = (bench.user + bench.system) / 1e6
      const ours =
        benchSeconds +
        (childSeconds ?? 0) +
        (linkSeconds ?? 0) +
        (neonServerSeconds ?? 0) +
        (workspaceServerSeconds ?? 0)
      return {
        wallSeconds: round2(wall),
        benchSeconds: round2(benchSeconds),
        childSeconds,
        linkSeconds,
        neonServerSeconds,
        workspaceServerSeconds,
        otherProcessesSeconds: round2(Math.max(0, busy - ours)),
        machineBusySeconds: round2(busy),
        machineBusyShare: total > 0 ? round2(busy / total) : 0
      }
    }
  }
}
