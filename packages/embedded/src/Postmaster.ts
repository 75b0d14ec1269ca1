/**
 * One postmaster process: spawned on a data directory and a port, ready when `postmaster.pid` says so,
 * and shut down by its signals.
 *
 * The postmaster is spawned directly (no `pg_ctl`), detached into its own session so that a terminal's
 * Ctrl-C reaches only Node (which then stops it in order). Shutdown modes are its signals: `fast` is
 * SIGINT (a clean shutdown), `immediate` is SIGQUIT (a crash: the next start runs recovery); each
 * escalates (to SIGQUIT, then SIGKILL) when the process does not exit in time.
 *
 * Invariant: readiness is read from `postmaster.pid` (status `ready`, written by the postmaster whose pid
 * was spawned), never from log text; a postmaster that fails to become ready is gone when the spawn
 * fails (it exited, or it is killed), and its log lines are in the failure.
 *
 * ```
 *   spawn ──pid file "ready"──> ready ──shutdown(mode)──> exited
 *     │
 *     └── exited, or not ready within 60 s (killed) ──> PostmasterExit (with its log)
 * ```
 */
import { type ChildProcess, spawn } from "node:child_process"
import { closeSync, fstatSync, openSync, readFileSync } from "node:fs"
import { open } from "node:fs/promises"
import { type AddressInfo, createServer } from "node:net"
import { join } from "node:path"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type { PostgresBinaries, RunAs } from "./PostgresBinaries.ts"
import { PostgresServerError } from "./PostgresServerError.ts"
import { processAlive } from "./ProcessAlive.ts"

/** How a postmaster is stopped: `fast` is a clean shutdown, `immediate` a crash. */
export type ShutdownMode = "fast" | "immediate"

/** What a postmaster runs with. */
export interface PostmasterOptions {
  /** the server's name, for messages */
  readonly name: string
  readonly binaries: PostgresBinaries
  /** whom it runs as (never root) */
  readonly runAs: RunAs | undefined
  readonly dataDir: string
  /** where its output goes (appended) */
  readonly logFile: string
  readonly port: number
  /** `false`: `fsync=off` and `full_page_writes=off` */
  readonly durable: boolean
  /** extra command-line arguments, after ours */
  readonly flags: ReadonlyArray<string>
}

/** A running postmaster. */
export interface Postmaster {
  readonly pid: number
  /** Signals the postmaster and waits for it to exit, escalating; a no-op once it has exited. */
  readonly shutdown: (mode: ShutdownMode) => Effect.Effect<void, PostgresServerError>
}

/** The postmaster exited, or never became ready, before accepting connections; `log` is what it wrote. */
export class PostmasterExit extends Data.TaggedError("PostmasterExit")<{
  readonly message: string
  readonly log: string
}> {
  /** whether it could not listen on its port (another process has it) */
  get portInUse(): boolean {
    return /could not bind|Address already in use|could not create any TCP\/IP sockets/.test(this.log)
  }
}

const readyTimeout = "60 seconds"

/** The settings every server runs with (before `flags`). */
const settings = (durable: boolean): ReadonlyArray<string> => [
  "listen_addresses=127.0.0.1",
  "unix_socket_directories=",
  "wal_level=logical",
  "max_replication_slots=64",
  "max_wal_senders=64",
  "max_connections=300",
  "TimeZone=UTC",
  ...(durable ? [] : ["fsync=off", "full_page_writes=off"])
]

/** The escalation of each mode: a signal, then how long to wait for the exit before the next one. */
const escalation: { readonly [M in ShutdownMode]: ReadonlyArray<readonly [NodeJS.Signals, Duration.Input]> } =
  {
    fast: [
      ["SIGINT", "20 seconds"],
      ["SIGQUIT", "5 seconds"],
      ["SIGKILL", "5 seconds"]
    ],
    immediate: [
      ["SIGQUIT", "10 seconds"],
      ["SIGKILL", "5 seconds"]
    ]
  }

/** A free TCP port on 127.0.0.1 (free when asked: another process may take it before the postmaster does). */
export const freePort: Effect.Effect<number> = Effect.callback<number>((resume) => {
  const probe = createServer()
  probe.unref()
  probe.on("error", (error) => resume(Effect.die(error)))
  probe.listen(0, "127.0.0.1", () => {
    const { port } = probe.address() as AddressInfo
    probe.close(() => resume(Effect.succeed(port)))
  })
})

/** The lines of `<dataDir>/postmaster.pid`, or `undefined` when there is none. */
const readPidFile = (dataDir: string): ReadonlyArray<string> | undefined => {
  try {
    return readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")
  } catch {
    return undefined
  }
}

/**
 * Waits (up to 15 s) for a postmaster left running on `dataDir` (by an owner that died) to be shut down
 * by its orphan guard; fails when it is still running then.
 */
export const awaitStalePostmaster = (
  name: string,
  dataDir: string
): Effect.Effect<void, PostgresServerError> =>
  Effect.sync(() => {
    const pid = Number(readPidFile(dataDir)?.[0])
    return Number.isInteger(pid) && pid > 0 && processAlive(pid)
  }).pipe(
    Effect.repeat({ schedule: Schedule.spaced("100 millis"), until: (alive) => !alive }),
    Effect.timeoutOption("15 seconds"),
    Effect.flatMap((gone) =>
      Option.isSome(gone)
        ? Effect.void
        : Effect.fail(
            new PostgresServerError({
              server: name,
              reason: "Start",
              message: `${dataDir} is in use by a running postmaster (pid ${readPidFile(dataDir)?.[0]})`
            })
          )
    )
  )

/** What the postmaster wrote to `logFile` from byte `from` on (its last 4000 bytes at most). */
const logTail = (logFile: string, from: number): Effect.Effect<string> =>
  Effect.promise(async () => {
    try {
      const handle = await open(logFile, "r")
      try {
        const { size } = await handle.stat()
        const start = Math.max(from, size - 4000)
        const buffer = Buffer.alloc(size - start)
        await handle.read(buffer, 0, buffer.length, start)
        return buffer.toString("utf8").trim()
      } finally {
        await handle.close()
      }
    } catch {
      return ""
    }
  })

/**
 * Spawns a postmaster and waits until it accepts connections (60 s at most). Fails with `PostmasterExit`
 * when it exits first or is not ready in time (then it is killed).
 */
export const spawnPostmaster = (options: PostmasterOptions): Effect.Effect<Postmaster, PostmasterExit> =>
  Effect.gen(function* () {
    const { name, dataDir, logFile } = options
    const exited = Deferred.makeUnsafe<void>()
    let exitStatus: { readonly code: number | null; readonly signal: NodeJS.Signals | null } | undefined
    const { child, logStart } = yield* Effect.try({
      try: () => {
        const args = [
          "-D",
          dataDir,
          "-p",
          String(options.port),
          ...settings(options.durable).flatMap((setting) => ["-c", setting]),
          ...options.flags
        ]
        const fd = openSync(logFile, "a", 0o600)
        try {
          const logStart = fstatSync(fd).size
          const child: ChildProcess = spawn(options.binaries.postgres, args, {
            ...(options.runAs ?? {}),
            detached: true,
            stdio: ["ignore", fd, fd],
            env: { ...process.env, LC_MESSAGES: "C" }
          })
          return { child, logStart }
        } finally {
          closeSync(fd)
        }
      },
      catch: (cause) =>
        new PostmasterExit({
          message: `${name}: could not spawn postgres: ${cause instanceof Error ? cause.message : String(cause)}`,
          log: ""
        })
    })
    child.unref()
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      exitStatus ??= { code, signal }
      Deferred.doneUnsafe(exited, Effect.void)
    }
    child.once("error", () => onExit(-1, null))
    child.once("exit", onExit)
    const gone = (message: string) =>
      logTail(logFile, logStart).pipe(
        Effect.flatMap((log) =>
          Effect.fail(new PostmasterExit({ message: `${message}${log === "" ? "" : `:\n${log}`}`, log }))
        )
      )

    const progress = Effect.sync(() => {
      if (exitStatus !== undefined) return "exited" as const
      const pidFile = readPidFile(dataDir)
      return pidFile?.[0] === String(child.pid) && pidFile[7]?.trim() === "ready"
        ? ("ready" as const)
        : ("starting" as const)
    })
    const reached = yield* progress.pipe(
      Effect.repeat({ schedule: Schedule.spaced("10 millis"), until: (state) => state !== "starting" }),
      Effect.timeoutOption(readyTimeout),
      Effect.onInterrupt(() => Effect.sync(() => child.kill("SIGKILL")))
    )
    if (Option.isNone(reached)) {
      child.kill("SIGKILL")
      return yield* gone(`${name}: postgres did not accept connections within 60 s`)
    }
    if (reached.value === "exited") {
      return yield* gone(
        `${name}: postgres exited (${exitStatus?.code ?? exitStatus?.signal}) before accepting connections`
      )
    }

    const shutdown = (mode: ShutdownMode): Effect.Effect<void, PostgresServerError> =>
      Effect.gen(function* () {
        if (exitStatus !== undefined) return
        for (const [signal, wait] of escalation[mode]) {
          child.kill(signal)
          if (Option.isSome(yield* Deferred.await(exited).pipe(Effect.timeoutOption(wait)))) return
        }
        return yield* new PostgresServerError({
          server: name,
          reason: "Stop",
          message: `${name}: postgres did not exit`
        })
      })
    return { pid: child.pid!, shutdown }
  })
