/**
 * The publication of the followed tables: created when missing, repaired when it does not publish every
 * kind of change or misses a table.
 *
 * Invariant: after `ensurePublication` the publication publishes inserts, updates, deletes and truncates
 * of every followed table. A publication this creates publishes only each table's key column (PostgreSQL
 * 15 and later); an existing one keeps its columns (it may serve others).
 */
import * as Effect from "effect/Effect"
import { qualified, quote } from "./internal/Identifier.ts"
import type { SqlSession } from "./internal/SqlSession.ts"
import type { ResolvedConfig } from "./NeonListenerConfig.ts"
import type { NeonListenerError } from "./NeonListenerError.ts"

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
export const ensurePublication = Effect.fnUntraced(function* (
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
