/**
 * A watchdog that stops a PostgreSQL server whose owning Node process died without stopping it (a test
 * run killed with SIGKILL, a crash, an `process.exit()` that skipped teardown).
 *
 * Invariant: a server never outlives the process that started it by more than the shutdown itself.
 *
 * How: a tiny detached `sh` (its own session, so a terminal's Ctrl-C or a process-group kill does not
 * reach it) blocks reading a pipe whose only writer is the owning process. The kernel closes that pipe
 * when the owner exits, however it exits, so `read` returns and the watchdog signals the postmaster named
 * in `postmaster.pid` (SIGQUIT, immediate shutdown, for throw-away clusters; SIGINT, fast shutdown, then
 * SIGQUIT for persistent ones) and removes the server's temporary folder. No polling, no timers. The pipe
 * is created close-on-exec, so no other child of the owner (test workers, postgres itself) holds it open.
 * A normal `stop()` kills the watchdog after stopping the server itself.
 */
import { type ChildProcess, spawn } from "node:child_process"
import type { Socket } from "node:net"

const script = `
trap '' INT HUP TERM
read -r _ || true
pidfile="$1/postmaster.pid"
pid=$(head -n 1 "$pidfile" 2>/dev/null)
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
  kill -"$3" "$pid" 2>/dev/null
  i=0
  while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 300 ]; do sleep 0.1; i=$((i+1)); done
  if kill -0 "$pid" 2>/dev/null; then kill -QUIT "$pid" 2>/dev/null; sleep 2; kill -KILL "$pid" 2>/dev/null; fi
fi
if [ -n "$2" ]; then rm -rf -- "$2"; fi
`

/** A running watchdog. */
export interface OrphanGuard {
  /** Ends the watchdog without it doing anything (the owner has stopped the server itself). */
  readonly dismiss: () => void
}

/**
 * Starts a watchdog for the server of `dataDir`. When this process dies, the watchdog stops that server
 * and removes `removeOnOrphan` (the server's temporary folder; nothing for a persistent data directory).
 */
export const guardAgainstOrphan = (options: {
  readonly dataDir: string
  readonly removeOnOrphan: string | undefined
  /** `true` for a persistent cluster: a fast shutdown first, so it does not need crash recovery */
  readonly persistent: boolean
}): OrphanGuard => {
  const child: ChildProcess = spawn(
    "/bin/sh",
    [
      "-c",
      script,
      "enrich-sync-pg-guard",
      options.dataDir,
      options.removeOnOrphan ?? "",
      options.persistent ? "INT" : "QUIT"
    ],
    { detached: true, stdio: ["pipe", "ignore", "ignore"] }
  )
  child.on("error", () => undefined)
  child.stdin?.on("error", () => undefined)
  // neither the watchdog nor its pipe may keep this process alive
  child.unref()
  ;(child.stdin as Socket | null)?.unref()
  return {
    dismiss: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
    }
  }
}
