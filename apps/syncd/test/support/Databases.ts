/**
 * Fresh, migrated (and optionally seeded) Neon and workspace databases for a daemon test, on the test
 * run's shared servers or on servers of the test's own.
 */
import { afterAll, beforeAll } from "@effect/vitest"
import { applyMigrations, SourceDatabase, WorkspaceDatabase } from "@enrich-sync/engine"
import type { DemoDataOptions, ServerInfo } from "@enrich-sync/testing"
import {
  createDatabase,
  dropDatabase,
  injectedServers,
  seedDemoData,
  startPostgresServer
} from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"

export interface Databases {
  readonly neonUrl: string
  readonly workspaceUrl: string
  /** drops both databases (and their slots) */
  readonly drop: () => Promise<void>
}

/** Applies both sides' migrations with the engine. */
export const migrateBoth = (neonUrl: string, workspaceUrl: string) =>
  Effect.runPromise(
    Effect.gen(function* () {
      yield* applyMigrations(yield* SourceDatabase)
      yield* applyMigrations(yield* WorkspaceDatabase)
    }).pipe(
      Effect.scoped,
      Effect.provide(
        Layer.mergeAll(
          SourceDatabase.layer(Redacted.make(neonUrl)),
          WorkspaceDatabase.layer(Redacted.make(workspaceUrl))
        )
      )
    )
  )

/** Creates the two databases, migrates them unless told not to, and seeds the demo rows when asked. */
export const freshDatabases = async (
  options: {
    readonly migrate?: boolean
    readonly seed?: DemoDataOptions
    readonly neonServer?: ServerInfo
    readonly workspaceServer?: ServerInfo
  } = {}
): Promise<Databases> => {
  const servers = injectedServers()
  const neonServer = options.neonServer ?? servers.neon
  const workspaceServer = options.workspaceServer ?? servers.supabase
  const [neon, workspace] = await Promise.all([
    createDatabase(neonServer, "syncd_neon"),
    createDatabase(workspaceServer, "syncd_ws")
  ])
  if (options.migrate !== false) await migrateBoth(neon.url, workspace.url)
  if (options.seed !== undefined) await seedDemoData(neon.url, options.seed)
  return {
    neonUrl: neon.url,
    workspaceUrl: workspace.url,
    drop: async () => {
      await Promise.all([dropDatabase(neonServer, neon.name), dropDatabase(workspaceServer, workspace.name)])
    }
  }
}

/**
 * Runs `use` on fresh databases whose Neon is on a server of its own (`serverName`) at `wal_level=replica`,
 * without logical replication; then drops them and stops the server.
 */
export const withReplicaLevelNeon = async (
  serverName: string,
  use: (dbs: Databases) => Promise<void>
): Promise<void> => {
  const server = await startPostgresServer({ name: serverName, flags: ["-c", "wal_level=replica"] })
  try {
    const dbs = await freshDatabases({ neonServer: server })
    try {
      await use(dbs)
    } finally {
      await dbs.drop()
    }
  } finally {
    await server.stop()
  }
}

/**
 * Fresh databases (`freshDatabases(options)`) for the tests of the calling `describe`: created before its
 * first test (within 60 s), dropped after its last. Its URLs can be read only inside the tests.
 */
export const databasesOfSuite = (options: Parameters<typeof freshDatabases>[0] = {}): Databases => {
  let dbs: Databases | undefined
  beforeAll(async () => {
    dbs = await freshDatabases(options)
  }, 60_000)
  afterAll(async () => {
    await dbs?.drop()
  })
  const current = (): Databases => {
    if (dbs === undefined) throw new Error("the suite's databases are made before its first test")
    return dbs
  }
  return {
    get neonUrl() {
      return current().neonUrl
    },
    get workspaceUrl() {
      return current().workspaceUrl
    },
    drop: () => current().drop()
  }
}
