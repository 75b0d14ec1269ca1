/**
 * The only module that touches `pg` and `pg-logical-replication`: a plain SQL session, and a pgoutput
 * replication connection behind a small interface of ours. The library's traps are handled here, once:
 *
 * - R1: `acknowledge(lsn)` reports `lsn + 1`, so a position P is sent as `acknowledge(P - 1)`.
 * - R2, R3: automatic acknowledgement and the library's status timer are off (`auto: false`,
 *   `timeoutSeconds: 0`); the caller decides every position that is confirmed.
 * - R5: positions are parsed to `bigint` here (the `data` event's are unpadded, message fields padded).
 * - R6: the keepalive's timestamp is never used; commit times come from Begin/Commit.
 * - R7: one service per connection; the start position is always given explicitly (the library would
 *   otherwise restart from the last *received* position, which makes the server skip transactions
 *   that were received but never applied).
 * - Backpressure: `pause()` stops reading the socket (the library's own flow control queues without
 *   bound); the server then blocks on its send, and nothing is dropped.
 * - A decoding failure inside the library would throw out of the socket's data handler; it is caught
 *   and ends the connection with an error instead.
 *
 * Replication connection states:
 * ```
 *   connecting ──replicationStart──> streaming ──socket lost / server error──> ended (error)
 *       │                                │
 *       └── refused / auth / 55006 ──>   └── release (scope closes) ──> closed
 *           ended (error)
 * ```
 * Status updates are sent only while `streaming`.
 */
import type { Lsn } from "@enrich-sync/core"
import { formatLsn, parseLsn, redactPatterns, redactUrl } from "@enrich-sync/core"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import pg from "pg"
import { LogicalReplicationService, type Pgoutput, PgoutputPlugin } from "pg-logical-replication"
import { NeonListenerError, type NeonListenerFailure } from "../NeonListenerError.ts"
import type { RelationName, ReplicationMessage } from "./ReplicationMessage.ts"

const applicationName = "enrich-sync"
const connectTimeoutMillis = 15_000
const closeTimeout = "5 seconds"
const startTimeout = "60 seconds"

// ---------------------------------------------------------------------------------------------------
// Errors

interface DriverErrorInfo {
  readonly code: string | undefined
  readonly message: string
  readonly detail: string | undefined
  readonly hint: string | undefined
}

const driverErrorInfo = (error: unknown): DriverErrorInfo => {
  if (typeof error === "object" && error !== null) {
    const e = error as { code?: unknown; message?: unknown; detail?: unknown; hint?: unknown }
    return {
      code: typeof e.code === "string" ? e.code : undefined,
      message: typeof e.message === "string" ? e.message : String(error),
      detail: typeof e.detail === "string" ? e.detail : undefined,
      hint: typeof e.hint === "string" ? e.hint : undefined
    }
  }
  return { code: undefined, message: String(error), detail: undefined, hint: undefined }
}

/** The backend pid named in a 55006 "replication slot ... is active for PID n" message. */
const activePid = (message: string): number | undefined => {
  const match = /PID (\d+)/i.exec(message)
  return match === null ? undefined : Number(match[1])
}

/**
 * Translates a driver or server error into a `NeonListenerError` whose message says how to fix it.
 * `phase`: `stream` for errors after replication started (unknown ones are then retried).
 */
export const toListenerError = (
  error: unknown,
  options: {
    readonly doing: string
    readonly url: Redacted.Redacted<string>
    readonly phase: "connect" | "stream"
  }
): NeonListenerError => {
  if (error instanceof NeonListenerError) return error
  const info = driverErrorInfo(error)
  const where = redactUrl(Redacted.value(options.url))
  const make = (
    reason: NeonListenerFailure,
    message: string,
    extra?: { readonly pid?: number | undefined }
  ) =>
    new NeonListenerError({
      reason,
      message: redactPatterns(message),
      ...(info.code === undefined ? {} : { code: info.code }),
      ...(extra?.pid === undefined ? {} : { pid: extra.pid }),
      cause: error
    })
  const text = `${info.message}${info.detail === undefined ? "" : ` (${info.detail})`}`
  if (/unsupported startup parameter: replication/i.test(info.message)) {
    return make(
      "PoolerUrl",
      `Neon replication needs the direct host, but ${where} is a connection pooler (${info.message}); set NEON_REPLICATION_URL to the direct URL (the host without "-pooler")`
    )
  }
  switch (info.code) {
    case "55006": {
      const pid = activePid(info.message)
      return make(
        "SlotInUse",
        `${info.message} while ${options.doing}: another connection is following the slot (another enrich-sync daemon?); it is retried, or stop that process${pid === undefined ? "" : ` or run SELECT pg_terminate_backend(${pid})`}`,
        { pid }
      )
    }
    case "28P01":
    case "28000":
      return make(
        "Authentication",
        `Neon refused the login while ${options.doing}: ${info.message}; check the user and password in the URL (${where})`
      )
    case "42501":
      if (/replication|walsender/i.test(info.message)) {
        return make(
          "NotReplicationRole",
          `the role in ${where} may not replicate (${info.message}); on Neon use a role created in the Console, CLI or API (roles created with SQL cannot get REPLICATION), elsewhere ALTER ROLE ... WITH REPLICATION`
        )
      }
      return make(
        "Authentication",
        `Neon denied permission while ${options.doing}: ${text}; use the database owner's role or grant the privilege`
      )
    case "3D000":
      return make(
        "Configuration",
        `${text} while ${options.doing}; fix the database name at the end of the URL (${where})`
      )
    case "ECONNREFUSED":
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "ETIMEDOUT":
    case "ECONNRESET":
    case "EPIPE":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "57P01":
    case "57P02":
    case "57P03":
    case "53300":
    case "53400":
    case "08000":
    case "08001":
    case "08003":
    case "08004":
    case "08006":
    case "08P01":
      return make(
        "Unreachable",
        `cannot reach Neon at ${where} while ${options.doing}: ${text}; it is retried`
      )
  }
  if (/timeout|Connection terminated|ended unexpectedly|not queryable|socket|ECONN/i.test(info.message)) {
    return make(
      "Unreachable",
      `the connection to Neon at ${where} dropped or timed out while ${options.doing}: ${text}; it is retried`
    )
  }
  if (/SSL|TLS|certificate/i.test(info.message)) {
    return make(
      "Configuration",
      `Neon and enrich-sync disagree on TLS while ${options.doing} (${text}); set or remove ?sslmode=require in the URL`
    )
  }
  if (options.phase === "stream" || info.code === "42704" || info.code === "55000") {
    // 42704: the slot or the publication vanished; 55000: the slot was invalidated. The next attempt's
    // preflight recreates them.
    return make(
      "Stream",
      `the replication stream from ${where} failed while ${options.doing}: ${text}; it is retried`
    )
  }
  return make(
    "Query",
    `Neon rejected a query while ${options.doing}: ${text}${info.hint === undefined ? "" : `; hint: ${info.hint}`}`
  )
}

// ---------------------------------------------------------------------------------------------------
// Plain SQL session

/** A plain (non-replication) connection. */
export interface SqlSession {
  /** Runs one statement; rows come back as plain objects (positions as text, cast them `::text`). */
  readonly query: <Row extends object = Record<string, unknown>>(
    sql: string,
    params?: ReadonlyArray<unknown>
  ) => Effect.Effect<ReadonlyArray<Row>, NeonListenerError>
}

/** Opens a plain SQL session to `url`, closed when the scope closes. */
export const openSession = (
  url: Redacted.Redacted<string>,
  doing: string
): Effect.Effect<SqlSession, NeonListenerError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        const client = new pg.Client({
          connectionString: Redacted.value(url),
          application_name: applicationName,
          connectionTimeoutMillis: connectTimeoutMillis,
          keepAlive: true
        })
        // A connection lost between queries is reported on the next query; do not crash on the event.
        client.on("error", () => {})
        try {
          await client.connect()
        } catch (error) {
          client.end().catch(() => {})
          throw error
        }
        return client
      },
      catch: (error) => toListenerError(error, { doing, url, phase: "connect" })
    }),
    (client) =>
      Effect.promise(() => client.end().catch(() => {})).pipe(Effect.timeout(closeTimeout), Effect.ignore)
  ).pipe(
    Effect.map(
      (client): SqlSession => ({
        query: <Row extends object>(sql: string, params?: ReadonlyArray<unknown>) =>
          Effect.tryPromise({
            try: () => client.query(sql, params === undefined ? [] : [...params]),
            catch: (error) => toListenerError(error, { doing, url, phase: "connect" })
          }).pipe(Effect.map((result) => result.rows as ReadonlyArray<Row>))
      })
    )
  )

// ---------------------------------------------------------------------------------------------------
// Replication connection

/** A streaming pgoutput connection. */
export interface ReplicationConnection {
  /** Fails when the connection ends (socket lost, server error); never succeeds. */
  readonly ended: Effect.Effect<never, NeonListenerError>
  /** Sends a standby status update confirming `position` as written, flushed and applied. */
  readonly sendStatus: (position: Lsn) => void
  /** Stops reading from the socket (backpressure). Idempotent. */
  readonly pause: () => void
  /** Reads from the socket again. Idempotent. */
  readonly resume: () => void
  /** Ends the connection with `error` (a problem the caller found in the stream). */
  readonly abort: (error: NeonListenerError) => void
}

/** What a replication connection is opened with. */
export interface ReplicationOptions {
  readonly url: Redacted.Redacted<string>
  readonly slot: string
  readonly publication: string
  /** where to start: the position already confirmed as applied (the server skips commits before it) */
  readonly startAt: Lsn
  /** called synchronously for every message, in stream order, with the connection; must not throw */
  readonly onMessage: (message: ReplicationMessage, connection: ReplicationConnection) => void
}

/** The parts of the library's internals that backpressure needs (the socket of the pg connection). */
interface Internals {
  readonly _connection?: { readonly stream?: { pause?: () => void; resume?: () => void } } | null
}

const relationName = (relation: Pgoutput.MessageRelation | undefined): RelationName | null =>
  relation === undefined ? null : { schema: relation.schema, name: relation.name }

const lsnOf = (text: string | null): Lsn => (text === null ? 0n : parseLsn(text))

/** Translates a library message into ours; `null` for messages the listener ignores. */
const translate = (message: Pgoutput.Message): ReplicationMessage | null => {
  switch (message.tag) {
    case "begin":
      return {
        _tag: "Begin",
        xid: message.xid >>> 0,
        finalLsn: lsnOf(message.commitLsn),
        commitTime: message.commitTime as bigint
      }
    case "commit":
      return {
        _tag: "Commit",
        commitLsn: lsnOf(message.commitLsn),
        endLsn: lsnOf(message.commitEndLsn),
        commitTime: message.commitTime as bigint
      }
    case "insert":
      return { _tag: "Insert", relation: relationName(message.relation)!, row: message.new }
    case "update":
      return {
        _tag: "Update",
        relation: relationName(message.relation)!,
        row: message.new,
        before: message.key ?? message.old
      }
    case "delete":
      return { _tag: "Delete", relation: relationName(message.relation)!, before: message.key ?? message.old }
    case "truncate":
      return {
        _tag: "Truncate",
        relations: message.relations.flatMap((r) => {
          const name = relationName(r)
          return name === null ? [] : [name]
        })
      }
    default:
      return null
  }
}

const keepText = (text: string): string => text

/** A marker the wrapped parser returns instead of throwing out of the socket handler. */
interface ParseFailure {
  readonly tag: "parse-failure"
  readonly error: unknown
}

/**
 * Opens a replication connection and starts streaming from `startAt`. Succeeds once the server has
 * started the stream; fails with the server's reason otherwise (slot missing, in use, ...). The
 * connection is closed when the scope closes.
 */
export const openReplication = (
  options: ReplicationOptions
): Effect.Effect<ReplicationConnection, NeonListenerError, Scope.Scope> =>
  Effect.gen(function* () {
    const ended = yield* Deferred.make<never, NeonListenerError>()
    const started = yield* Deferred.make<void>()
    let streaming = false
    let paused = false
    const fail = (error: unknown, doing: string) => {
      const phase = streaming ? "stream" : "connect"
      streaming = false
      Deferred.doneUnsafe(ended, Effect.fail(toListenerError(error, { doing, url: options.url, phase })))
    }

    const service = yield* Effect.acquireRelease(
      Effect.sync(
        () =>
          new LogicalReplicationService(
            {
              connectionString: Redacted.value(options.url),
              application_name: applicationName,
              connectionTimeoutMillis: connectTimeoutMillis,
              keepAlive: true
            },
            { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: false } }
          )
      ),
      (service) =>
        Effect.suspend(() => {
          streaming = false
          // A paused socket would never report its close: let it flow before ending the client.
          ;(service as unknown as Internals)._connection?.stream?.resume?.()
          return Effect.promise(() => service.destroy().catch(() => service))
        }).pipe(Effect.timeout(closeTimeout), Effect.ignore)
    )

    const plugin = new PgoutputPlugin({ protoVersion: 2, publicationNames: [options.publication] })
    const parse = plugin.parse.bind(plugin)
    plugin.parse = ((buffer: Buffer) => {
      try {
        const message = parse(buffer)
        // The library converts every column of every row it decodes with pg's global type parsers (Dates,
        // JSON.parse, ...), at a cost per column; the listener reads only the key, as text (an event never
        // carries values). The relation's columns are the ones the parser uses for the tuples that follow.
        if (message.tag === "relation") for (const column of message.columns) column.parser = keepText
        return message
      } catch (error) {
        return { tag: "parse-failure", error } satisfies ParseFailure
      }
    }) as typeof plugin.parse

    const doing = () => (streaming ? "streaming changes" : `starting replication from slot ${options.slot}`)
    const socket = () => (service as unknown as Internals)._connection?.stream
    const connection: ReplicationConnection = {
      ended: Deferred.await(ended),
      sendStatus: (position: Lsn) => {
        if (!streaming || position <= 0n) return
        // R1: the library reports its argument + 1.
        service
          .acknowledge(formatLsn(position - 1n))
          .catch((error: unknown) => fail(error, "sending a status update"))
      },
      pause: () => {
        if (paused || !streaming) return
        paused = true
        socket()?.pause?.()
      },
      resume: () => {
        if (!paused) return
        paused = false
        socket()?.resume?.()
      },
      abort: (error) => {
        streaming = false
        Deferred.doneUnsafe(ended, Effect.fail(error))
      }
    }

    service.on("error", (error: Error) => fail(error, doing()))
    service.on("start", () => {
      streaming = true
      Deferred.doneUnsafe(started, Effect.void)
    })
    service.on("data", (_lsn: string, message: Pgoutput.Message | ParseFailure) => {
      if (!streaming) return
      if (message.tag === "parse-failure") {
        fail((message as ParseFailure).error, "decoding a pgoutput message")
        return
      }
      try {
        const translated = translate(message as Pgoutput.Message)
        if (translated !== null) options.onMessage(translated, connection)
      } catch (error) {
        fail(error, "decoding a pgoutput message")
      }
    })
    service.on("heartbeat", (lsn: string, _timestamp: number, shouldRespond: boolean) => {
      if (!streaming) return
      try {
        options.onMessage(
          { _tag: "Keepalive", walEnd: parseLsn(lsn), replyRequested: shouldRespond },
          connection
        )
      } catch (error) {
        fail(error, "answering a keepalive")
      }
    })

    service.subscribe(plugin, options.slot, formatLsn(options.startAt)).then(
      () => fail(new Error("Connection terminated: the replication stream ended"), "streaming changes"),
      (error: unknown) => fail(error, doing())
    )

    yield* Effect.raceFirst(Deferred.await(started), Deferred.await(ended)).pipe(
      Effect.timeoutOrElse({
        duration: startTimeout,
        orElse: () =>
          Effect.fail(
            toListenerError(new Error(`timeout: the server did not start streaming within ${startTimeout}`), {
              doing: doing(),
              url: options.url,
              phase: "connect"
            })
          )
      })
    )
    return connection
  })
