/**
 * The daemon's log: one JSON object per line when stdout is not a terminal (for a log pipeline), a
 * readable line on a terminal; `ENRICH_SYNC_LOG_FORMAT` (`json` or `pretty`) overrides the choice and
 * `ENRICH_SYNC_LOG_LEVEL` (`debug`, `info`, `warn`, `error`; default `info`) sets the least level written.
 *
 * A line holds `time`, `level`, `msg`, then the annotations its effect carries (`direction`, `entity`,
 * `keys`, `lsn`, `durationMs`, `conflicts`, ...) and `cause` for a failure. No fiber ids.
 *
 * Invariant: every line passes through the `Redactor` (the secrets the daemon was configured with, and the
 * usual credential patterns) before it is written, whatever its format.
 */

import { makeRedactor, urlPassword } from "@enrich-sync/core"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as References from "effect/References"

/** Scrubs secrets from text; learns the secrets as the daemon reads them. */
export class Redactor extends Context.Service<
  Redactor,
  {
    readonly redact: (text: string) => string
    /** secrets to scrub from now on: keys, and the passwords of connection URLs */
    readonly remember: (secrets: ReadonlyArray<Redacted.Redacted<string>>) => Effect.Effect<void>
  }
>()("@enrich-sync/syncd/Redactor") {
  static readonly layer = Layer.effect(
    Redactor,
    Effect.gen(function* () {
      const known = yield* Ref.make<ReadonlyArray<string>>([])
      const current = yield* Ref.make(makeRedactor([]))
      return Redactor.of({
        redact: (text) => Ref.getUnsafe(current)(text),
        remember: (secrets) =>
          Ref.updateAndGet(known, (before) => [
            ...before,
            ...secrets.flatMap((s) => {
              const value = Redacted.value(s)
              return [value, ...(urlPassword(value) === null ? [] : [urlPassword(value)!])]
            })
          ]).pipe(Effect.flatMap((all) => Ref.set(current, makeRedactor(all))))
      })
    })
  )
}

/** How lines are written. */
export type LogFormat = "json" | "pretty"

/** The levels a user can choose, and Effect's names for them. */
export const logLevels = { debug: "Debug", info: "Info", warn: "Warn", error: "Error" } as const
export type LogLevelName = keyof typeof logLevels

/** Effect's level names (upper case) as the log writes them. */
const levelNames: Readonly<Record<string, string>> = {
  TRACE: "debug",
  DEBUG: "debug",
  INFO: "info",
  WARN: "warn",
  WARNING: "warn",
  ERROR: "error",
  FATAL: "error"
}

/**
 * JSON of a logged value that never throws: a bigint (a WAL position) as its digits, an `Error` as its name
 * and message, an object met again (a cycle) as `"[Circular]"`. A log line must not fail the daemon.
 */
const jsonOf = (value: unknown): string => {
  const seen = new WeakSet<object>()
  try {
    return (
      JSON.stringify(value, (_key, v: unknown) => {
        if (typeof v === "bigint") return v.toString()
        if (v instanceof Error) return { name: v.name, message: v.message }
        if (typeof v === "object" && v !== null) {
          if (seen.has(v)) return "[Circular]"
          seen.add(v)
        }
        return v
      }) ?? String(value)
    )
  } catch {
    return JSON.stringify(String(value))
  }
}

/** The text of a log message (Effect passes the logged values as an array). */
const messageText = (message: unknown): string => {
  const parts = Array.isArray(message) ? message : [message]
  return parts
    .map((part) =>
      typeof part === "string" || typeof part === "bigint"
        ? String(part)
        : part instanceof Error
          ? `${part.name}: ${part.message}`
          : jsonOf(part)
    )
    .join(" ")
}

const annotationText = (value: unknown): string =>
  typeof value === "string" ? (/[\s"=]/.test(value) ? JSON.stringify(value) : value) : jsonOf(value)

/** One line in the chosen format (not yet redacted). */
export const formatLine = (
  format: LogFormat,
  entry: {
    readonly date: Date
    readonly level: string
    readonly message: unknown
    readonly annotations: Readonly<Record<string, unknown>>
    readonly cause: string | undefined
  }
): string => {
  const level = levelNames[entry.level.toUpperCase()] ?? entry.level.toLowerCase()
  const msg = messageText(entry.message)
  if (format === "json") {
    return jsonOf({
      time: entry.date.toISOString(),
      level,
      msg,
      ...entry.annotations,
      ...(entry.cause === undefined ? {} : { cause: entry.cause })
    })
  }
  const fields = Object.entries(entry.annotations).map(([k, v]) => `${k}=${annotationText(v)}`)
  const time = entry.date.toISOString().replace("T", " ").replace("Z", "")
  return [
    `${time} ${level.toUpperCase().padEnd(5)} ${msg}`,
    ...(fields.length > 0 ? [`  ${fields.join(" ")}`] : []),
    ...(entry.cause === undefined ? [] : [`\n${entry.cause}`])
  ].join("")
}

/**
 * Reads ENRICH_SYNC_LOG_FORMAT and ENRICH_SYNC_LOG_LEVEL; a value it does not know falls back to the
 * default (and the configuration reports it as a problem).
 */
const settings = Effect.gen(function* () {
  const format = yield* Config.option(Config.String("ENRICH_SYNC_LOG_FORMAT")).pipe(
    Effect.orElseSucceed(() => Option.none<string>())
  )
  const level = yield* Config.option(Config.String("ENRICH_SYNC_LOG_LEVEL")).pipe(
    Effect.orElseSucceed(() => Option.none<string>())
  )
  const chosen = Option.getOrUndefined(format)?.trim().toLowerCase()
  const name = Option.getOrUndefined(level)?.trim().toLowerCase() as LogLevelName | undefined
  return {
    format: (chosen === "json" || chosen === "pretty"
      ? chosen
      : process.stdout.isTTY === true
        ? "pretty"
        : "json") as LogFormat,
    level: name !== undefined && Object.hasOwn(logLevels, name) ? logLevels[name] : logLevels.info
  }
})

/** The daemon's logger (replacing Effect's default) and its least level, writing to stdout. */
export const logLayer: Layer.Layer<never, never, Redactor> = Layer.unwrap(
  Effect.gen(function* () {
    const redactor = yield* Redactor
    const { format, level } = yield* settings
    const logger = Logger.map(Logger.formatStructured, (s) =>
      process.stdout.write(
        `${redactor.redact(
          formatLine(format, {
            date: new Date(s.timestamp),
            level: s.level,
            message: s.message,
            annotations: s.annotations,
            cause: s.cause
          })
        )}\n`
      )
    )
    return Layer.mergeAll(Logger.layer([logger]), Layer.succeed(References.MinimumLogLevel, level))
  })
)
