/**
 * The embedded default: with no database URL configured, the daemon starts two local PostgreSQL servers
 * (one playing Neon, one playing the Supabase workspace) under the data folder, migrates them, seeds the
 * demo records on the first start, starts a local Realtime stand-in on the workspace (all three from `@enrich-sync/embedded`, which the
 * tests use too), and syncs them like real ones. Data survives restarts.
 *
 * Invariant: the servers listen on 127.0.0.1 only, keep their generated passwords in 0600 files, and stop
 * when the daemon stops. Passwords are never printed; `<dataDir>/embedded.env` (0600) holds both URLs for
 * the CLI and psql.
 */

import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { redactUrl } from "@enrich-sync/core"
import {
  type PostgresServer,
  RealtimeStandIn,
  seedDemoData,
  startPostgresServer
} from "@enrich-sync/embedded"
import { applyMigrations, SourceDatabase, WorkspaceDatabase } from "@enrich-sync/engine"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

/** The servers could not start or be prepared. */
export class EmbeddedDefaultError extends Schema.TaggedError<EmbeddedDefaultError>()("EmbeddedDefaultError", {
  message: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {}

/** The URLs of the embedded databases, and of the Realtime stand-in that follows the workspace. */
export interface EmbeddedDatabases {
  readonly neonUrl: Redacted.Redacted<string>
  readonly workspaceUrl: Redacted.Redacted<string>
  /** the stand-in's project URL (`http://127.0.0.1:<port>`), as `SUPABASE_URL` would be */
  readonly realtimeUrl: string
}

/** Preferred ports, so the URLs stay the same between runs; any free port when they are taken. */
const preferredPorts = { neon: 54330, workspace: 54331 } as const

const start = (dataDir: string, name: "neon" | "workspace") =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        const options = { name, dataDir: join(dataDir, name), durable: true }
        try {
          return await startPostgresServer({ ...options, port: preferredPorts[name] })
        } catch {
          return await startPostgresServer(options)
        }
      },
      catch: (cause) =>
        new EmbeddedDefaultError({
          message: `could not start the embedded ${name} server in ${join(dataDir, name)} (${String((cause as Error)?.message ?? cause)}); its data is kept: fix the cause named here, or run a fresh demo in another folder with ENRICH_SYNC_DATA_DIR, or set NEON_DATABASE_URL and SUPABASE_DATABASE_URL`,
          cause
        })
    }),
    (server) => Effect.promise(() => server.stop()).pipe(Effect.timeout("30 seconds"), Effect.ignore)
  )

/**
 * Starts (or restarts) the embedded servers for the scope, migrated and seeded; returns their URLs.
 */
export const startEmbeddedDefault = (dataDir: string) =>
  Effect.gen(function* () {
    mkdirSync(dataDir, { recursive: true })
    const [neon, workspace]: ReadonlyArray<PostgresServer> = yield* Effect.all(
      [start(dataDir, "neon"), start(dataDir, "workspace")],
      { concurrency: 2 }
    )
    const neonUrl = neon.url("postgres")
    const workspaceUrl = workspace.url("postgres")
    const layer = Layer.mergeAll(
      SourceDatabase.layer(Redacted.make(neonUrl), { max: 2 }),
      WorkspaceDatabase.layer(Redacted.make(workspaceUrl), { max: 2 })
    )
    yield* Effect.gen(function* () {
      yield* applyMigrations(yield* SourceDatabase)
      yield* applyMigrations(yield* WorkspaceDatabase)
    }).pipe(Effect.scoped, Effect.provide(layer))
    // seeded once, on the first start: promoting every record must not bring the demo rows back
    const marker = join(dataDir, "demo-seeded")
    if (!existsSync(marker)) {
      const counts = yield* Effect.tryPromise({
        try: () => seedDemoData(neonUrl),
        catch: (cause) =>
          new EmbeddedDefaultError({
            message: `could not seed the demo data into the embedded Neon server`,
            cause
          })
      })
      writeFileSync(marker, `${new Date(yield* Clock.currentTimeMillis).toISOString()}\n`)
      yield* Effect.logInfo(
        `embedded demo: seeded ${counts.companies} companies and ${counts.people} people into the embedded Neon`
      )
    }
    const envFile = join(dataDir, "embedded.env")
    writeFileSync(envFile, `NEON_DATABASE_URL=${neonUrl}\nSUPABASE_DATABASE_URL=${workspaceUrl}\n`, {
      mode: 0o600
    })
    chmodSync(envFile, 0o600)
    // Supabase Realtime for the demo workspace: the stand-in the tests use, fed by logical decoding of it
    const realtime = yield* RealtimeStandIn.scoped({ databaseUrl: workspaceUrl })
    yield* Effect.logInfo(
      `embedded demo: Neon at ${redactUrl(neonUrl)}, workspace at ${redactUrl(workspaceUrl)} with a local Realtime stand-in at ${realtime.url}; both database URLs (with their passwords) are in ${envFile}`
    )
    return {
      neonUrl: Redacted.make(neonUrl),
      workspaceUrl: Redacted.make(workspaceUrl),
      realtimeUrl: realtime.url
    } satisfies EmbeddedDatabases
  })
