/**
 * The check every command but `migrate` runs first: the databases it needs are reachable and hold the
 * tables, columns and functions enrich-sync expects (the engine's `requireSchema`); and `withBothSides`, the
 * run of a command on both sides behind that check.
 *
 * Invariant: nothing is read or written before both sides a command needs pass; when both fail, one error
 * names the problems of both: when both lack tables, with the fix once (one `enrich-sync migrate` fixes
 * everything); otherwise the side that cannot be reached first, as its fix comes before any migration.
 */
import type { MergePolicy } from "@enrich-sync/core"
import { DatabaseError, requireSchema, SourceDatabase, WorkspaceDatabase } from "@enrich-sync/engine"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import { CliConfig, commandLayer } from "./CliConfig.ts"

/** Checks Neon. */
export const requireSource: Effect.Effect<void, DatabaseError, SourceDatabase> =
  SourceDatabase.use(requireSchema)

/** Checks the workspace. */
export const requireWorkspace: Effect.Effect<void, DatabaseError, WorkspaceDatabase> =
  WorkspaceDatabase.use(requireSchema)

const migrateHint = "; run `enrich-sync migrate` to create what is missing"

/** Checks both sides, together. */
export const requireBoth: Effect.Effect<void, DatabaseError, SourceDatabase | WorkspaceDatabase> = Effect.gen(
  function* () {
    const [source, workspace] = yield* Effect.all(
      [Effect.result(requireSource), Effect.result(requireWorkspace)],
      {
        concurrency: 2
      }
    )
    if (Result.isFailure(source) && Result.isFailure(workspace)) {
      const a = source.failure
      const b = workspace.failure
      if (a.reason === "Schema" && b.reason === "Schema") {
        return yield* new DatabaseError({
          side: "source",
          reason: "Schema",
          message: `${a.message.replace(migrateHint, "")}; ${b.message.replace(migrateHint, "")}${migrateHint}`
        })
      }
      // a side that cannot be reached (or refuses the role) is fixed before any side's tables: it comes first,
      // and the other side's problem follows, so one message names all there is to fix
      const [first, second] = a.reason === "Schema" ? [b, a] : [a, b]
      return yield* new DatabaseError({
        side: first.side,
        reason: first.reason,
        message: `${first.message}; ${second.message}`,
        ...(first.code === undefined ? {} : { code: first.code }),
        ...(first.cause === undefined ? {} : { cause: first.cause })
      })
    }
    if (Result.isFailure(source)) return yield* source.failure
    if (Result.isFailure(workspace)) return yield* workspace.failure
  }
)

/**
 * Runs `body` on the layer of a command that needs both sides (its configuration, `--push-on` overriding
 * ENRICH_SYNC_PUSH_ON, and both pools), after `requireBoth`; `body` gets the push policy.
 */
export const withBothSides = <A, E, R>(
  body: (policy: MergePolicy) => Effect.Effect<A, E, R>,
  pushOn: Option.Option<ReadonlyArray<string>> = Option.none()
) =>
  Effect.gen(function* () {
    const { policy } = yield* CliConfig
    yield* requireBoth
    return yield* body(policy)
  }).pipe(Effect.provide(commandLayer("both", pushOn)))

/**
 * Runs `body` on the layer of a command that needs only the workspace (its configuration and pool; Neon is
 * neither configured nor reached), after `requireWorkspace`.
 */
export const withWorkspace = <A, E, R>(body: Effect.Effect<A, E, R>) =>
  Effect.andThen(requireWorkspace, body).pipe(Effect.provide(commandLayer("workspace")))
