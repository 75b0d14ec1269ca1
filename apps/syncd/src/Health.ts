/**
 * `/health` (JSON: live, the listener's state and position, the counters, the process' memory, the Realtime
 * subscription's state when Realtime is on) and
 * `/metrics` (Prometheus text) on 127.0.0.1, when ENRICH_SYNC_HEALTH_PORT is set. `/health` answers 503
 * until the daemon is live.
 */

import { createServer } from "node:http"
import { formatLsn } from "@enrich-sync/core"
import { NeonListener } from "@enrich-sync/neon-listener"
import type { SupabaseListenerStatus } from "@enrich-sync/supabase-listener"
import * as Effect from "effect/Effect"
import { prometheus, SyncMetrics } from "./SyncMetrics.ts"

/**
 * Serves health and metrics on `port` for the scope; returns the port actually bound (0 picks one). With
 * `realtime` (the Supabase listener's status), `/health` reports it too.
 */
export const serveHealth = (port: number, realtime: Effect.Effect<SupabaseListenerStatus> | null = null) =>
  Effect.gen(function* () {
    const metrics = yield* SyncMetrics
    const listener = yield* NeonListener
    const runPromise = Effect.runPromiseWith(yield* Effect.context<never>())
    const server = yield* Effect.acquireRelease(
      Effect.callback<ReturnType<typeof createServer>>((resume) => {
        const s = createServer((req, res) => {
          void runPromise(
            Effect.gen(function* () {
              const m = yield* metrics.snapshot
              const memory = process.memoryUsage()
              if (req.url === "/metrics") {
                res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(prometheus(m, memory))
                return
              }
              if (req.url === "/health") {
                const status = yield* listener.status
                const body = {
                  realtime: realtime === null ? null : yield* realtime,
                  ...m,
                  memory: {
                    rss: memory.rss,
                    heapTotal: memory.heapTotal,
                    heapUsed: memory.heapUsed,
                    external: memory.external,
                    arrayBuffers: memory.arrayBuffers
                  },
                  listener: {
                    ...status,
                    confirmed: formatLsn(status.confirmed),
                    delivered: formatLsn(status.delivered)
                  }
                }
                res
                  .writeHead(m.live ? 200 : 503, { "content-type": "application/json" })
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
