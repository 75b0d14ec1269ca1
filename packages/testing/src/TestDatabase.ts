/**
 * The fixtures most integration tests use: `TestDatabase.fresh` (a database of its own on a shared test
 * server) and `TwoDatabases` (one database on the "neon" server and one on the "supabase" server).
 *
 * Invariant: a database made here is gone after its scope closes, whatever the test left behind in it
 * (see `createDatabase` and `dropDatabase` of `@enrich-sync/embedded`).
 */
import { type DatabaseInfo, type ServerInfo, scopedDatabase } from "@enrich-sync/embedded"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { injectedServers } from "./GlobalSetup.ts"

/** A database made for a test. */
export type TestDatabaseInfo = DatabaseInfo

/** Scoped test databases. */
export const TestDatabase = {
  /** A new, uniquely named database on `server`, dropped when the scope closes. */
  fresh: (server: ServerInfo, prefix: string): Effect.Effect<TestDatabaseInfo, never, Scope.Scope> =>
    scopedDatabase(server, prefix)
}

/** A test database together with the server it lives on. */
export interface DatabaseOnServer extends TestDatabaseInfo {
  readonly server: ServerInfo
}

/** The pair of databases an integration test works on. */
export interface TwoDatabasesShape {
  /** the source: a fresh database on the "neon" server */
  readonly neon: DatabaseOnServer
  /** the workspace: a fresh database on the "supabase" server */
  readonly workspace: DatabaseOnServer
}

/** A fresh database on each of the injected servers (one "neon", one "supabase"), dropped with the layer. */
export class TwoDatabases extends Context.Service<TwoDatabases, TwoDatabasesShape>()(
  "@enrich-sync/testing/TwoDatabases"
) {
  /**
   * Creates both databases (on the servers of `inject("postgres")`) and runs `prepare` on them (the
   * engine passes its migrations here). Both are dropped when the layer is released.
   */
  static layer<E = never, R = never>(
    prepare?: (dbs: TwoDatabasesShape) => Effect.Effect<void, E, R>,
    options?: { readonly prefix?: string }
  ): Layer.Layer<TwoDatabases, E, R> {
    return Layer.effect(
      TwoDatabases,
      Effect.gen(function* () {
        const servers = injectedServers()
        const prefix = options?.prefix ?? "test"
        const [neon, workspace] = yield* Effect.all(
          [
            TestDatabase.fresh(servers.neon, `${prefix}_neon`),
            TestDatabase.fresh(servers.supabase, `${prefix}_ws`)
          ],
          { concurrency: 2 }
        )
        const dbs: TwoDatabasesShape = {
          neon: { ...neon, server: servers.neon },
          workspace: { ...workspace, server: servers.supabase }
        }
        if (prepare !== undefined) yield* prepare(dbs)
        return TwoDatabases.of(dbs)
      })
    )
  }
}
