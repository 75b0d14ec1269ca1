/**
 * A stand-in for the CLI, run as a child process the same way (`node bench/src/EngineStage.ts <stage>`):
 * calls the engine's `backfillEntity`, `verifyEntity` or `promoteEntity` for companies directly and prints
 * one JSON object shaped like the CLI's `--json` result. The bench uses it only when the CLI cannot run at
 * all (it prints no JSON result), so a stage is still measured in a process of its own.
 *
 * Invariant: it reads only NEON_DATABASE_URL, SUPABASE_DATABASE_URL and its arguments.
 */
import { Company } from "@enrich-sync/core"
import {
  backfillEntity,
  promoteEntity,
  SourceDatabase,
  verifyEntity,
  WorkspaceDatabase
} from "@enrich-sync/engine"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"

const [stage, backupDir] = process.argv.slice(2)
const databases = Layer.mergeAll(
  SourceDatabase.layer(Redacted.make(process.env.NEON_DATABASE_URL ?? "")),
  WorkspaceDatabase.layer(Redacted.make(process.env.SUPABASE_DATABASE_URL ?? ""))
)

const run: Effect.Effect<Record<string, unknown>, unknown, SourceDatabase | WorkspaceDatabase> = stage ===
"backfill"
  ? Effect.map(backfillEntity(Company), (report) => ({ entities: [report] }))
  : stage === "verify"
    ? Effect.map(verifyEntity(Company), (report) => ({
        inSync: report.inSync,
        entities: [{ report, after: null }]
      }))
    : stage === "promote"
      ? Effect.map(promoteEntity(Company, backupDir === undefined ? {} : { backupDir }), (report) => ({
          promoted: report.promoted,
          entities: [report]
        }))
      : Effect.die(new Error(`unknown stage ${stage}: backfill, verify or promote`))

Effect.runPromise(run.pipe(Effect.provide(databases))).then(
  (result) => {
    process.stdout.write(`${JSON.stringify({ command: stage, ok: true, ...result })}\n`)
  },
  (error) => {
    process.stdout.write(
      `${JSON.stringify({ command: stage, ok: false, error: { message: String(error?.message ?? error) } })}\n`
    )
    process.exitCode = 1
  }
)
