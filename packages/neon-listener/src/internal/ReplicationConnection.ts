/**
 * A pgoutput replication connection behind a small interface of ours: the only module that runs
 * `pg-logical-replication`. The library's traps are handled here, once:
 *
 * - R1: `acknowledge(lsn)` reports `lsn + 1`, so a position P is sent as `acknowledge(P - 1)`.
 * - R2, R3: automatic acknowledgement and the library's status timer are off (`auto: false`,
 *   `timeoutSeconds: 0`); the caller decides every position that is confirmed.
 * - R5, R6: messages reach the caller converted (`PgoutputConversion`): positions as `bigint`, commit
 *   times from Begin/Commit; the keepalive's position is parsed here and its timestamp never used.
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
 * Invariant: status updates are sent only while `streaming`, and only the positions the caller gives.
 */
import type { Lsn } from "@enrich-sync/core"
import { formatLsn, libpqConnectionString, parseLsn } from "@enrich-sync/core"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { LogicalReplicationService, type Pgoutput, PgoutputPlugin } from "pg-logical-replication"
import type { NeonListenerError } from "../NeonListenerError.ts"
import { toListenerError } from "./ErrorTranslation.ts"
import { fromPgoutput } from "./PgoutputConversion.ts"
import type { ReplicationMessage } from "./ReplicationMessage.ts"
import { applicationName, closeTimeout, connectTimeoutMillis } from "./SqlSession.ts"

const startTimeout = "60 seconds"

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
              connectionString: libpqConnectionString(Redacted.value(options.url)),
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
        const translated = fromPgoutput(message as Pgoutput.Message)
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
            toListenerError(
              new Error(`timed out: the server did not start streaming within ${startTimeout}`),
              {
                doing: doing(),
                url: options.url,
                phase: "connect"
              }
            )
          )
      })
    )
    return connection
  })
