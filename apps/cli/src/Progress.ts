/**
 * Shows the progress of long stages, fed by the engine's `onProgress` callbacks: a bar with rate and ETA
 * on stderr when stderr is a terminal, plain periodic lines on stderr otherwise.
 *
 * Invariants: never writes to stdout (that is for results and data); a bar is stopped when its scope
 * closes, failure or interruption included, so the terminal is left clean and no timer keeps the process
 * alive; short work (under `delayMs` for a bar, `intervalMs` for plain lines) prints nothing at all.
 */
import type { Progress } from "@enrich-sync/engine"
import { SingleBar } from "cli-progress"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { Output } from "./Output.ts"

/** Receives the engine's progress reports. */
export interface ProgressSink {
  readonly onProgress: (progress: Progress) => void
}

/** Options of the progress display. */
export interface ProgressOptions {
  /** draw a bar (default: whether stderr is a terminal) */
  readonly tty?: boolean
  /** the shortest interval between two plain lines (default 5000 ms) */
  readonly intervalMs?: number
  /** how long a stage runs before a bar is drawn (default 1000 ms) */
  readonly delayMs?: number
}

const formatDuration = (seconds: number): string => {
  if (!Number.isFinite(seconds)) return "?"
  const s = Math.max(0, Math.round(seconds))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`
}

const formatRate = (perSecond: number): string =>
  perSecond >= 1000 ? `${(perSecond / 1000).toFixed(1)}k/s` : `${Math.round(perSecond)}/s`

/** One plain progress line: `backfill company: 5,000/20,000 (25%), 1.2k/s, ETA 13s`. */
export const progressLine = (progress: Progress, elapsedMs: number): string => {
  const { stage, entity, done, total } = progress
  const seconds = elapsedMs / 1000
  const rate = seconds > 0 ? done / seconds : 0
  const percent = total > 0 ? Math.floor((done / total) * 100) : 100
  const eta = rate > 0 ? formatDuration((total - done) / rate) : "?"
  return `${stage} ${entity}: ${done.toLocaleString("en-US")}/${total.toLocaleString("en-US")} (${percent}%), ${formatRate(rate)}, ETA ${done >= total ? "0s" : eta}`
}

/** A progress display for the scope; `write` receives the plain lines (stderr). */
export const makeProgress = (
  write: (line: string) => void,
  options: ProgressOptions = {}
): Effect.Effect<ProgressSink, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const tty = options.tty ?? process.stderr.isTTY === true
      const intervalMs = options.intervalMs ?? 5000
      const delayMs = options.delayMs ?? 1000
      let current: { key: string; started: number; lastLine: number; printed: number | null } | null = null
      let bar: SingleBar | null = null

      const stopBar = () => {
        bar?.stop()
        bar = null
      }

      const onProgress = (progress: Progress) => {
        const key = `${progress.stage}/${progress.entity}`
        const now = Date.now()
        if (current?.key !== key) {
          stopBar()
          current = { key, started: now, lastLine: now, printed: null }
        }
        const elapsed = now - current.started
        const finished = progress.done >= progress.total
        // a bar only for work that lasts: short stages leave no trace on the terminal
        if (tty && bar === null && !finished && progress.total > 0 && elapsed >= delayMs) {
          bar = new SingleBar({
            stream: process.stderr,
            format: `${progress.stage} ${progress.entity} [{bar}] {percentage}% {value}/{total} | {rate} | ETA {eta_formatted}`,
            hideCursor: true,
            clearOnComplete: false,
            etaBuffer: 20
          })
          bar.start(progress.total, progress.done, { rate: formatRate(0) })
        }
        if (bar !== null) {
          bar.setTotal(progress.total)
          bar.update(progress.done, { rate: formatRate(elapsed > 0 ? (progress.done * 1000) / elapsed : 0) })
          if (finished) stopBar()
          return
        }
        if (tty) return
        if (current.printed === progress.done) return
        if (now - current.lastLine >= intervalMs || (finished && current.printed !== null)) {
          write(progressLine(progress, elapsed))
          current.lastLine = now
          current.printed = progress.done
        }
      }
      return { onProgress, stop: stopBar }
    }),
    (sink) => Effect.sync(() => sink.stop())
  ).pipe(Effect.map(({ onProgress }): ProgressSink => ({ onProgress })))

/** Runs `body` with a progress display on stderr (lines redacted), stopped when `body` ends. */
export const withProgress = <A, E, R>(
  body: (onProgress: (progress: Progress) => void) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R | Output> =>
  Effect.scoped(
    Effect.gen(function* () {
      const output = yield* Output
      const sink = yield* makeProgress((line) => {
        process.stderr.write(`${output.redact(line)}\n`)
      })
      return yield* body(sink.onProgress)
    })
  )
