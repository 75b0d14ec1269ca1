/**
 * What `syncd check` asks of Neon before the daemon runs: the same checks the listener makes before it
 * replicates (the direct host, logical replication on, the REPLICATION attribute, the tables and their
 * replica identity), plus what it would find of the publication and the slot, including who holds the slot.
 *
 * Invariant: nothing is created, altered or ended: every query only reads; each finding is one line that
 * says what was found and, for a problem, how to fix it (never the password).
 */
import { redactUrl } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { openSession, type SqlSession } from "./internal/SqlSession.ts"
import { type NeonListenerConfig, type ResolvedConfig, resolveConfig } from "./NeonListenerConfig.ts"
import { NeonListenerError } from "./NeonListenerError.ts"
import { checkServer, checkTables, checkUrl } from "./Preflight.ts"
import { readSlot } from "./Slot.ts"

/** One finding. */
export interface Finding {
  readonly name: string
  readonly ok: boolean
  readonly detail: string
}

const finding = (name: string, check: Effect.Effect<string, NeonListenerError>) =>
  check.pipe(
    Effect.map((detail): Finding => ({ name, ok: true, detail })),
    Effect.catch((e) => Effect.succeed<Finding>({ name, ok: false, detail: e.message }))
  )

const publication = (session: SqlSession, config: ResolvedConfig) =>
  Effect.gen(function* () {
    const tables = yield* session.query<{ readonly schemaname: string; readonly tablename: string }>(
      "SELECT schemaname::text, tablename::text FROM pg_publication_tables WHERE pubname = $1",
      [config.publication]
    )
    const [exists] = yield* session.query("SELECT 1 FROM pg_publication WHERE pubname = $1", [
      config.publication
    ])
    if (exists === undefined)
      return `${config.publication} does not exist yet: syncd creates it when it starts`
    const missing = config.tables.filter(
      (t) => !tables.some((p) => p.schemaname === t.schema && p.tablename === t.name)
    )
    return missing.length === 0
      ? `${config.publication} publishes ${config.tables.map((t) => `${t.schema}.${t.name}`).join(", ")}`
      : `${config.publication} lacks ${missing.map((t) => `${t.schema}.${t.name}`).join(", ")}: syncd adds them when it starts`
  })

const slot = (session: SqlSession, config: ResolvedConfig) =>
  Effect.gen(function* () {
    const row = yield* readSlot(session, config.slot)
    if (row === undefined) return `${config.slot} does not exist yet: syncd creates it when it starts`
    if (row.slot_type !== "logical" || row.plugin !== "pgoutput" || row.database !== row.current_database) {
      return yield* new NeonListenerError({
        reason: "SlotMismatch",
        message: `a replication slot named ${config.slot} exists but is a ${row.slot_type} slot${row.plugin === null ? "" : ` for ${row.plugin}`}${row.database === null ? "" : ` in database ${row.database}`}; drop it (SELECT pg_drop_replication_slot('${config.slot}')) or set ENRICH_SYNC_SLOT to another name`
      })
    }
    if (row.lost)
      return `${config.slot} was invalidated (its WAL is gone): syncd creates it again and reconciles both sides in full`
    if (row.active_pid === null) return `${config.slot} exists, confirmed at ${row.confirmed ?? "?"}, free`
    const [holder] = yield* session.query<{
      readonly application_name: string | null
      readonly client_addr: string | null
    }>("SELECT application_name, host(client_addr) AS client_addr FROM pg_stat_activity WHERE pid = $1", [
      row.active_pid
    ])
    return `${config.slot} exists, confirmed at ${row.confirmed ?? "?"}, held now by PID ${row.active_pid}${holder === undefined ? "" : ` (${holder.application_name ?? "?"} from ${holder.client_addr ?? "a local socket"})`}: a running syncd leads it; another one would stand by`
  })

/** Every finding, in order; a finding that needs a connection is missing when Neon cannot be reached. */
export const inspectSource = (config: NeonListenerConfig): Effect.Effect<ReadonlyArray<Finding>> =>
  Effect.gen(function* () {
    const resolved = resolveConfig(config)
    if (resolved instanceof NeonListenerError)
      return [{ name: "neon replication", ok: false, detail: resolved.message }]
    const host = yield* finding(
      "neon replication host",
      checkUrl(resolved).pipe(Effect.as(`${redactUrl(Redacted.value(resolved.url))} (the direct host)`))
    )
    const rest = yield* Effect.scoped(
      Effect.gen(function* () {
        const session = yield* openSession(resolved.url, "checking Neon")
        return [
          yield* finding(
            "neon logical replication",
            checkServer(session).pipe(Effect.as("wal_level is logical and the role may replicate"))
          ),
          yield* finding(
            "neon tables",
            checkTables(session, resolved).pipe(
              Effect.as(
                `${resolved.tables.map((t) => `${t.schema}.${t.name}`).join(", ")} name their key in the replica identity`
              )
            )
          ),
          yield* finding("neon publication", publication(session, resolved)),
          yield* finding("neon slot", slot(session, resolved))
        ]
      })
    ).pipe(Effect.catch((e) => Effect.succeed([{ name: "neon replication", ok: false, detail: e.message }])))
    return [host, ...rest]
  })
