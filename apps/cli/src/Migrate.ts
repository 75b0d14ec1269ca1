/**
 * `enrich-sync migrate [--side source|workspace|all] [--dry-run] [--json]`: applies the pending migrations
 * of each side with the engine's migrator (one transaction per side, each version recorded), or with
 * `--dry-run` prints the plan. Afterwards it checks the schema, so a table the migrations cannot fix (a
 * column of another type) is named.
 *
 * Invariant: only the sides asked for are configured and touched; a side either gets all its pending
 * migrations or none.
 */
import type { Side } from "@enrich-sync/core"
import type { Database, MigrationPlan } from "@enrich-sync/engine"
import {
  applyMigrations,
  planMigrations,
  SourceDatabase,
  schemaProblems,
  WorkspaceDatabase
} from "@enrich-sync/engine"
import { Command, Flag } from "effect/cli"
import * as Effect from "effect/Effect"
import { commandLayer } from "./CliConfig.ts"
import { CliFailure } from "./CliFailure.ts"
import { withHelp } from "./CommandHelp.ts"
import * as Flags from "./CommonFlags.ts"
import { Output } from "./Output.ts"

const sideLabel: { readonly [S in Side]: string } = { source: "Neon", workspace: "Workspace" }

/** What migrate did on one side. */
export interface MigrateSideResult {
  readonly side: Side
  /** migrations recorded before this run */
  readonly alreadyApplied: ReadonlyArray<{
    readonly version: number
    readonly name: string
    readonly appliedAt: string
  }>
  /** applied by this run (dry run: would be) */
  readonly applied: ReadonlyArray<{ readonly version: number; readonly name: string }>
  /** recorded versions whose statements differ from this release's */
  readonly checksumMismatches: ReadonlyArray<number>
  /** what still differs from the expected schema after the run (dry run: not checked) */
  readonly schemaProblems: ReadonlyArray<string>
}

const migrateSide = (db: Database, dryRun: boolean) =>
  Effect.gen(function* () {
    const plan: MigrationPlan = dryRun ? yield* planMigrations(db) : yield* applyMigrations(db)
    const problems = dryRun ? [] : yield* schemaProblems(db)
    const result: MigrateSideResult = {
      side: db.side,
      alreadyApplied: plan.applied.map((a) => ({ version: a.version, name: a.name, appliedAt: a.appliedAt })),
      applied: plan.pending.map((m) => ({ version: m.version, name: m.name })),
      checksumMismatches: plan.applied.filter((a) => !a.checksumMatches).map((a) => a.version),
      schemaProblems: problems
    }
    return result
  })

const render = (results: ReadonlyArray<MigrateSideResult>, dryRun: boolean): string =>
  results
    .map((r) => {
      const names = r.applied.map((m) => `${m.version} ${m.name}`).join(", ")
      const head = `${sideLabel[r.side]}:`.padEnd(11)
      const line =
        r.applied.length === 0
          ? `${head}up to date (${r.alreadyApplied.length} migrations applied before)`
          : dryRun
            ? `${head}would apply ${r.applied.length} migration(s): ${names}`
            : `${head}applied ${r.applied.length} migration(s): ${names}`
      const mismatch =
        r.checksumMismatches.length === 0
          ? ""
          : `\n           warning: migration(s) ${r.checksumMismatches.join(", ")} were recorded with other statements than this release's`
      return line + mismatch
    })
    .join("\n") + (dryRun ? "\n(dry run: nothing was changed)" : "")

/** The `migrate` command. */
export const migrateCommand = Command.make(
  "migrate",
  {
    side: Flag.Literals("side", ["source", "workspace", "all"]).pipe(
      Flag.withDescription("which database: source (Neon), workspace (Supabase) or all (default all)"),
      Flag.withDefault("all")
    ),
    dryRun: Flags.dryRun,
    json: Flags.json
  },
  Effect.fn(function* ({ side, dryRun, json }) {
    const output = yield* Output
    yield* output.begin("migrate", { json })
    const run = (dbs: ReadonlyArray<Database>) => Effect.forEach(dbs, (db) => migrateSide(db, dryRun))
    const results =
      side === "source"
        ? yield* Effect.gen(function* () {
            return yield* run([yield* SourceDatabase])
          }).pipe(Effect.provide(commandLayer("source")))
        : side === "workspace"
          ? yield* Effect.gen(function* () {
              return yield* run([yield* WorkspaceDatabase])
            }).pipe(Effect.provide(commandLayer("workspace")))
          : yield* Effect.gen(function* () {
              return yield* run([yield* SourceDatabase, yield* WorkspaceDatabase])
            }).pipe(Effect.provide(commandLayer("both")))
    yield* output.print(render(results, dryRun))
    const remaining = results.flatMap((r) => r.schemaProblems.map((p) => `${sideLabel[r.side]}: ${p}`))
    if (remaining.length === 0) return yield* output.result({ dryRun, sides: results })
    const failure = new CliFailure({
      reason: "Configuration",
      message: `the migrations are applied but the schema still differs: ${remaining.join("; ")}; such columns exist with another type than enrich-sync expects, so change them by hand (ALTER TABLE ... ALTER COLUMN ... TYPE ...) or recreate the tables, then run \`enrich-sync migrate\` again`
    })
    yield* output.result({
      ok: false,
      dryRun,
      sides: results,
      error: { reason: failure.reason, message: failure.message }
    })
    return yield* failure
  })
).pipe(
  withHelp(
    "Create or update the tables, columns, triggers and functions enrich-sync needs, on Neon and/or the workspace",
    ["enrich-sync migrate --dry-run", "print the pending migrations of both sides"],
    ["enrich-sync migrate --side workspace", "migrate the workspace (Supabase) only"]
  )
)
