/**
 * The Neon listener: follows the logical replication slot of the invalid tables and emits the keys that
 * each committed transaction touched, in commit order; the daemon acknowledges a transaction once it is
 * applied on both sides.
 *
 * Invariants:
 * - Acknowledges only positions whose changes are durably applied: the slot's confirmed position never
 *   passes a delivered transaction that the consumer has not acknowledged (it moves past empty or
 *   unrelated transactions and idle keepalives only when everything before them is acknowledged).
 * - Loses nothing: the slot is the durable cursor, reconnects resume from the confirmed position, and a
 *   slot that vanished is created again and reported (`SlotCreated`, reason `missing`) so that the
 *   daemon reconciles both sides in full.
 * - Delivers nothing twice within a process: after a reconnect, transactions already delivered (and
 *   what PostgreSQL 15 re-sends after a restart, R4) are skipped.
 * - Memory is bounded: at most `bufferChunks` chunks and `bufferKeys` keys wait for the consumer (plus
 *   what one socket read held); beyond either, reading from the server pauses until half is taken.
 *
 * The state the socket handler touches (assembler, tracker) is plain mutable state owned by one service
 * instance: it is updated synchronously for every message, in order, which a `Ref` would only slow down.
 */
import type { Lsn } from "@enrich-sync/core"
import { formatLsn } from "@enrich-sync/core"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { makeAckThrottle } from "./internal/AckThrottle.ts"
import { AckTracker } from "./internal/AckTracker.ts"
import { type ConnectionEvent, type ConnectionState, transition } from "./internal/ConnectionState.ts"
import { openReplication, type ReplicationConnection } from "./internal/ReplicationConnection.ts"
import type { ReplicationMessage } from "./internal/ReplicationMessage.ts"
import { openSession } from "./internal/SqlSession.ts"
import { type Resume, TransactionAssembler } from "./internal/TransactionAssembler.ts"
import type { ListenerEvent } from "./ListenerEvent.ts"
import type { NeonListenerConfig, ResolvedConfig } from "./NeonListenerConfig.ts"
import { resolveConfig } from "./NeonListenerConfig.ts"
import { NeonListenerError } from "./NeonListenerError.ts"
import { ensureSlotResolved } from "./Slot.ts"

/** A snapshot of the listener, for health checks and metrics. */
export interface ListenerStatus {
  readonly state: ConnectionState
  /** the position confirmed to the server (everything before it is applied) */
  readonly confirmed: Lsn
  /** the latest position delivered to the consumer or passed as empty */
  readonly delivered: Lsn
  /** delivered transactions that wait for an acknowledgement */
  readonly waiting: number
  /** chunks buffered for the consumer */
  readonly buffered: number
  /** connections lost or refused since the listener started */
  readonly reconnects: number
  /** the last connection problem, redacted */
  readonly lastError: string | null
}

/** The Neon listener service. */
export class NeonListener extends Context.Service<
  NeonListener,
  {
    /**
     * The events, in commit order. One consumer: events are taken, not broadcast. Fails only with a
     * problem that retrying cannot fix (wal_level, role, replica identity, ...); connection losses are
     * retried inside.
     */
    readonly events: Stream.Stream<ListenerEvent, NeonListenerError>
    /**
     * Everything up to `position` (a `Changes.endLsn`) is durably applied. Monotonic: a position at or
     * before the last one is ignored, and so is one past anything delivered. Confirms to the server at
     * once when it lets the confirmed position move.
     */
    readonly ack: (position: Lsn) => Effect.Effect<void>
    /** Where the listener is. */
    readonly status: Effect.Effect<ListenerStatus>
  }
>()("@enrich-sync/neon-listener/NeonListener") {
  /**
   * Follows the slot while the layer is alive: checks Neon, creates the publication and slot when
   * missing, streams, reconnects, and sends heartbeats. Fails to build only on an invalid configuration.
   */
  static readonly layer = (config: NeonListenerConfig): Layer.Layer<NeonListener, NeonListenerError> =>
    Layer.effect(NeonListener, make(config))
}

/** The delays between reconnect attempts: exponential from `base`, capped at `cap`, jittered. */
export const reconnectSchedule = (
  base: Duration.Input,
  cap: Duration.Input
): Schedule.Schedule<Duration.Duration> =>
  Schedule.min([Schedule.exponential(base), Schedule.spaced(cap)]).pipe(Schedule.jittered)

const heartbeatSql = "SELECT pg_logical_emit_message(false, 'enrich-sync', 'heartbeat')"

const make = Effect.fnUntraced(function* (input: NeonListenerConfig) {
  const resolved = resolveConfig(input)
  if (resolved instanceof NeonListenerError) return yield* resolved
  const config: ResolvedConfig = resolved

  const outbox = yield* Queue.make<ListenerEvent, NeonListenerError | Cause.Done>()
  // what waits for the consumer, counted in chunks and in keys (an event weighs its keys, at least 1)
  let bufferedKeys = 0
  const weight = (event: ListenerEvent) => (event._tag === "Changes" ? Math.max(1, event.changes.length) : 1)
  const offer = (event: ListenerEvent) => {
    bufferedKeys += weight(event)
    Queue.offerUnsafe(outbox, event)
  }
  const full = () => Queue.sizeUnsafe(outbox) >= config.bufferChunks || bufferedKeys >= config.bufferKeys
  const drained = () =>
    Queue.sizeUnsafe(outbox) <= Math.floor(config.bufferChunks / 2) &&
    bufferedKeys <= Math.floor(config.bufferKeys / 2)

  // Owned by this instance; see the module header for why it is not in a Ref.
  let state: ConnectionState = "checking"
  let tracker: AckTracker | null = null
  let resume: Resume | null = null
  let current: ReplicationConnection | null = null
  let reconnects = 0
  let lastError: string | null = null

  const move = (event: ConnectionEvent) =>
    Effect.suspend(() => {
      const next = transition(state, event)
      if (next === undefined)
        return Effect.die(new Error(`NeonListener: no transition from ${state} on ${event}`))
      state = next
      return Effect.void
    })

  const onMessage = (
    message: ReplicationMessage,
    connection: ReplicationConnection,
    assembler: TransactionAssembler
  ) => {
    // Messages can arrive before `openReplication` returns: the consumer must see this connection to
    // resume it after a pause.
    current = connection
    const slot = tracker!
    let moved = false
    for (const output of assembler.push(message)) {
      switch (output._tag) {
        case "Deliver":
          // Registered before the consumer can see it, so no acknowledgement can precede it.
          if (output.chunk.last) slot.deliver(output.chunk.endLsn)
          offer(output.chunk)
          break
        case "Pass":
          if (slot.pass(output.position)) moved = true
          break
        case "MissingKey": {
          const name = `${output.table.schema}.${output.table.name}`
          connection.abort(
            new NeonListenerError({
              reason: "ReplicaIdentity",
              message: `a ${output.op} on ${name} came without its key column, so the record it touched is unknown; make the key's unique index the replica identity (ALTER TABLE ${name} REPLICA IDENTITY USING INDEX ...; \`enrich-sync migrate\` does it), then restart: the transaction is delivered again`
            })
          )
          return
        }
      }
    }
    if (moved || (message._tag === "Keepalive" && message.replyRequested))
      connection.sendStatus(slot.confirmed)
    if (full()) connection.pause()
  }

  /** One connection: preflight, start, stream until it breaks. Always ends with the error that ended it. */
  const session = Effect.scoped(
    Effect.gen(function* () {
      const ensured = yield* ensureSlotResolved(config)
      if (tracker === null) {
        tracker = new AckTracker(ensured.position)
        resume = { deliveredThrough: ensured.position, partial: null }
        if (ensured.created) offer({ _tag: "SlotCreated", reason: "first-start", position: ensured.position })
      } else if (ensured.created) {
        yield* Effect.logWarning(
          `the replication slot ${config.slot} had disappeared (Neon drops idle slots; a branch restore drops them) and was created again at ${formatLsn(ensured.position)}; changes made meanwhile were not streamed, so both sides need a full reconcile`
        )
        tracker.reset(ensured.position)
        resume = { deliveredThrough: ensured.position, partial: null }
        offer({ _tag: "SlotCreated", reason: "missing", position: ensured.position })
      } else if (ensured.position > tracker.confirmed) {
        yield* Effect.logWarning(
          `the replication slot ${config.slot} was moved to ${formatLsn(ensured.position)} by someone else (this listener confirmed ${formatLsn(tracker.confirmed)}); changes in between were not seen by this listener`
        )
      }
      yield* move("checked")
      const slot = tracker
      const assembler = new TransactionAssembler({
        tables: config.tables,
        maxChunkChanges: config.maxChunkChanges,
        resume: resume ?? { deliveredThrough: slot.confirmed, partial: null }
      })
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          resume = assembler.resume
          current = null
        })
      )
      const connection = yield* openReplication({
        url: config.url,
        slot: config.slot,
        publication: config.publication,
        startAt: slot.confirmed,
        onMessage: (message, connection) => onMessage(message, connection, assembler)
      })
      current = connection
      // on the way out (a stop, not a lost connection), the server hears the last acknowledgement first:
      // what was applied while a status was held back is not delivered again at the next start
      yield* Effect.addFinalizer(() => Effect.sync(() => connection.sendStatus(slot.confirmed)))
      if (drained()) connection.resume()
      yield* move("started")
      lastError = null
      yield* Effect.logInfo(
        `streaming changes from the replication slot ${config.slot} from ${formatLsn(slot.confirmed)}`
      )
      // Acknowledgements made while disconnected, then a status at least every statusInterval (this
      // also keeps the server from timing out a paused connection).
      connection.sendStatus(slot.confirmed)
      yield* Effect.forkScoped(
        Effect.sync(() => connection.sendStatus(slot.confirmed)).pipe(
          Effect.delay(config.statusInterval),
          Effect.forever
        )
      )
      return yield* connection.ended
    })
  )

  const run = Effect.gen(function* () {
    const schedule = reconnectSchedule(config.reconnectBase, config.reconnectCap)
    let step = yield* Schedule.toStep(schedule)
    while (true) {
      const exit = yield* Effect.exit(session)
      if (Exit.isSuccess(exit)) continue
      const failure = Cause.findErrorOption(exit.cause)
      if (failure._tag === "None") return yield* Effect.failCause(exit.cause as Cause.Cause<never>)
      const error = failure.value
      lastError = error.message
      if (!error.retryable) {
        yield* move("fatal")
        yield* Effect.logError(`the Neon listener stopped: ${error.message}`)
        return yield* error
      }
      // A connection that streamed ends the backoff streak.
      if (state === "streaming") step = yield* Schedule.toStep(schedule)
      yield* move(state === "streaming" ? "lost" : "retryable")
      reconnects += 1
      const now = yield* Clock.currentTimeMillis
      const delay = yield* step(now, undefined).pipe(
        Effect.map(([, d]) => d),
        Effect.catchCause(() => Effect.succeed(config.reconnectCap))
      )
      yield* Effect.logWarning(
        `Neon replication: ${error.message}; reconnecting in ${Math.round(Duration.toMillis(delay))} ms`
      )
      yield* Effect.sleep(delay)
      yield* move("retry")
    }
  })

  yield* Effect.forkScoped(
    run.pipe(
      Effect.onError((cause) =>
        Effect.sync(() => {
          if (Cause.hasInterruptsOnly(cause)) Queue.endUnsafe(outbox)
          else Queue.failCauseUnsafe(outbox, cause)
        })
      )
    )
  )
  yield* Effect.addFinalizer(() =>
    Effect.sync(() => {
      state = "stopped"
      Queue.endUnsafe(outbox)
    })
  )

  // Heartbeats: WAL that the slot decodes to nothing, so an idle slot gets keepalives with newer
  // positions that it can confirm. Only while streaming; failures are logged once per streak.
  let heartbeatFailing = false
  const beat = Effect.scoped(
    Effect.gen(function* () {
      const sql = yield* openSession(config.url, "sending a replication heartbeat")
      while (true) {
        if (state === "streaming") yield* sql.query(heartbeatSql)
        heartbeatFailing = false
        yield* Effect.sleep(config.heartbeatInterval)
      }
    })
  ).pipe(
    Effect.catch((error: NeonListenerError) =>
      Effect.gen(function* () {
        if (!heartbeatFailing && state === "streaming") {
          yield* Effect.logWarning(
            `a replication heartbeat failed (an idle slot may hold WAL meanwhile): ${error.message}`
          )
        }
        heartbeatFailing = true
        yield* Effect.sleep(config.heartbeatInterval)
      })
    ),
    Effect.forever
  )
  yield* Effect.forkScoped(beat)

  // everything waiting, at once: the consumer batches what accumulated while it was busy
  const take = Queue.takeAll(outbox).pipe(
    Effect.tap((events) =>
      Effect.sync(() => {
        for (const event of events) bufferedKeys -= weight(event)
        if (current !== null && drained()) current.resume()
      })
    )
  )

  // Acknowledgements reach the server coalesced: at most one status update per `ackInterval` (the first
  // after a quiet spell at once), as pg_recvlogical's status interval does; keepalives that ask for a
  // reply and the periodic status still report the latest confirmed position at once.
  const throttle = yield* makeAckThrottle(config.ackInterval, () => {
    if (tracker !== null) current?.sendStatus(tracker.confirmed)
  })

  return NeonListener.of({
    events: Stream.fromPull(Effect.succeed(take)),
    ack: (position: Lsn) =>
      Effect.suspend(() => {
        const slot = tracker
        if (slot === null) return Effect.void
        const outcome = slot.ack(position)
        if (outcome === "advanced") throttle.request()
        if (outcome === "beyond") {
          return Effect.logWarning(
            `ignored an acknowledgement of ${formatLsn(position)}, past anything delivered (${formatLsn(slot.last)})`
          )
        }
        return Effect.void
      }),
    status: Effect.sync(
      (): ListenerStatus => ({
        state,
        confirmed: tracker?.confirmed ?? 0n,
        delivered: tracker?.last ?? 0n,
        waiting: tracker?.waiting ?? 0,
        buffered: Queue.sizeUnsafe(outbox),
        reconnects,
        lastError
      })
    )
  })
})
