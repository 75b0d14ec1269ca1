/**
 * Stops the daemon when the package manager that launched it is gone. `pnpm start` runs the daemon in a
 * process group of its own (`pnpm` -> `sh -c` -> `node`): a supervisor that kills pnpm with SIGKILL after
 * its stop timeout would otherwise leave the daemon running, holding the slot, with nobody to stop it.
 *
 * Invariant: only a daemon started by a package manager's script (`npm_lifecycle_event` is set) watches;
 * a daemon started directly (systemd, a container, `nohup syncd &`) never stops because its parent left.
 * When the launcher is gone the daemon stops the way SIGTERM stops it (finishing and acknowledging the
 * batch in flight), unless a stop signal came first: a launcher stopped with SIGTERM passes it on and
 * leaves, and that stop continues as it began.
 */
import { readFileSync } from "node:fs"
import { processAlive } from "@enrich-sync/embedded"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import { stopAsked } from "./Shutdown.ts"

const shells = new Set(["sh", "dash", "bash", "zsh", "ash", "busybox"])

/** The parent pid and command name of `pid`, from Linux's /proc; null elsewhere or when it is gone. */
const processInfo = (pid: number): { readonly ppid: number; readonly name: string } | null => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    // pid (name) state ppid ...: the name may hold spaces and parentheses, so cut at the last ')'
    const close = stat.lastIndexOf(")")
    const name = stat.slice(stat.indexOf("(") + 1, close)
    const ppid = Number(stat.slice(close + 2).split(" ")[1])
    return Number.isSafeInteger(ppid) ? { ppid, name } : null
  } catch {
    return null
  }
}

/** The launching package manager's pid: the first ancestor that is not a shell (the parent off Linux). */
export const launcherPid = (): number => {
  let pid = process.ppid
  for (let depth = 0; depth < 4; depth++) {
    const info = processInfo(pid)
    if (info === null || !shells.has(info.name) || info.ppid <= 1) return pid
    pid = info.ppid
  }
  return pid
}

/**
 * For the scope: when started by a package manager's script, checks every second that the launcher still
 * runs (and that this process was not handed to another parent); when it is gone, logs why and stops the
 * daemon through SIGTERM.
 */
export const watchLauncher = Effect.gen(function* () {
  const script = yield* Config.option(Config.String("npm_lifecycle_event")).pipe(
    Effect.orElseSucceed(() => Option.none())
  )
  if (Option.isNone(script) || process.ppid <= 1) return
  const parent = process.ppid
  const launcher = launcherPid()
  const gone = () => process.ppid !== parent || !processAlive(launcher)
  yield* Effect.sync(gone).pipe(
    Effect.repeat({ schedule: Schedule.spaced("1 second"), until: (isGone) => isGone }),
    Effect.andThen(
      // a launcher stopped with SIGTERM passes it on and leaves: that stop is under way, and another
      // signal would cut it short (a second signal stops at once)
      Effect.suspend(() =>
        stopAsked()
          ? Effect.void
          : Effect.logWarning(
              `the package manager that started syncd (pid ${launcher}) is gone; stopping as on SIGTERM`
            ).pipe(Effect.andThen(Effect.sync(() => process.kill(process.pid, "SIGTERM"))))
      )
    ),
    Effect.forkScoped
  )
})
