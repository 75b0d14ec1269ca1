/**
 * What the in-process tests of the daemon's loops (anti-entropy, auto-promotion) and of reconcile share: a
 * logger that keeps its lines, both sides brought in sync with services of their own, a count of the
 * statements sent to Neon, and a loop's layer built as the daemon builds it once started, with the
 * configuration read from an environment and the loops it forks counted.
 */

import { assert } from "@effect/vitest"
import type { Entity, MergePolicy } from "@enrich-sync/core"
import { SourceDatabase, WorkspaceDatabase } from "@enrich-sync/engine"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as References from "effect/References"
import * as TestClock from "effect/testing/TestClock"
import { Loops } from "../../src/Loops.ts"
import { reconcile } from "../../src/Reconcile.ts"
import { Startup } from "../../src/Startup.ts"
import { loadSyncdConfig, SyncdConfig } from "../../src/SyncdConfig.ts"
import { mergeServices } from "./MergeLayers.ts"

/** A log line as the test's logger saw it, with its annotations. */
export interface Logged {
  readonly level: string
  readonly text: string
  readonly annotations: Readonly<Record<string, unknown>>
}

/** A logger that keeps the lines in `lines` (instead of printing them). */
export const capturing = (lines: Array<Logged>) =>
  Logger.layer([
    Logger.make(({ logLevel, message, fiber }) => {
      const parts = Array.isArray(message) ? message : [message]
      lines.push({
        level: logLevel,
        text: parts.map(String).join(" "),
        annotations: { ...fiber.getRef(References.CurrentLogAnnotations) }
      })
    })
  ])

/** Makes both sides of `entities` agree (a reconcile with metrics of its own: the test's start at zero). */
export const syncBoth = (entities: ReadonlyArray<Entity>, policy: MergePolicy) =>
  reconcile("test baseline", { policy, batchSize: 500, direction: "reconcile" }, entities).pipe(
    Effect.provide(Layer.fresh(mergeServices)),
    Effect.provide(Logger.layer([]))
  )

export const onNeon = (sql: string, params: ReadonlyArray<unknown>) =>
  SourceDatabase.use((db) => db.query(sql, params))
export const onWorkspace = (sql: string, params: ReadonlyArray<unknown>) =>
  WorkspaceDatabase.use((db) => db.query(sql, params))

/**
 * `run` (a method of a service that makes an effect: a query, a loop, a merge) with each run of the effects
 * it makes counted in `count`, when that effect runs rather than when it is made.
 */
export const countingRuns =
  <Args extends ReadonlyArray<unknown>, A, E, R>(
    count: { n: number },
    run: (...args: Args) => Effect.Effect<A, E, R>
  ) =>
  (...args: Args) =>
    Effect.suspend(() => {
      count.n++
      return run(...args)
    })

/** A counter of the statements sent to Neon, and `Effect.provide`'s wrapper of Neon that counts them. */
export const countingNeon = () => {
  const sent = { n: 0 }
  const wrap = <A, E, R>(self: Effect.Effect<A, E, R>) =>
    Effect.flatMap(Effect.service(SourceDatabase), (db) =>
      Effect.provideService(
        self,
        SourceDatabase,
        SourceDatabase.of({ ...db, query: countingRuns(sent, db.query) })
      )
    )
  return { sent, wrap }
}

/**
 * A loop test's effect: `body`, given the count of its statements to Neon (see `countingNeon`), in a scope
 * of its own, on `services` and the test clock.
 */
export const onTestClock = <ROut, E2, RIn, A, E, R>(
  services: Layer.Layer<ROut, E2, RIn>,
  body: (neonSent: { readonly n: number }) => Effect.Effect<A, E, R>
) => {
  const neon = countingNeon()
  return body(neon.sent).pipe(
    Effect.scoped,
    neon.wrap,
    Effect.provide(services),
    Effect.provide(TestClock.layer())
  )
}

/**
 * Asserts that a loop's next pass (seen by its statements to Neon, counted by `countingNeon`) starts when
 * `periodMillis` have passed on the test clock, not a millisecond before: first lets what can run run.
 */
export const nextPassAfter = (sent: { readonly n: number }, periodMillis: number) =>
  Effect.gen(function* () {
    yield* settle
    const before = sent.n
    yield* TestClock.adjust(periodMillis - 1)
    assert.strictEqual(sent.n, before, `no pass before ${periodMillis} ms`)
    yield* TestClock.adjust(1)
    assert.isAbove(sent.n, before, `a pass at ${periodMillis} ms`)
  })

/**
 * Builds `loopLayer` for the scope as the daemon does once it has started, with the configuration read
 * from `env`; returns how many loops it forked.
 */
export const startLoop = <E, R>(loopLayer: Layer.Layer<never, E, R>, env: Record<string, string>) =>
  Effect.gen(function* () {
    const config = yield* loadSyncdConfig.pipe(
      Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env })))
    )
    const loops = { n: 0 }
    const countingLoops = Layer.effect(
      Loops,
      Effect.map(Effect.service(Loops), (real) =>
        Loops.of({ run: countingRuns(loops, real.run), join: real.join })
      )
    ).pipe(Layer.provide(Loops.layer))
    yield* Layer.build(
      loopLayer.pipe(
        Layer.provide(
          Layer.mergeAll(
            Layer.succeed(SyncdConfig)(config),
            Layer.succeed(Startup)(
              Startup.of({ slot: { created: false, position: 0n, publicationChanged: false } })
            ),
            countingLoops
          )
        )
      )
    )
    return loops
  })

/** Lets the fibers that can run go as far as they can (a turn of the real event loop). */
export const settle = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
