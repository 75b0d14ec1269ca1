/**
 * What the stages that run over one entity (backfill, push, re-validation, verify) share: each takes the
 * entity and its options and returns a report of what it did, which ends with how long the run took, by
 * `Clock` (so a test measures it in `TestClock` time).
 */
import type { Entity } from "@enrich-sync/core"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type { SourceDatabase, WorkspaceDatabase } from "../store/Database.ts"
import type { DatabaseError } from "../store/DatabaseError.ts"

/** A stage's run over one entity (no options: every option's default): its report. */
export type EntityStage<Options, Report, R = SourceDatabase | WorkspaceDatabase> = (
  entity: Entity,
  options?: Options
) => Effect.Effect<Report, DatabaseError, R>

/** A stage's work, its report completed with how long the work took (`durationMs`, `Clock` milliseconds). */
export const timed = <A extends object, E, R>(
  work: Effect.Effect<A, E, R>
): Effect.Effect<A & { readonly durationMs: number }, E, R> =>
  Effect.gen(function* () {
    const started = yield* Clock.currentTimeMillis
    const report = yield* work
    return { ...report, durationMs: (yield* Clock.currentTimeMillis) - started }
  })
