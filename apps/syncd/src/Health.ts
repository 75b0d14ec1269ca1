/**
 * `/health` (JSON: live, the listener's state and position, the counters, the process' memory, the
 * Realtime subscription's state when Realtime is on) and `/metrics` (Prometheus text) on 127.0.0.1, when
 * ENRICH_SYNC_HEALTH_PORT is set. `/health` answers 503 until the daemon is live.
 *
 * Invariant: the server reads only the daemon's metrics (what the loops report as they run); it never
 * touches a database and never holds a secret.
 */
import { createServer } from "node:http"
import { formatLsn } from "@enrich-sync/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { SyncdConfig } from "./SyncdConfig.ts"
import { prometheus, SyncMetrics } from "./SyncMetrics.ts"

/** The body of `/health`. */
const healthBody = Effect.gen(function* () {
  const metrics = yield* SyncMetrics
  const m = yield* metrics.snapshot
  const memory = process.memoryUsage()
  const listener = yield* metrics.listener
  const realtime = yield* metrics.realtime
  return {
    live: m.live,
    body: {
      realtime: Option.getOrNull(realtime),
      ...m,
      memory: {
        rss: memory.rss,
        heapTotal: memory.heapTotal,
        heapUsed: memory.heapUsed,
        external: memory.external,
        arrayBuffers: memory.arrayBuffers
      },
      listener: Option.match(listener, {
        onNone: () => null,
        onSome: (status) => ({
          ...status,
          confirmed: formatLsn(status.confirmed),
          delivered: formatLsn(status.delivered)
        })
      })
    }
  }
})

/** Serves health and metrics on `port` for the scope; returns the port actually bound (0 picks one). */
export const serveHealth = (port: number) =>
  Effect.gen(function* () {
    const metrics = yield* SyncMetrics
    const runPromise = Effect.runPromiseWith(yield* Effect.context<SyncMetrics>())
    const server = yield* Effect.acquireRelease(
      Effect.callback<ReturnType<typeof createServer>>((resume) => {
        const s = createServer((req, res) => {
          void runPromise(
            Effect.gen(function* () {
              if (req.url === "/metrics") {
                const m = yield* metrics.snapshot
                res
                  .writeHead(200, { "content-type": "text/plain; version=0.0.4" })
                  .end(prometheus(m, process.memoryUsage()))
                return
              }
              if (req.url === "/health") {
                const { live, body } = yield* healthBody
                res
                  .writeHead(live ? 200 : 503, { "content-type": "application/json" })
                  .end(JSON.stringify(body))
                return
              }
              res.writeHead(404).end()
            })
          )
        })
        s.listen(port, "127.0.0.1", () => resume(Effect.succeed(s)))
        s.on("error", (e) => resume(Effect.die(e)))
      }),
      (s) =>
        Effect.callback<void>((resume) => void s.close(() => resume(Effect.void))).pipe(
          Effect.timeout("5 seconds"),
          Effect.ignore
        )
    )
    const address = server.address()
    return typeof address === "object" && address !== null ? address.port : port
  })

/** The health server for the daemon's lifetime, when ENRICH_SYNC_HEALTH_PORT is set; its port, if any. */
export const healthLayer = Layer.effectDiscard(
  Effect.gen(function* () {
    const config = yield* SyncdConfig
    if (Option.isNone(config.healthPort)) return
    const port = yield* serveHealth(config.healthPort.value)
    yield* (yield* SyncMetrics).update((m) => ({ ...m, healthPort: port }))
  })
)
