/**
 * The health server, bound at the very start (before the databases are reached, so a long start-up
 * answers 503, not "connection refused"), on ENRICH_SYNC_HEALTH_HOST (127.0.0.1 by default) at
 * ENRICH_SYNC_HEALTH_PORT:
 * - `GET /healthz`: 200 while the process runs its loops (it is alive).
 * - `GET /readyz`: 200 once this daemon leads, both databases answered, the slot streams, Realtime is
 *   subscribed (when configured) and the lag is under ENRICH_SYNC_READY_MAX_LAG_SECONDS; else 503 with a JSON
 *   `reason` (a standby says `"role":"standby"`).
 * - `GET /metrics`: Prometheus text. `GET /health` (JSON: the counters, the listener, Realtime, memory;
 *   503 until ready) stays as the older alias. Any other method gets 405; any other path 404.
 *
 * Invariant: the server only reads the daemon's metrics (what the loops report as they run); it never
 * touches a database and never holds a secret.
 */
import { createServer } from "node:http"
import { formatLsn } from "@enrich-sync/core"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { SyncdConfig } from "./SyncdConfig.ts"
import { lagSeconds, prometheus, SyncMetrics } from "./SyncMetrics.ts"

/** Whether the daemon is ready, and if not, why. */
export const readiness = Effect.gen(function* () {
  const metrics = yield* SyncMetrics
  const config = yield* SyncdConfig
  const m = yield* metrics.snapshot
  const listener = yield* metrics.listener
  const realtime = yield* metrics.realtime
  const now = yield* Clock.currentTimeMillis
  const lag = lagSeconds(m, now)
  const maxLag = Duration.toSeconds(config.readyMaxLag)
  const reason =
    m.role === "standby"
      ? m.lockProblem !== null
        ? `cannot reach Neon for the leader lock: ${m.lockProblem}`
        : "standing by: another syncd holds the leader lock"
      : !m.live
        ? "starting: checking both databases, the slot, and reconciling"
        : Option.isNone(listener) || listener.value.state !== "streaming"
          ? `the replication slot is not streaming (${Option.match(listener, { onNone: () => "not started", onSome: (l) => l.state })})`
          : Option.isSome(realtime) && realtime.value.state !== "live"
            ? `Realtime is not subscribed (${realtime.value.state})`
            : lag > maxLag
              ? `behind Neon by ${Math.round(lag)} s (more than ${maxLag} s)`
              : null
  return { ready: reason === null, reason, role: m.role, lagSeconds: lag }
})

/** The body of `/health`. */
const healthBody = Effect.gen(function* () {
  const metrics = yield* SyncMetrics
  const m = yield* metrics.snapshot
  const memory = process.memoryUsage()
  const listener = yield* metrics.listener
  const realtime = yield* metrics.realtime
  const ready = yield* readiness
  return {
    ready: ready.ready,
    body: {
      ready: ready.ready,
      reason: ready.reason,
      lagSeconds: ready.lagSeconds,
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

type Answer = { readonly status: number; readonly type: string; readonly body: string }

const json = (status: number, body: unknown): Answer => ({
  status,
  type: "application/json",
  body: JSON.stringify(body)
})

/** The answer to a request. */
const answer = (method: string | undefined, path: string) =>
  Effect.gen(function* () {
    const known = ["/healthz", "/readyz", "/metrics", "/health"]
    if (!known.includes(path)) return json(404, { error: `no ${path}; try ${known.join(", ")}` })
    if (method !== "GET" && method !== "HEAD")
      return json(405, { error: `${method} is not allowed; use GET` })
    const metrics = yield* SyncMetrics
    const config = yield* SyncdConfig
    switch (path) {
      case "/healthz":
        return json(200, { status: "alive" })
      case "/readyz": {
        const r = yield* readiness
        return json(r.ready ? 200 : 503, {
          status: r.ready ? "ready" : "not ready",
          role: r.role,
          ...(r.reason === null ? {} : { reason: r.reason }),
          lagSeconds: r.lagSeconds
        })
      }
      case "/metrics":
        return {
          status: 200,
          type: "text/plain; version=0.0.4",
          body: prometheus(yield* metrics.snapshot, process.memoryUsage(), {
            now: yield* Clock.currentTimeMillis,
            slot: config.slot,
            entities: config.entities.map((e) => e.name),
            realtime: yield* metrics.realtime
          })
        }
      default: {
        const { ready, body } = yield* healthBody
        return json(ready ? 200 : 503, body)
      }
    }
  })

/** Serves health and metrics on `host`:`port` for the scope; returns the port actually bound (0 picks one). */
export const serveHealth = (host: string, port: number) =>
  Effect.gen(function* () {
    const runPromise = Effect.runPromiseWith(yield* Effect.context<SyncMetrics | SyncdConfig>())
    const server = yield* Effect.acquireRelease(
      Effect.callback<ReturnType<typeof createServer>>((resume) => {
        const s = createServer((req, res) => {
          const path = new URL(req.url ?? "/", "http://localhost").pathname
          void runPromise(answer(req.method, path)).then(
            (a) => {
              res.writeHead(a.status, {
                "content-type": a.type,
                ...(a.status === 405 ? { allow: "GET, HEAD" } : {})
              })
              res.end(req.method === "HEAD" ? undefined : a.body)
            },
            () => res.writeHead(500).end()
          )
        })
        s.listen(port, host, () => resume(Effect.succeed(s)))
        s.on("error", (e) => resume(Effect.die(e)))
      }),
      (s) =>
        Effect.callback<void>((resume) => {
          s.closeAllConnections()
          s.close(() => resume(Effect.void))
        }).pipe(Effect.timeout("5 seconds"), Effect.ignore)
    )
    const address = server.address()
    return typeof address === "object" && address !== null ? address.port : port
  })

/** The health server for the daemon's lifetime, when ENRICH_SYNC_HEALTH_PORT is set. */
export const healthLayer = Layer.effectDiscard(
  Effect.gen(function* () {
    const config = yield* SyncdConfig
    if (Option.isNone(config.healthPort)) return
    const port = yield* serveHealth(config.healthHost, config.healthPort.value)
    yield* (yield* SyncMetrics).update((m) => ({ ...m, healthPort: port }))
    yield* Effect.logInfo(`health on http://${config.healthHost}:${port} (/healthz, /readyz, /metrics)`)
  })
)
