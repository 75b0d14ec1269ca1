/**
 * The check every command but `migrate` runs first: the databases it needs are reachable and hold the
 * tables, columns and functions enrich-sync expects (the engine's `requireSchema`, and `requireSchemas` for
 * both sides in one error); and `withBothSides`, the run of a command on both sides behind that check.
 *
 * Invariant: nothing is read or written before both sides a command needs pass.
 */
import type { MergePolicy } from "@enrich-sync/core"
import {
  type DatabaseError,
  requireSchema,
  requireSchemas,
  SourceDatabase,
  WorkspaceDatabase
} from "@enrich-sync/engine"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { CliConfig, commandLayer } from "./CliConfig.ts"

/** Checks Neon. */
export const requireSource: Effect.Effect<void, DatabaseError, SourceDatabase> =
  SourceDatabase.use(requireSchema)

/** Checks the workspace. */
export const requireWorkspace: Effect.Effect<void, DatabaseError, WorkspaceDatabase> =
  WorkspaceDatabase.use(requireSchema)

/**
 * Runs `body` on the layer of a command that needs both sides (its configuration, `--push-on` overriding
 * ENRICH_SYNC_PUSH_ON, and both pools), after `requireSchemas`; `body` gets the push policy.
 */
export const withBothSides = <A, E, R>(
  body: (policy: MergePolicy) => Effect.Effect<A, E, R>,
  pushOn: Option.Option<ReadonlyArray<string>> = Option.none()
) =>
  Effect.gen(function* () {
    const { policy } = yield* CliConfig
    yield* requireSchemas
    return yield* body(policy)
  }).pipe(Effect.provide(commandLayer("both", pushOn)))

/**
 * Runs `body` on the layer of a command that needs only the workspace (its configuration and pool; Neon is
 * neither configured nor reached), after `requireWorkspace`.
 */
export const withWorkspace = <A, E, R>(body: Effect.Effect<A, E, R>) =>
  Effect.andThen(requireWorkspace, body).pipe(Effect.provide(commandLayer("workspace")))
