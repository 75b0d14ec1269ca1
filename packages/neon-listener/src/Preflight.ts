/**
 * The checks that tell whether Neon can feed the listener at all, before anything is created: the URL is
 * the direct host (not the `-pooler`), logical replication is on, the role may replicate, and every
 * followed table exists with a replica identity that includes its key column.
 *
 * Invariant: the checks change nothing on the server, and every failure names the problem and its fix
 * (never the password).
 */
import { redactUrl } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { qualified, quote } from "./internal/Identifier.ts"
import type { SqlSession } from "./internal/SqlSession.ts"
import type { ResolvedConfig } from "./NeonListenerConfig.ts"
import { NeonListenerError } from "./NeonListenerError.ts"

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

/** A failure of the checks, with the fix in its message. */
const fail = (
  reason: NeonListenerError["reason"],
  message: string
): Effect.Effect<never, NeonListenerError> => Effect.fail(new NeonListenerError({ reason, message }))

/** The URL is usable for replication (not a pooler). */
export const checkUrl = (config: ResolvedConfig) => {
  const direct = directHostUrl(Redacted.value(config.url))
  if (direct === null) return Effect.void
  return fail(
    "PoolerUrl",
    `${redactUrl(Redacted.value(config.url))} is Neon's connection pooler (a "-pooler" host), which cannot replicate; set NEON_REPLICATION_URL to the direct host: ${redactUrl(direct)}`
  )
}

interface ServerRow {
  readonly wal_level: string
  readonly role: string
  readonly rolreplication: boolean | null
  readonly rolsuper: boolean | null
}

/** wal_level and the role's REPLICATION attribute. */
export const checkServer = Effect.fnUntraced(function* (session: SqlSession) {
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
export const checkTables = Effect.fnUntraced(function* (session: SqlSession, config: ResolvedConfig) {
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
