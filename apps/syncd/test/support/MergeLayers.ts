/**
 * What the tests of the daemon's merging pieces (the Neon follower, reconcile) run on, in process: two
 * migrated databases with the demo rows on Neon (the workspace empty), the merge lane with fresh metrics
 * and no webhooks, and a wait on the real clock for tests whose own clock is `TestClock`.
 */
import { applyMigrations, SourceDatabase, WorkspaceDatabase } from "@enrich-sync/engine"
import { seedDemoData, TwoDatabases } from "@enrich-sync/testing"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { MergeLane } from "../../src/MergeLane.ts"
import { SyncMetrics } from "../../src/SyncMetrics.ts"
import { Webhooks } from "../../src/Webhooks.ts"

/** Both databases' services on `urls`. */
const bothDatabases = (urls: { readonly neon: string; readonly workspace: string }) =>
  Layer.mergeAll(
    SourceDatabase.layer(Redacted.make(urls.neon)),
    WorkspaceDatabase.layer(Redacted.make(urls.workspace))
  )

/**
 * Two databases of the suite (named after `prefix`), migrated, with the demo rows on Neon and an empty
 * workspace; the layer provides both databases' services and `TwoDatabases` (their URLs).
 */
export const seededDatabases = (prefix: string) =>
  Layer.unwrap(
    Effect.gen(function* () {
      const dbs = yield* TwoDatabases
      return bothDatabases({ neon: dbs.neon.url, workspace: dbs.workspace.url })
    })
  ).pipe(
    Layer.provideMerge(
      TwoDatabases.layer(
        (dbs) =>
          Effect.gen(function* () {
            yield* Effect.gen(function* () {
              yield* applyMigrations(yield* SourceDatabase)
              yield* applyMigrations(yield* WorkspaceDatabase)
            }).pipe(
              Effect.scoped,
              Effect.provide(bothDatabases({ neon: dbs.neon.url, workspace: dbs.workspace.url }))
            )
            yield* Effect.promise(() => seedDemoData(dbs.neon.url, {}))
          }).pipe(Effect.orDie),
        { prefix }
      )
    )
  )

/** The merge lane, fresh metrics and no webhooks. */
export const mergeServices = Layer.mergeAll(
  MergeLane.layer,
  SyncMetrics.layer,
  Layer.succeed(Webhooks)(Webhooks.of({ enabled: false, emit: () => Effect.void }))
)

/** Sleeps `ms` on the real clock (a test's own clock may be `TestClock`). */
export const sleepLive = (ms: number) => Effect.promise(() => new Promise<void>((r) => setTimeout(r, ms)))

/** Waits on the real clock (every 25 ms, at most `timeoutMs`) until `check` gives a value, and returns it. */
export const until = <A, E, R>(what: string, check: Effect.Effect<A | undefined, E, R>, timeoutMs = 20_000) =>
  Effect.gen(function* () {
    for (let waited = 0; waited < timeoutMs; waited += 25) {
      const value = yield* check
      if (value !== undefined) return value
      yield* sleepLive(25)
    }
    return yield* Effect.die(new Error(`timed out waiting until ${what}`))
  })
