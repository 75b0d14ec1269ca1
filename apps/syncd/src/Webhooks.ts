/**
 * Webhooks (the seeds' n8n trigger): with ENRICH_SYNC_WEBHOOK_URL set, syncd POSTs JSON events (records
 * pushed, re-validated PASSED or FAILED, promoted, conflicts logged) in batches to that URL, signed with an
 * HMAC-SHA256 header when ENRICH_SYNC_WEBHOOK_SECRET is set.
 *
 * ```
 *   a merge or a promotion commits ──emit──▶ enrich_sync.webhook_outbox (workspace) ──deliverer──▶ POST URL
 *                                                  ▲  2xx: delivered_at set            │
 *                                                  └── otherwise: attempts+1, next try after a capped, jittered backoff
 * ```
 *
 * Invariants: delivery is at least once: an event stays in the outbox (a table, so it survives restarts)
 * until the receiver answers 2xx, and each carries an `id` the receiver can de-duplicate by. A receiver that
 * is down, slow or failing delays events, never drops them, and never slows the sync: the deliverer is a
 * loop of its own, and a POST gives up after 10 s. The URL's credentials and the secret never print.
 * An event is written after the work it reports has committed (a crash in between loses that event, never
 * the work).
 */
import { createHmac } from "node:crypto"
import { redactUrl } from "@enrich-sync/core"
import { WorkspaceDatabase } from "@enrich-sync/engine"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import { Loops } from "./Loops.ts"
import { SyncdConfig } from "./SyncdConfig.ts"
import { SyncMetrics } from "./SyncMetrics.ts"

/** The kinds of events. */
export type WebhookEventType =
  | "records.pushed"
  | "records.revalidated"
  | "records.promoted"
  | "conflicts.logged"

/** One event, before it is stored. */
export interface WebhookEvent {
  readonly type: WebhookEventType
  readonly payload: Readonly<Record<string, unknown>>
}

/** Where events go. */
export class Webhooks extends Context.Service<
  Webhooks,
  {
    /** whether a webhook is configured (events are worth building) */
    readonly enabled: boolean
    /** stores events for delivery (nothing when no webhook is configured); never fails the caller's work */
    readonly emit: (events: ReadonlyArray<WebhookEvent>) => Effect.Effect<void>
  }
>()("@enrich-sync/syncd/Webhooks") {
  /** Events stored in the workspace's outbox when ENRICH_SYNC_WEBHOOK_URL is set; dropped otherwise. */
  static readonly layer = Layer.effect(
    Webhooks,
    Effect.gen(function* () {
      const config = yield* SyncdConfig
      if (Option.isNone(config.webhook)) return Webhooks.of({ enabled: false, emit: () => Effect.void })
      const db = yield* WorkspaceDatabase
      const metrics = yield* SyncMetrics
      return Webhooks.of({
        enabled: true,
        emit: (events) =>
          events.length === 0
            ? Effect.void
            : db
                .query(
                  `INSERT INTO enrich_sync.webhook_outbox (type, payload)
                   SELECT e->>'type', e->'payload' FROM jsonb_array_elements($1::jsonb) AS e`,
                  [JSON.stringify(events)]
                )
                .pipe(
                  Effect.andThen(
                    metrics.update((m) => ({ ...m, webhookQueued: m.webhookQueued + events.length }))
                  ),
                  // the sync goes on whatever the outbox does: a lost insert is logged
                  Effect.catch((e) =>
                    Effect.logWarning(`could not store ${events.length} webhook event(s): ${e.message}`)
                  )
                )
      })
    })
  )
}

/** How long a failed delivery waits before the next try: 1 s doubling per attempt, capped at 5 min. */
export const retryDelayMs = (attempts: number, jitter: number): number =>
  Math.round(Math.min(300_000, 1000 * 2 ** Math.max(0, attempts - 1)) * (0.75 + jitter * 0.5))

/** The signature header's value for `body`: `sha256=<hex HMAC-SHA256 of the body with the secret>`. */
export const signature = (secret: string, body: string): string =>
  `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`

interface OutboxRow {
  readonly id: string
  readonly event_id: string
  readonly type: string
  readonly payload: unknown
  readonly created_at: string
  readonly attempts: number
}

/** The URL to POST to and, for credentials written in it (`https://user:pass@host/...`), Basic auth. */
export const target = (url: string): { readonly url: string; readonly headers: Record<string, string> } => {
  const parsed = new URL(url)
  if (parsed.username === "" && parsed.password === "") return { url, headers: {} }
  const credentials = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`
  parsed.username = ""
  parsed.password = ""
  return {
    url: parsed.toString(),
    headers: { authorization: `Basic ${Buffer.from(credentials).toString("base64")}` }
  }
}

/** POSTs `body`; the status, or the reason it failed. */
const post = (url: string, body: string, headers: Record<string, string>) =>
  Effect.tryPromise({
    try: (signal) =>
      fetch(url, {
        method: "POST",
        body,
        headers: { "content-type": "application/json", ...headers },
        signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)])
      }).then(async (response) => {
        await response.arrayBuffer().catch(() => undefined)
        return response.status
      }),
    catch: (e) => (e instanceof Error ? e.message : String(e))
  })

/**
 * Delivers the outbox for the daemon's lifetime (a loop of `Loops`): every second, up to 100 events that
 * are due, oldest first, in one POST.
 */
export const webhookDelivererLayer = Layer.effectDiscard(
  Effect.gen(function* () {
    const config = yield* SyncdConfig
    if (Option.isNone(config.webhook)) return
    const webhook = config.webhook.value
    const db = yield* WorkspaceDatabase
    const metrics = yield* SyncMetrics
    const loops = yield* Loops
    const url = Redacted.value(webhook.url)
    const to = target(url)
    let failing = false
    const deliver = Effect.gen(function* () {
      const rows = (yield* db.query(
        `SELECT id::text, event_id::text, type, payload, created_at::text, attempts FROM enrich_sync.webhook_outbox
          WHERE delivered_at IS NULL AND next_attempt_at <= now() ORDER BY id LIMIT 100`
      )) as unknown as ReadonlyArray<OutboxRow>
      if (rows.length === 0) return
      const body = JSON.stringify({
        source: "enrich-sync",
        events: rows.map((r) => ({
          id: r.event_id,
          type: r.type,
          createdAt: r.created_at,
          ...(r.payload as object)
        }))
      })
      const ids = rows.map((r) => r.id)
      const headers = {
        "x-enrich-sync-delivery": rows[0]!.event_id,
        ...Option.match(webhook.secret, {
          onNone: () => ({}),
          onSome: (secret) => ({ "x-enrich-sync-signature": signature(Redacted.value(secret), body) })
        })
      }
      const outcome = yield* Effect.result(post(to.url, body, { ...to.headers, ...headers }))
      if (outcome._tag === "Success" && outcome.success >= 200 && outcome.success < 300) {
        yield* db.query(
          `UPDATE enrich_sync.webhook_outbox SET delivered_at = now() WHERE id = ANY($1::bigint[])`,
          [ids]
        )
        yield* metrics.update((m) => ({ ...m, webhookDelivered: m.webhookDelivered + rows.length }))
        if (failing)
          yield* Effect.logInfo(`the webhook receiver takes events again (${rows.length} delivered)`)
        failing = false
        return
      }
      const problem = outcome._tag === "Success" ? `it answered ${outcome.success}` : outcome.failure
      const jitter = ((yield* Clock.currentTimeMillis) % 1000) / 1000
      const attempts = rows[0]!.attempts + 1
      yield* db.query(
        `UPDATE enrich_sync.webhook_outbox SET attempts = attempts + 1, last_error = $2,
                next_attempt_at = now() + make_interval(secs => $3::float8 / 1000)
          WHERE id = ANY($1::bigint[])`,
        [ids, problem, retryDelayMs(attempts, jitter)]
      )
      yield* metrics.update((m) => ({ ...m, webhookFailed: m.webhookFailed + rows.length }))
      if (!failing)
        yield* Effect.logWarning(
          `could not deliver ${rows.length} webhook event(s) to ${redactUrl(url)}: ${problem}; they stay in the outbox and are tried again`
        )
      failing = true
    }).pipe(
      Effect.catch((e) => Effect.logWarning(`the webhook outbox could not be read: ${e.message}`)),
      Effect.andThen(
        Effect.flatMap(
          db.query("SELECT count(*)::int AS n FROM enrich_sync.webhook_outbox WHERE delivered_at IS NULL"),
          ([row]) => metrics.update((m) => ({ ...m, webhookPending: Number(row?.n ?? 0) }))
        ).pipe(Effect.ignore)
      )
    )
    yield* loops.run(
      Effect.repeat(deliver, Schedule.spaced("1 second")).pipe(Effect.annotateLogs({ direction: "webhook" }))
    )
  })
)
