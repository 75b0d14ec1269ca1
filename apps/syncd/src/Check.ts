/**
 * `syncd check`: what the daemon would run against, checked without changing anything: the configuration,
 * each side's connection and schema, Neon's replication (direct host, wal_level, the REPLICATION attribute,
 * the tables' replica identity, the publication, the slot and who holds it), and Realtime when configured.
 * One line per check (`ok` or `FAIL`, what was found, and for a failure how to fix it), then a summary.
 *
 * Invariant: a check only reads (no migration, no publication, no slot is created) and never prints a
 * secret; the exit code is 0 when every check passed, 1 otherwise. A check that cannot run because an
 * earlier one failed (no connection, no schema) is not run and not counted.
 */
import { type Entity, redactUrl } from "@enrich-sync/core"
import {
  type Database,
  type DatabaseError,
  requireSchema,
  SourceDatabase,
  WorkspaceDatabase
} from "@enrich-sync/engine"
import { inspectSource } from "@enrich-sync/neon-listener"
import { SupabaseListener } from "@enrich-sync/supabase-listener"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import { holderOf } from "./DataDirLock.ts"
import { listenerConfig } from "./Startup.ts"
import { loadSyncdConfig, type SyncdSettings } from "./SyncdConfig.ts"

/** The outcome of one check. */
export interface CheckResult {
  readonly name: string
  readonly ok: boolean
  /** what was found; for a failure, the problem and its fix */
  readonly detail: string
}

/** Some checks failed: the exit code is 1 (the lines are printed already). */
export class CheckFailed {
  readonly _tag = "CheckFailed"
  readonly failed: number
  constructor(failed: number) {
    this.failed = failed
  }
}

const line = (result: CheckResult) => `${result.ok ? "ok  " : "FAIL"}  ${result.name}: ${result.detail}`

/** Runs `check`, printing its line; a check that fails with an error prints the error's message. */
const run = <E extends { readonly message: string }, R>(
  name: string,
  check: Effect.Effect<string, E, R>
): Effect.Effect<CheckResult, never, R> =>
  check.pipe(
    Effect.map((detail): CheckResult => ({ name, ok: true, detail })),
    Effect.catch((error) => Effect.succeed<CheckResult>({ name, ok: false, detail: error.message })),
    Effect.tap((result) => Effect.sync(() => process.stdout.write(`${line(result)}\n`)))
  )

/** A side answers, as whom and on which server version. */
const connected = (db: Database): Effect.Effect<string, DatabaseError> =>
  db
    .query(`SELECT current_user::text AS role, current_setting('server_version') AS version`)
    .pipe(Effect.map(([row]) => `connected as ${String(row?.role)} (PostgreSQL ${String(row?.version)})`))

const schemaReady = (db: Database): Effect.Effect<string, DatabaseError> =>
  requireSchema(db).pipe(Effect.as("every table, column and function enrich-sync needs is there"))

/** Realtime answers with "Subscribed to PostgreSQL" for both workspace tables within 20 s. */
const realtimeSubscribes = (
  realtime: { readonly url: string; readonly apiKey: Redacted.Redacted<string> },
  entities: ReadonlyArray<Entity>
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const context = yield* Layer.build(
        SupabaseListener.layer({
          url: realtime.url,
          apiKey: realtime.apiKey,
          tables: entities.map((e) => ({
            schema: e.workspaceTable.schema,
            name: e.workspaceTable.name,
            key: e.key
          })),
          dirtyColumn: "sync_dirty"
        })
      )
      const listener = Context.get(context, SupabaseListener)
      const status = yield* listener.status.pipe(
        Effect.repeat({
          schedule: Schedule.spaced("100 millis"),
          until: (s) => s.state === "live"
        }),
        Effect.timeout("20 seconds"),
        Effect.catch(() =>
          Effect.flatMap(listener.status, (s) =>
            Effect.fail({
              message: `not subscribed within 20 s (state ${s.state}${s.lastError === null ? "" : `: ${s.lastError}`}); check SUPABASE_URL, SUPABASE_SERVICE_ROLE_KEY and that the workspace tables are in the supabase_realtime publication (\`enrich-sync migrate\` adds them)`
            })
          )
        )
      )
      return `subscribed to ${entities.map((e) => e.workspaceTable.name).join(" and ")} at ${redactUrl(realtime.url)} (${status.state})`
    })
  )

const checkExternal = (config: SyncdSettings, mode: Extract<SyncdSettings["mode"], { _tag: "External" }>) =>
  Effect.gen(function* () {
    const results: Array<CheckResult> = []
    const options = { max: 1, applicationName: "enrich-sync syncd check" }
    const side = (name: string, db: Effect.Effect<Database, DatabaseError, Scope.Scope>) =>
      Effect.gen(function* () {
        const open = yield* Effect.result(db)
        if (open._tag === "Failure") {
          results.push(yield* run(name, Effect.fail(open.failure)))
          return
        }
        const connection = yield* run(name, connected(open.success))
        results.push(connection)
        if (connection.ok) results.push(yield* run(`${name} schema`, schemaReady(open.success)))
      }).pipe(Effect.scoped)
    yield* side(
      "neon",
      Layer.build(SourceDatabase.layer(mode.neonUrl, options)).pipe(
        Effect.map((c) => Context.get(c, SourceDatabase))
      )
    )
    // replication: only when Neon answered (the findings would repeat its connection failure)
    if (results[0]?.ok === true) {
      const endpoints = {
        neonUrl: mode.neonUrl,
        replicationUrl: mode.replicationUrl,
        workspaceUrl: mode.workspaceUrl,
        realtime: config.realtime,
        embedded: false
      }
      for (const f of yield* inspectSource(listenerConfig(config, endpoints)))
        results.push(yield* run(f.name, f.ok ? Effect.succeed(f.detail) : Effect.fail({ message: f.detail })))
    }
    yield* side(
      "workspace",
      Layer.build(WorkspaceDatabase.layer(mode.workspaceUrl, options)).pipe(
        Effect.map((c) => Context.get(c, WorkspaceDatabase))
      )
    )
    if (Option.isSome(config.realtime))
      results.push(yield* run("realtime", realtimeSubscribes(config.realtime.value, config.entities)))
    return results
  })

/** Runs every check; fails with `CheckFailed` when any failed. */
export const runCheck = Effect.gen(function* () {
  const config = yield* loadSyncdConfig.pipe(
    Effect.tapError((error) =>
      Effect.sync(() => {
        for (const problem of error.problems)
          process.stdout.write(`${line({ name: "configuration", ok: false, detail: problem })}\n`)
      })
    ),
    Effect.tapError((error) =>
      Effect.sync(() =>
        process.stdout.write(
          `syncd check: 0 passed, ${error.problems.length} failed (fix the FAIL lines and run it again)\n`
        )
      )
    ),
    Effect.mapError((error) => new CheckFailed(error.problems.length))
  )
  let results: ReadonlyArray<CheckResult>
  if (config.mode._tag === "Embedded") {
    const pid = holderOf(config.mode.dataDir)
    results = [
      yield* run(
        "configuration",
        Effect.succeed(
          `no NEON_DATABASE_URL / SUPABASE_DATABASE_URL: syncd runs the embedded demo in ${config.mode.dataDir}${pid === null ? "" : ` (a daemon runs on it now, pid ${pid})`}; set both URLs to check real databases`
        )
      )
    ]
  } else {
    const configured = yield* run(
      "configuration",
      Effect.succeed(
        `Neon ${redactUrl(Redacted.value(config.mode.neonUrl))}, workspace ${redactUrl(Redacted.value(config.mode.workspaceUrl))}`
      )
    )
    results = [configured, ...(yield* checkExternal(config, config.mode))]
  }
  const failed = results.filter((r) => !r.ok).length
  process.stdout.write(
    `syncd check: ${results.length - failed} passed, ${failed} failed${failed === 0 ? "" : " (fix the FAIL lines and run it again)"}\n`
  )
  if (failed > 0) return yield* Effect.fail(new CheckFailed(failed))
})
