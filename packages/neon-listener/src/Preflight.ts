/**
 * Checks that Neon can feed the listener and creates what is missing: the publication of the followed
 * tables and the logical replication slot.
 *
 * Invariant: when `ensureSlot` succeeds, the slot exists, is a pgoutput slot of this database, is not
 * held by another connection, and the publication publishes inserts, updates, deletes and truncates of
 * every followed table, each of whose replica identity includes its key column. Every failure says what
 * is wrong and how to fix it. The slot is created before anything reads a snapshot that the slot must
 * follow on from (the CLI's backfill calls `ensureSlot` first), so nothing committed in between is missed.
 */
import type { Lsn } from "@enrich-sync/core"
import { formatLsn, parseLsn, redactUrl } from "@enrich-sync/core"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { openSession, type SqlSession } from "./internal/ReplicationConnection.ts"
import type { NeonListenerConfig, ResolvedConfig } from "./NeonListenerConfig.ts"
import { resolveConfig } from "./NeonListenerConfig.ts"
import { NeonListenerError } from "./NeonListenerError.ts"

/** What `ensureSlot` found or did. */
export interface EnsuredSlot {
  /** whether the slot had to be created (then nothing before `position` will be streamed) */
  readonly created: boolean
  /** the slot's confirmed position: streaming resumes after it */
  readonly position: Lsn
  /** whether the publication had to be created or extended */
  readonly publicationChanged: boolean
}

/**
 * The direct-host URL for a Neon `-pooler` URL (the first label of the host without `-pooler`), or
 * `null` when `url` is not a pooler URL. Replication needs the direct host.
 */
export const directHostUrl = (url: string): string | null => {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return null
  }
  const [first, ...rest] = parsed.hostname.split(".")
  if (first === undefined || !first.endsWith("-pooler")) return null
  parsed.hostname = [first.slice(0, -"-pooler".length), ...rest].join(".")
  return parsed.toString()
}

const quote = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`
const qualified = (t: { readonly schema: string; readonly name: string }) =>
  `${quote(t.schema)}.${quote(t.name)}`

const fail = (reason: NeonListenerError["reason"], message: string, extra?: { readonly pid?: number }) =>
  Effect.fail(
    new NeonListenerError({ reason, message, ...(extra?.pid === undefined ? {} : { pid: extra.pid }) })
  )

interface ServerRow {
  readonly wal_level: string
  readonly role: string
  readonly rolreplication: boolean | null
  readonly rolsuper: boolean | null
}

/** The URL is usable for replication (not a pooler). */
const checkUrl = (config: ResolvedConfig) => {
  const direct = directHostUrl(Redacted.value(config.url))
  if (direct === null) return Effect.void
  return fail(
    "PoolerUrl",
    `${redactUrl(Redacted.value(config.url))} is Neon's connection pooler (a "-pooler" host), which cannot replicate; set NEON_REPLICATION_URL to the direct host: ${redactUrl(direct)}`
  )
}

/** wal_level and the role's REPLICATION attribute. */
const checkServer = Effect.fnUntraced(function* (session: SqlSession) {
  const [row] = yield* session.query<ServerRow>(
    `SELECT current_setting('wal_level') AS wal_level, current_user AS role, r.rolreplication, r.rolsuper
       FROM (SELECT 1) AS one LEFT JOIN pg_roles r ON r.rolname = current_user`
  )
  if (row === undefined) return yield* Effect.die(new Error("the server check returned no row"))
  if (row.wal_level !== "logical") {
    return yield* fail(
      "WalLevelNotLogical",
      `logical replication is off on this Neon project (wal_level is ${row.wal_level}); enable it in the Neon Console: Project settings -> Logical Replication -> Enable (this restarts the project's computes and cannot be undone); on another Postgres set wal_level = logical and restart it`
    )
  }
  if (row.rolreplication !== true && row.rolsuper !== true) {
    return yield* fail(
      "NotReplicationRole",
      `the role ${row.role} lacks the REPLICATION attribute; on Neon use a role created in the Console, CLI or API (those get REPLICATION once logical replication is enabled; roles created with SQL cannot be granted it), elsewhere run ALTER ROLE ${quote(row.role)} WITH REPLICATION`
    )
  }
})

interface TableRow {
  readonly identity: string
  readonly identity_columns: ReadonlyArray<string> | null
  readonly key_exists: boolean
  readonly key_index: string | null
}

/** Every followed table exists and its replica identity includes its key column. */
const checkTables = Effect.fnUntraced(function* (session: SqlSession, config: ResolvedConfig) {
  for (const table of config.tables) {
    const [row] = yield* session.query<TableRow>(
      `SELECT c.relreplident::text AS identity,
              (SELECT array_agg(a.attname::text ORDER BY a.attnum)
                 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
                WHERE i.indrelid = c.oid
                  AND ((c.relreplident = 'i' AND i.indisreplident) OR (c.relreplident = 'd' AND i.indisprimary))
              ) AS identity_columns,
              EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = $3 AND a.attnum > 0 AND NOT a.attisdropped) AS key_exists,
              (SELECT ic.relname::text
                 FROM pg_index i
                 JOIN pg_class ic ON ic.oid = i.indexrelid
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                WHERE i.indrelid = c.oid AND i.indisunique AND i.indnatts = 1 AND i.indpred IS NULL
                  AND i.indimmediate AND a.attname = $3
                LIMIT 1) AS key_index
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
      [table.schema, table.name, table.key]
    )
    const name = `${table.schema}.${table.name}`
    if (row === undefined) {
      return yield* fail(
        "MissingTable",
        `the table ${name} does not exist on Neon; run \`enrich-sync migrate\` (or check the schema and table names)`
      )
    }
    if (!row.key_exists) {
      return yield* fail(
        "MissingTable",
        `the table ${name} has no column ${table.key}; run \`enrich-sync migrate\``
      )
    }
    const covered = row.identity === "f" || (row.identity_columns ?? []).includes(table.key)
    if (!covered) {
      const fix =
        row.key_index === null
          ? `create a unique index on ${name} (${table.key}) and make it the replica identity (ALTER TABLE ${qualified(table)} REPLICA IDENTITY USING INDEX <that index>); \`enrich-sync migrate\` does both`
          : `run ALTER TABLE ${qualified(table)} REPLICA IDENTITY USING INDEX ${quote(row.key_index)} (\`enrich-sync migrate\` does it)`
      return yield* fail(
        "ReplicaIdentity",
        `the replica identity of ${name} does not include its key ${table.key}, so a DELETE would not say which record went; ${fix}`
      )
    }
  }
})

interface PublicationRow {
  readonly pubinsert: boolean
  readonly pubupdate: boolean
  readonly pubdelete: boolean
  readonly pubtruncate: boolean
  readonly puballtables: boolean
}

/**
 * The publication exists, publishes every kind of change, and includes every followed table. A publication
 * this creates publishes only each table's key column (PostgreSQL 15 and later): the listener reads
 * nothing else (an event only names a key), so the server sends and decodes a fraction of each row.
 * An existing publication is left with its columns (it may serve others).
 */
const ensurePublication = Effect.fnUntraced(function* (
  session: SqlSession,
  config: ResolvedConfig
): Effect.fn.Return<boolean, NeonListenerError> {
  const pub = quote(config.publication)
  const [row] = yield* session.query<PublicationRow>(
    "SELECT pubinsert, pubupdate, pubdelete, pubtruncate, puballtables FROM pg_publication WHERE pubname = $1",
    [config.publication]
  )
  const [version] = yield* session.query<{ readonly n: number }>(
    "SELECT current_setting('server_version_num')::int AS n"
  )
  const columnLists = (version?.n ?? 0) >= 150000
  const tableList = config.tables
    .map((t) => (columnLists ? `${qualified(t)} (${quote(t.key)})` : qualified(t)))
    .join(", ")
  if (row === undefined) {
    const created = yield* session.query(`CREATE PUBLICATION ${pub} FOR TABLE ${tableList}`).pipe(
      Effect.as(true),
      // another process created it at the same moment
      Effect.catchIf(
        (e) => e.code === "42710",
        () => Effect.succeed(false)
      )
    )
    if (created) {
      yield* Effect.logInfo(
        `created the publication ${config.publication} on Neon for ${config.tables.map((t) => `${t.schema}.${t.name}`).join(", ")}`
      )
      return true
    }
    return yield* ensurePublication(session, config)
  }
  let changed = false
  if (!row.pubinsert || !row.pubupdate || !row.pubdelete || !row.pubtruncate) {
    yield* session.query(`ALTER PUBLICATION ${pub} SET (publish = 'insert, update, delete, truncate')`)
    yield* Effect.logWarning(
      `the publication ${config.publication} did not publish every kind of change; it now publishes inserts, updates, deletes and truncates`
    )
    changed = true
  }
  if (row.puballtables) return changed
  const published = yield* session.query<{ readonly schemaname: string; readonly tablename: string }>(
    "SELECT schemaname::text, tablename::text FROM pg_publication_tables WHERE pubname = $1",
    [config.publication]
  )
  const missing = config.tables.filter(
    (t) => !published.some((p) => p.schemaname === t.schema && p.tablename === t.name)
  )
  if (missing.length > 0) {
    yield* session.query(
      `ALTER PUBLICATION ${pub} ADD TABLE ${missing.map((t) => (columnLists ? `${qualified(t)} (${quote(t.key)})` : qualified(t))).join(", ")}`
    )
    yield* Effect.logWarning(
      `added ${missing.map((t) => `${t.schema}.${t.name}`).join(", ")} to the publication ${config.publication}`
    )
    changed = true
  }
  return changed
})

interface SlotRow {
  readonly slot_type: string
  readonly plugin: string | null
  readonly database: string | null
  readonly current_database: string
  readonly active_pid: number | null
  readonly confirmed: string | null
  readonly lost: boolean
}

const readSlot = (session: SqlSession, slot: string) =>
  session
    .query<SlotRow>(
      `SELECT slot_type::text, plugin::text, database::text, current_database()::text AS current_database,
              active_pid, confirmed_flush_lsn::text AS confirmed,
              coalesce((to_jsonb(s) ->> 'wal_status') = 'lost', false) AS lost
         FROM pg_replication_slots s WHERE slot_name = $1`,
      [slot]
    )
    .pipe(Effect.map((rows) => rows[0]))

const createSlot = (session: SqlSession, slot: string) =>
  session
    .query<{ readonly lsn: string }>(
      "SELECT lsn::text AS lsn FROM pg_create_logical_replication_slot($1, 'pgoutput')",
      [slot]
    )
    .pipe(
      Effect.map((rows) => parseLsn(rows[0]!.lsn)),
      Effect.tap((lsn) => Effect.logInfo(`created the replication slot ${slot} on Neon at ${formatLsn(lsn)}`))
    )

/**
 * The slot exists (created if missing or invalidated), is a pgoutput slot of this database, and is free
 * (waiting up to `slotBusyTimeout` for a holder to let go).
 */
const ensureSlotExists = Effect.fnUntraced(function* (
  session: SqlSession,
  config: ResolvedConfig
): Effect.fn.Return<{ readonly created: boolean; readonly position: Lsn }, NeonListenerError> {
  const deadline = (yield* Clock.currentTimeMillis) + Duration.toMillis(config.slotBusyTimeout)
  while (true) {
    const slot = yield* readSlot(session, config.slot)
    if (slot === undefined) {
      const created = yield* createSlot(session, config.slot).pipe(
        Effect.map((position) => ({ created: true, position })),
        // another process created it at the same moment: read it again
        Effect.catchIf(
          (e) => e.code === "42710",
          () => Effect.succeed(null)
        )
      )
      if (created !== null) return created
      continue
    }
    if (
      slot.slot_type !== "logical" ||
      slot.plugin !== "pgoutput" ||
      slot.database !== slot.current_database
    ) {
      return yield* fail(
        "SlotMismatch",
        `a replication slot named ${config.slot} exists but is a ${slot.slot_type} slot${slot.plugin === null ? "" : ` for ${slot.plugin}`}${slot.database === null ? "" : ` in database ${slot.database}`}, not a pgoutput slot of ${slot.current_database}; drop it (SELECT pg_drop_replication_slot('${config.slot}')) or configure another slot name`
      )
    }
    if (slot.lost && slot.active_pid === null) {
      yield* Effect.logWarning(
        `the replication slot ${config.slot} was invalidated (its WAL was removed); creating it again`
      )
      yield* session.query("SELECT pg_drop_replication_slot($1)", [config.slot])
      continue
    }
    if (slot.active_pid !== null) {
      if ((yield* Clock.currentTimeMillis) >= deadline) {
        return yield* fail(
          "SlotInUse",
          `the replication slot ${config.slot} is held by another connection (PID ${slot.active_pid}; another enrich-sync daemon?) and it did not let go within ${Duration.format(config.slotBusyTimeout)}; stop that process or run SELECT pg_terminate_backend(${slot.active_pid})`,
          { pid: slot.active_pid }
        )
      }
      yield* Effect.logDebug(`the replication slot ${config.slot} is held by PID ${slot.active_pid}; waiting`)
      yield* Effect.sleep("200 millis")
      continue
    }
    return { created: false, position: slot.confirmed === null ? 0n : parseLsn(slot.confirmed) }
  }
})

/**
 * All the checks, in order, on an open session: URL, server settings, role, tables, publication, slot.
 * Used by `ensureSlot` and by the listener before every (re)connection.
 */
const prepare = Effect.fnUntraced(function* (session: SqlSession, config: ResolvedConfig) {
  yield* checkServer(session)
  yield* checkTables(session, config)
  const publicationChanged = yield* ensurePublication(session, config)
  const slot = yield* ensureSlotExists(session, config)
  return { ...slot, publicationChanged } satisfies EnsuredSlot
})

/** Opens a session and runs `prepare` on it. */
export const preflight = (config: ResolvedConfig): Effect.Effect<EnsuredSlot, NeonListenerError> =>
  Effect.scoped(
    Effect.gen(function* () {
      yield* checkUrl(config)
      const session = yield* openSession(config.url, "checking Neon before replicating")
      return yield* prepare(session, config)
    })
  )

/**
 * Checks that Neon can feed the listener and creates the publication and the slot if they are missing
 * (logging what it created). Call it before a backfill reads its snapshot, so the slot already holds
 * every change committed after that snapshot. Never prints the URL's password.
 */
export const ensureSlot = (config: NeonListenerConfig): Effect.Effect<EnsuredSlot, NeonListenerError> =>
  Effect.suspend(() => {
    const resolved = resolveConfig(config)
    return resolved instanceof NeonListenerError ? Effect.fail(resolved) : preflight(resolved)
  }).pipe(Effect.withSpan("NeonListener.ensureSlot"))
