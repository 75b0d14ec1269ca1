/**
 * The data directory a server runs on: a persistent one (reused when it holds a cluster, initialised when
 * missing or empty), or a throw-away one in a temporary folder (copied from the cached template when it
 * can be, else initialised), removed when its scope closes.
 *
 * Invariant: a persistent data directory that holds a cluster is reused with the password it was created
 * with (`enrich-sync.password`, mode 0600), never initialised again, and never touched while a postmaster
 * of an owner that died still runs on it; a folder that is neither empty nor a cluster is refused.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { mkdtemp, rm, statfs, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import {
  type ClusterTemplate,
  cloneTemplate,
  clusterTemplate,
  discardTemplate,
  initCluster,
  randomPassword
} from "./ClusterTemplate.ts"
import type { PostgresBinaries, RunAs } from "./PostgresBinaries.ts"
import { giveTo } from "./PostgresBinaries.ts"
import { asStartFailure, type PostgresServerError, startFailure } from "./PostgresServerError.ts"
import { awaitStalePostmaster } from "./Postmaster.ts"

/** A data directory ready for a postmaster. */
export interface DataDirectory {
  readonly dataDir: string
  /** the superuser's password */
  readonly password: string
  /** the cluster's major version (`PG_VERSION`) */
  readonly version: number
  /** where the postmaster's output goes */
  readonly logFile: string
  /** the temporary folder of a throw-away cluster (removed when the scope closes); none when persistent */
  readonly tempRoot: string | undefined
  /** the cached template a throw-away cluster was copied from, if it was */
  readonly template: ClusterTemplate | undefined
}

/** What a data directory is prepared from (the server's options that concern it). */
export interface DataDirectoryOptions {
  /** the server's name, for messages and the temporary folder's name */
  readonly name: string
  readonly binaries: PostgresBinaries
  readonly runAs: RunAs | undefined
  /** a persistent data directory; none: a throw-away cluster */
  readonly dataDir?: string | undefined
  /** the superuser password; none: random (a persistent cluster keeps it in `enrich-sync.password`) */
  readonly password?: string | undefined
  /** a persistent cluster's `initdb` syncs its files */
  readonly durable: boolean
  /** where a throw-away cluster's temporary folder goes; none: `/dev/shm` when roomy, else the OS temp folder */
  readonly tmpDir?: string | undefined
}

const passwordFileName = "enrich-sync.password"
const logFileName = "enrich-sync-postgres.log"
const tmpfsMagic = 0x01021994

/** `/dev/shm` when it is a tmpfs with room for a benchmark's cluster (4 GiB), else the OS temp folder. */
const defaultTmpDir: Effect.Effect<string> = Effect.promise(async () => {
  try {
    const stats = await statfs("/dev/shm")
    if (stats.type === tmpfsMagic && stats.bavail * stats.bsize >= 4 * 1024 ** 3) return "/dev/shm"
  } catch {
    // no /dev/shm: fall through
  }
  return tmpdir()
})

/** A persistent cluster: reused with its password, or initialised (and its password stored). */
const persistent = (options: DataDirectoryOptions, dataDir: string) =>
  Effect.gen(function* () {
    const { name } = options
    if (existsSync(join(dataDir, "PG_VERSION"))) {
      const stored = join(dataDir, passwordFileName)
      const password =
        options.password ?? (existsSync(stored) ? readFileSync(stored, "utf8").trim() : undefined)
      if (password === undefined) {
        return yield* startFailure(
          name,
          `${dataDir} holds a cluster but no ${passwordFileName}: pass the password`
        )
      }
      yield* awaitStalePostmaster(name, dataDir)
      return { password, template: undefined }
    }
    if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
      return yield* startFailure(name, `${dataDir} is neither empty nor a PostgreSQL data directory`)
    }
    const password = options.password ?? randomPassword()
    yield* Effect.tryPromise({
      try: async () => {
        await initCluster({
          binaries: options.binaries,
          runAs: options.runAs,
          dataDir,
          password,
          durable: options.durable
        })
        if (options.password === undefined) {
          await writeFile(join(dataDir, passwordFileName), `${password}\n`, { mode: 0o600 })
        }
      },
      catch: (cause) => asStartFailure(name, cause, "could not create the cluster")
    })
    return { password, template: undefined }
  })

/** A throw-away cluster in `dataDir`: a copy of the cached template when there is one, else initialised. */
const throwAway = (options: DataDirectoryOptions, dataDir: string) =>
  Effect.tryPromise({
    try: async () => {
      const { binaries, runAs } = options
      let template =
        options.password === undefined
          ? await clusterTemplate(binaries, runAs).catch(() => undefined)
          : undefined
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
      if (template !== undefined) return { password: template.password, template }
      const password = options.password ?? randomPassword()
      await initCluster({ binaries, runAs, dataDir, password, durable: false })
      return { password, template: undefined }
    },
    catch: (cause) => asStartFailure(options.name, cause, "could not create the cluster")
  })

/**
 * The data directory of a server, for the scope: a throw-away one's temporary folder is removed when the
 * scope closes (whether the server started or not).
 */
export const prepareDataDirectory = (
  options: DataDirectoryOptions
): Effect.Effect<DataDirectory, PostgresServerError, Scope.Scope> =>
  Effect.gen(function* () {
    const { name } = options
    let dataDir: string
    let tempRoot: string | undefined
    let cluster: { readonly password: string; readonly template: ClusterTemplate | undefined }
    if (options.dataDir !== undefined) {
      dataDir = resolve(options.dataDir)
      cluster = yield* persistent(options, dataDir)
    } else {
      const parent = options.tmpDir ?? (yield* defaultTmpDir)
      const root = yield* Effect.acquireRelease(
        Effect.tryPromise({
          try: () => mkdtemp(join(parent, `enrich-sync-pg-${name.replace(/[^A-Za-z0-9_-]/g, "_")}-`)),
          catch: (cause) => asStartFailure(name, cause, "could not create a temporary folder")
        }),
        (root) => Effect.promise(() => rm(root, { recursive: true, force: true }))
      )
      tempRoot = root
      yield* Effect.tryPromise({
        try: () => giveTo(options.runAs, root),
        catch: (cause) => asStartFailure(name, cause, "could not hand the temporary folder to postgres")
      })
      dataDir = join(root, "data")
      cluster = yield* throwAway(options, dataDir)
    }
    const version = Number(readFileSync(join(dataDir, "PG_VERSION"), "utf8").trim())
    return {
      dataDir,
      password: cluster.password,
      version,
      logFile: join(tempRoot ?? dataDir, logFileName),
      tempRoot,
      template: cluster.template
    }
  })

/**
 * A throw-away cluster copied from a template that turned out damaged (its postmaster would not start):
 * the template is discarded, so the next server builds a fresh one, and this cluster is initialised for
 * real, with a new password. `undefined` when `directory` is not such a copy.
 */
export const initialiseInstead = (
  directory: DataDirectory,
  options: DataDirectoryOptions
): Effect.Effect<DataDirectory, PostgresServerError> | undefined => {
  const { template, tempRoot } = directory
  if (template === undefined || tempRoot === undefined) return undefined
  return Effect.tryPromise({
    try: async () => {
      await discardTemplate(template)
      await rm(directory.dataDir, { recursive: true, force: true })
      const password = randomPassword()
      await initCluster({
        binaries: options.binaries,
        runAs: options.runAs,
        dataDir: directory.dataDir,
        password,
        durable: false
      })
      return { ...directory, password, template: undefined }
    },
    catch: (cause) => asStartFailure(options.name, cause, "could not create the cluster")
  })
}
