/**
 * The CLI's integration fixture: two fresh databases on the real test servers (one "Neon", one
 * "workspace"), a scratch working folder, and a runner that starts the real `enrich-sync` bin as a child
 * process (`node apps/cli/bin/enrich-sync.js ...`, the bin a user runs) with NEON_DATABASE_URL and SUPABASE_DATABASE_URL pointing at
 * them, and the engine's database services to set up and check their state (and to read and update one
 * company on either side); and the start most tests make, the demo data on migrated databases. How a run's
 * output is read is in `CliResult.ts`.
 *
 * Invariant: every run is checked for leaked credentials: neither server's password (raw or URL-encoded)
 * may appear in its stdout or stderr.
 */

import { spawn } from "node:child_process"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { type DatabaseError, SourceDatabase, WorkspaceDatabase } from "@enrich-sync/engine"
import { type DatabaseOnServer, seedDemoData, TwoDatabases } from "@enrich-sync/testing"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { assertNoSecret, assertSuccess, type CliResult } from "./CliResult.ts"

/** The bin under test. */
export const binPath = fileURLToPath(new URL("../../bin/enrich-sync.js", import.meta.url))

/** How a run is started. */
export interface RunOptions {
  /** written to standard input, which is then closed (default: standard input is /dev/null) */
  readonly input?: string
  /** variables set (a value of `undefined` unsets it); NEON_DATABASE_URL / SUPABASE_DATABASE_URL default to the fixture's */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** the working folder (default: the fixture's scratch folder) */
  readonly cwd?: string
}

const baseEnv = (): Record<string, string> => {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined) continue
    if (name === "NEON_DATABASE_URL" || name === "SUPABASE_DATABASE_URL" || name.startsWith("ENRICH_SYNC_"))
      continue
    env[name] = value
  }
  return env
}

/** Runs `command` with `args`, collecting its output (never fails: the exit code is in the result). */
export const spawnCollect = (
  command: string,
  args: ReadonlyArray<string>,
  options: { readonly env: Record<string, string>; readonly cwd: string; readonly input?: string }
): Effect.Effect<CliResult> =>
  Effect.callback<CliResult>((resume) => {
    const child = spawn(command, [...args], {
      cwd: options.cwd,
      env: options.env,
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    if (options.input !== undefined) child.stdin?.end(options.input)
    child.on("close", (code) => resume(Effect.succeed({ code, stdout, stderr })))
    child.on("error", (error) => resume(Effect.die(error)))
    return Effect.sync(() => child.kill("SIGKILL"))
  })

/** The fixture of a CLI test. */
export interface CliFixtureShape {
  readonly neon: DatabaseOnServer
  readonly workspace: DatabaseOnServer
  /** the scratch working folder (removed afterwards) */
  readonly cwd: string
  /** the passwords that must never be printed */
  readonly secrets: ReadonlyArray<string>
  /** runs `enrich-sync <args>` and checks it printed no credential */
  readonly run: (args: ReadonlyArray<string>, options?: RunOptions) => Effect.Effect<CliResult>
  /** runs a shell command line (`$CLI` is the bin, e.g. `$CLI revalidate | $CLI promote`), checked the same way */
  readonly shell: (script: string, options?: RunOptions) => Effect.Effect<CliResult>
}

/** The fixture service. */
export class CliFixture extends Context.Service<CliFixture, CliFixtureShape>()(
  "@enrich-sync/cli/test/CliFixture"
) {}

const fixtureLayer = Layer.effect(
  CliFixture,
  Effect.gen(function* () {
    const { neon, workspace } = yield* TwoDatabases
    const cwd = yield* Effect.acquireRelease(
      Effect.promise(() => mkdtemp(join(tmpdir(), "enrich-sync-cli-"))),
      (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
    )
    const secrets = [...new Set([neon.server.password, workspace.server.password])]
    const envOf = (options: RunOptions) => {
      const env = { ...baseEnv(), NEON_DATABASE_URL: neon.url, SUPABASE_DATABASE_URL: workspace.url }
      for (const [name, value] of Object.entries(options.env ?? {})) {
        if (value === undefined) delete (env as Record<string, string>)[name]
        else (env as Record<string, string>)[name] = value
      }
      return env
    }
    const checked = (result: CliResult) =>
      Effect.sync(() => {
        assertNoSecret(result, secrets)
        return result
      })
    const fixture: CliFixtureShape = {
      neon,
      workspace,
      cwd,
      secrets,
      run: (args, options = {}) =>
        spawnCollect(process.execPath, [binPath, ...args], {
          env: envOf(options),
          cwd: options.cwd ?? cwd,
          ...(options.input === undefined ? {} : { input: options.input })
        }).pipe(Effect.flatMap(checked)),
      shell: (script, options = {}) =>
        spawnCollect("sh", ["-c", script.replaceAll("$CLI", `'${process.execPath}' '${binPath}'`)], {
          env: envOf(options),
          cwd: options.cwd ?? cwd,
          ...(options.input === undefined ? {} : { input: options.input })
        }).pipe(Effect.flatMap(checked))
    }
    return fixture
  })
)

/** The engine's database services on the fixture's databases (for setting up and checking state). */
const databasesLayer = Layer.unwrap(
  Effect.gen(function* () {
    const { neon, workspace } = yield* TwoDatabases
    return Layer.mergeAll(
      SourceDatabase.layer(Redacted.make(neon.url)),
      WorkspaceDatabase.layer(Redacted.make(workspace.url))
    )
  })
)

/** Two fresh (empty, unmigrated) databases, a scratch folder, the CLI runner and the database services. */
export const cliFixture = (prefix = "cli") =>
  Layer.mergeAll(fixtureLayer, databasesLayer).pipe(
    Layer.provideMerge(TwoDatabases.layer(undefined, { prefix }))
  )

/**
 * The fixture's databases as a user starts: both sides migrated by `enrich-sync migrate`, Neon holding the
 * demo data. Gives the fixture.
 */
export const demoOnNeon = Effect.gen(function* () {
  const cli = yield* CliFixture
  assertSuccess(yield* cli.run(["migrate"]))
  yield* Effect.promise(() => seedDemoData(cli.neon.url))
  return cli
})

/** `demoOnNeon`, then pulled into the workspace by `enrich-sync backfill <args>`. */
export const demoPulled = (...args: ReadonlyArray<string>) =>
  Effect.tap(demoOnNeon, (cli) => Effect.map(cli.run(["backfill", ...args]), assertSuccess))

/** Runs SQL on Neon. */
export const onNeon = (sql: string, params?: ReadonlyArray<unknown>) =>
  SourceDatabase.use((db) => db.query(sql, params))

/** Runs SQL on the workspace as a person would (the trigger sees a human edit). */
export const onWorkspace = (sql: string, params?: ReadonlyArray<unknown>) =>
  WorkspaceDatabase.use((db) => db.query(sql, params))

/** Runs SQL on one side or the other. */
type RunSql = (
  sql: string,
  params?: ReadonlyArray<unknown>
) => Effect.Effect<ReadonlyArray<Record<string, unknown>>, DatabaseError, SourceDatabase | WorkspaceDatabase>

/** Where each side keeps the companies, and how the tests run SQL there. */
const companies: Record<"neon" | "workspace", { readonly table: string; readonly run: RunSql }> = {
  neon: { table: "marketing.company_invalid", run: onNeon },
  workspace: { table: "company_needs_enrichment", run: onWorkspace }
}

/** The columns (`columns`, a SELECT list) of the company `key` on one side; undefined when it has no such row. */
export const companyRow = (side: keyof typeof companies, key: string, columns: string) => {
  const { table, run } = companies[side]
  return Effect.map(
    run(`SELECT ${columns} FROM ${table} WHERE company_unique_id = $1`, [key]),
    (rows) => rows[0]
  )
}

/**
 * Updates the company `key` on one side (`set` is the SET list; `params` are its `$2`, `$3`, ...): on the
 * workspace as a person's edit.
 */
export const updateCompany = (
  side: keyof typeof companies,
  key: string,
  set: string,
  ...params: ReadonlyArray<unknown>
) => {
  const { table, run } = companies[side]
  return run(`UPDATE ${table} SET ${set} WHERE company_unique_id = $1`, [key, ...params])
}
