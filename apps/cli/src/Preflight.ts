/**
 * The check every command but `migrate` runs first: the databases it needs are reachable and hold the
 * tables, columns and functions enrich-sync expects (the engine's `requireSchema`).
 *
 * Invariant: nothing is read or written before both sides a command needs pass; when both fail their
 * schema check, one error names the problems of both (so one `enrich-sync migrate` fixes everything).
 */
import { DatabaseError, requireSchema, SourceDatabase, WorkspaceDatabase } from "@enrich-sync/engine"
import { Effect, Result } from "effect"

/** Checks Neon. */
export const requireSource: Effect.Effect<void, DatabaseError, SourceDatabase> =
  SourceDatabase.use(requireSchema)

/** Checks the workspace. */
export const requireWorkspace: Effect.Effect<void, DatabaseError, WorkspaceDatabase> =
  WorkspaceDatabase.use(requireSchema)

const migrateHint = "; run `enrich-sync migrate`"

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
    }
    if (Result.isFailure(source)) return yield* source.failure
    if (Result.isFailure(workspace)) return yield* workspace.failure
  }
)
