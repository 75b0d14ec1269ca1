/**
 * One leader among the daemons that follow the same slot. The leader holds a Postgres advisory lock keyed
 * by the slot's name, on a session of its own to Neon's direct host; the others stand by and try for the
 * lock every second, so one of them takes over within seconds of the leader dying, hanging or losing its
 * connection.
 *
 * ```
 *   standby ──lock taken──▶ leader ──ping fails / session ends──▶ standby (the leader's work is stopped)
 *      ▲  └─ lock held by another: try again in 1 s                 │
 *      └────────────────────────────────────────────────────────────┘
 * ```
 *
 * Invariant: work runs only while its lock session lives: the session is pinged every second, and
 * `check` asks it before an acknowledgement; the moment either fails, the work is interrupted (what is in
 * flight rolls back, nothing more is acknowledged). Postgres frees the lock when the session ends: at once
 * when the leader dies or its connection drops, and within `idle_session_timeout` (6 s, set on the session)
 * when the leader hangs and stops pinging. A leader that hangs inside a transaction holds its rows no longer:
 * the daemon's transactions end after 5 s without its next statement (`Databases.ts`), before the lock frees.
 */
import { createHash } from "node:crypto"
import { type Database, DatabaseError, type Session, SourceDatabase } from "@enrich-sync/engine"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Semaphore from "effect/Semaphore"
import { Endpoints } from "./Databases.ts"
import { SyncdConfig } from "./SyncdConfig.ts"
import { SyncMetrics } from "./SyncMetrics.ts"

/** The daemon's role. */
export type Role = "standby" | "leader"

/** The advisory lock's key for a slot: 64 bits of md5("enrich-sync:" + slot), signed as Postgres' bigint. */
export const lockKey = (slot: string): string =>
  BigInt.asIntN(
    64,
    BigInt(`0x${createHash("md5").update(`enrich-sync:${slot}`).digest("hex").slice(0, 16)}`)
  ).toString()

/** The lock session ended or stopped answering: this daemon no longer leads. */
export class LeadershipLost extends Error {
  override readonly name = "LeadershipLost"
}

/** Leadership of the slot. */
export class Leadership extends Context.Service<
  Leadership,
  {
    readonly role: Effect.Effect<Role>
    /**
     * Runs `work` each time this daemon leads: waits for the lock, runs `work` (in a scope of its own) until
     * it ends or the lock is lost, then stands by again. Fails only when `work` fails.
     */
    readonly lead: <E, R>(
      work: Effect.Effect<void, E, R | Scope.Scope>
    ) => Effect.Effect<never, E, Exclude<R, Scope.Scope>>
    /** Succeeds while the lock session answers; fails (and stops the work) when it does not. */
    readonly check: Effect.Effect<void, LeadershipLost>
  }
>()("@enrich-sync/syncd/Leadership") {
  static readonly layer = Layer.effect(
    Leadership,
    Effect.gen(function* () {
      const config = yield* SyncdConfig
      const endpoints = yield* Endpoints
      const metrics = yield* SyncMetrics
      const key = lockKey(config.slot)
      const role = yield* Ref.make<Role>("standby")
      /** the current term's lock session and the signal that it is gone */
      const term = yield* Ref.make<{ readonly confirm: Effect.Effect<void, LeadershipLost> } | null>(null)
      const setRole = (next: Role) =>
        Ref.set(role, next).pipe(Effect.andThen(metrics.update((m) => ({ ...m, role: next }))))

      /** A session of its own to Neon's direct host, for the lock (the pool of one is the session's owner). */
      const lockSession = Effect.gen(function* () {
        const pool = yield* Layer.build(
          SourceDatabase.layer(endpoints.replicationUrl, {
            max: 1,
            applicationName: `enrich-sync syncd leader ${config.slot}`
          })
        )
        const db: Database = Context.get(pool, SourceDatabase)
        const session = yield* db.session
        // a hung leader stops pinging: the server then ends the session and frees the lock (PostgreSQL 14+)
        yield* session.query("SET idle_session_timeout = '6s'").pipe(Effect.ignore)
        return session
      })

      /** Tries for the lock on `session` every second until it is taken. */
      const takeLock = (session: Session) =>
        Effect.gen(function* () {
          let announced = false
          for (;;) {
            const [row] = yield* session.query("SELECT pg_try_advisory_lock($1::bigint) AS taken", [key])
            if (row?.taken === true) return
            if (!announced)
              yield* Effect.logInfo(
                `another syncd leads slot ${config.slot}: standing by, trying for the leader lock every second`
              )
            announced = true
            yield* Effect.sleep("1 second")
          }
        })

      /** One term: holds the lock on `session` and runs `work` until it ends or the session stops answering. */
      const term_ = <E, R>(session: Session, work: Effect.Effect<void, E, R | Scope.Scope>) =>
        Effect.gen(function* () {
          const lost = yield* Deferred.make<void, LeadershipLost>()
          // one query at a time on the session (the periodic ping and `check` share it)
          const one = yield* Semaphore.make(1)
          const lastAnswer = yield* Ref.make(0)
          const ping = Semaphore.withPermits(
            one,
            1
          )(session.query("SELECT 1")).pipe(
            Effect.timeout("3 seconds"),
            Effect.mapError(
              (e) =>
                new LeadershipLost(
                  `the leader lock's session to Neon stopped answering (${e instanceof DatabaseError ? e.message : "no answer within 3 s"})`
                )
            ),
            Effect.tap(() => Effect.flatMap(Clock.currentTimeMillis, (now) => Ref.set(lastAnswer, now))),
            Effect.tapError((e) => Deferred.fail(lost, e)),
            Effect.asVoid
          )
          // an answer younger than 250 ms stands for the session (acknowledgements come in bursts)
          const confirm = Effect.gen(function* () {
            if ((yield* Clock.currentTimeMillis) - (yield* Ref.get(lastAnswer)) >= 250) yield* ping
          })
          yield* Effect.forkScoped(Effect.repeat(ping, Schedule.spaced("1 second")))
          yield* Ref.set(term, { confirm })
          yield* Effect.addFinalizer(() => Ref.set(term, null).pipe(Effect.andThen(setRole("standby"))))
          yield* setRole("leader")
          yield* Effect.logInfo(`leading slot ${config.slot} (holding the leader lock)`)
          // the work may meet the loss first (a check before an acknowledgement): that too ends the term
          const standBy = (e: LeadershipLost) =>
            Effect.logError(`${e.message}: no longer leading; standing by`)
          yield* Effect.raceFirst(
            Effect.scoped(work).pipe(
              Effect.catchIf(
                (e: unknown) => e instanceof LeadershipLost,
                (e) => standBy(e as unknown as LeadershipLost)
              )
            ),
            Deferred.await(lost).pipe(Effect.catch(standBy))
          )
        })

      const lead = <E, R>(work: Effect.Effect<void, E, R | Scope.Scope>) =>
        Effect.forever(
          Effect.scoped(
            Effect.gen(function* () {
              // the lock session could not be opened, or failed while standing by: try again in a second
              const session = yield* Effect.tap(lockSession, (s) =>
                takeLock(s).pipe(Effect.tap(() => metrics.update((m) => ({ ...m, lockProblem: null }))))
              ).pipe(
                Effect.tapError((e) =>
                  Effect.gen(function* () {
                    // said once per problem, not every second
                    if ((yield* metrics.snapshot).lockProblem !== e.message)
                      yield* Effect.logWarning(
                        `could not reach Neon for the leader lock: ${e.message}; trying again every second`
                      )
                    yield* metrics.update((m) => ({ ...m, lockProblem: e.message }))
                  })
                ),
                Effect.option
              )
              if (Option.isSome(session)) yield* term_(session.value, work)
            })
          ).pipe(Effect.andThen(Effect.sleep("1 second")))
        ) as Effect.Effect<never, E, Exclude<R, Scope.Scope>>

      const check: Effect.Effect<void, LeadershipLost> = Effect.flatMap(Ref.get(term), (current) =>
        current === null
          ? Effect.fail(new LeadershipLost("this daemon does not hold the leader lock"))
          : current.confirm
      )

      return Leadership.of({ role: Ref.get(role), lead, check })
    })
  )
}
