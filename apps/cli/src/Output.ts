/**
 * Everything the command prints: human summaries, `--json` results, data lines for a pipe, notes, failures
 * and Effect logs.
 *
 * Invariants: every character printed passes through the redactor built from the configured secrets (the
 * passwords of both URLs) and core's credential patterns, errors included; with `--json`, stdout carries
 * exactly one JSON object per run (the result, or the failure with `ok: false`) and nothing else; notes,
 * progress and logs go to stderr.
 */
import { makeRedactor } from "@enrich-sync/core"
import { redactingLogger } from "@enrich-sync/engine"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import { configuredSecrets, debugEnabled } from "./CliConfig.ts"

/** How the current run prints. */
interface Mode {
  /** the command running (`backfill`, ...), null before one starts */
  readonly command: string | null
  readonly json: boolean
  /** human text goes to stderr because stdout carries data (ids for a pipe) */
  readonly stdoutIsData: boolean
  /** the JSON object of the run was written */
  readonly resultWritten: boolean
}

/** The output of one run. */
export interface OutputShape {
  /** removes every configured secret and credential pattern from `text` */
  readonly redact: (text: string) => string
  /** ENRICH_SYNC_DEBUG is on: failures print their full cause (redacted) */
  readonly debug: boolean
  /** stdout is a terminal (not a pipe or a file) */
  readonly stdoutIsTerminal: boolean
  /** starts the run of `command`; with `json`, the result is one JSON object on stdout */
  readonly begin: (command: string, options: { readonly json: boolean }) => Effect.Effect<void>
  /** whether the run prints JSON */
  readonly isJson: Effect.Effect<boolean>
  /** human text (a summary) on stdout, or stderr when stdout carries data; nothing with `--json` */
  readonly print: (text: string) => Effect.Effect<void>
  /** a line on stderr, whatever the mode (notes, prompts) */
  readonly note: (text: string) => Effect.Effect<void>
  /** from now on stdout carries data lines and human text goes to stderr */
  readonly useStdoutForData: Effect.Effect<void>
  /** data lines on stdout (ids for `revalidate | promote`) */
  readonly data: (lines: ReadonlyArray<string>) => Effect.Effect<void>
  /** the result of the run: with `--json`, the one JSON object (`command`, `ok: true`, then `fields`) */
  readonly result: (fields: Readonly<Record<string, unknown>>) => Effect.Effect<void>
  /**
   * a failure: `enrich-sync: <line>` on stderr, and with `--json` the one JSON object (`ok: false`, `error`)
   * unless a result was already written
   */
  readonly failure: (line: string, error: Readonly<Record<string, unknown>>) => Effect.Effect<void>
}

const write = (stream: NodeJS.WriteStream, text: string) =>
  Effect.sync(() => {
    stream.write(text.endsWith("\n") ? text : `${text}\n`)
  })

// a reader that went away (`enrich-sync revalidate | head`) is not an error of ours
const ignoreBrokenPipe = (stream: NodeJS.WriteStream) => {
  if (stream.listenerCount("error") === 0) {
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code !== "EPIPE") throw e
    })
  }
}

/** Builds the output of a run on `redact`. */
export const makeOutput = (redact: (text: string) => string, debug = false): Effect.Effect<OutputShape> =>
  Effect.gen(function* () {
    ignoreBrokenPipe(process.stdout)
    ignoreBrokenPipe(process.stderr)
    const mode = yield* Ref.make<Mode>({
      command: null,
      json: false,
      stdoutIsData: false,
      resultWritten: false
    })
    const json = (value: unknown) => redact(JSON.stringify(value))
    const writeJsonOnce = (object: Record<string, unknown>) =>
      Ref.modify(mode, (m) => [
        m.json && !m.resultWritten,
        { ...m, resultWritten: m.resultWritten || m.json }
      ]).pipe(Effect.flatMap((first) => (first ? write(process.stdout, json(object)) : Effect.void)))
    return {
      redact,
      debug,
      stdoutIsTerminal: process.stdout.isTTY === true,
      begin: (command, options) => Ref.update(mode, (m) => ({ ...m, command, json: options.json })),
      isJson: Effect.map(Ref.get(mode), (m) => m.json),
      print: (text) =>
        Effect.flatMap(Ref.get(mode), (m) =>
          m.json ? Effect.void : write(m.stdoutIsData ? process.stderr : process.stdout, redact(text))
        ),
      note: (text) => write(process.stderr, redact(text)),
      useStdoutForData: Ref.update(mode, (m) => ({ ...m, stdoutIsData: true })),
      data: (lines) => (lines.length === 0 ? Effect.void : write(process.stdout, redact(lines.join("\n")))),
      result: (fields) =>
        Effect.flatMap(Ref.get(mode), (m) => writeJsonOnce({ command: m.command, ok: true, ...fields })),
      failure: (line, error) =>
        Effect.flatMap(Ref.get(mode), (m) =>
          write(process.stderr, redact(`enrich-sync: ${line}`)).pipe(
            Effect.andThen(writeJsonOnce({ command: m.command, ok: false, error }))
          )
        )
    } satisfies OutputShape
  })

/** The output of the run. */
export class Output extends Context.Service<Output, OutputShape>()("@enrich-sync/cli/Output") {
  /**
   * The output with a redactor of the configured secrets, and Effect's logger replaced by one that writes
   * redacted lines to stderr.
   */
  static readonly layer: Layer.Layer<Output> = Layer.unwrap(
    Effect.gen(function* () {
      const redact = makeRedactor(yield* configuredSecrets)
      const output = yield* makeOutput(redact, yield* debugEnabled)
      return Layer.merge(Layer.succeed(Output)(output), redactingLogger(redact, "stderr"))
    })
  )
}

/** Lays out rows as aligned columns, two spaces apart: a column holding a number is right-aligned. */
export const formatTable = (rows: ReadonlyArray<ReadonlyArray<string | number>>, indent = "  "): string => {
  const cells = rows.map((row) => row.map((c) => (typeof c === "number" ? c.toLocaleString("en-US") : c)))
  const widths: Array<number> = []
  const numeric: Array<boolean> = []
  rows.forEach((row, r) => {
    row.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cells[r]![i]!.length)
      if (typeof c === "number") numeric[i] = true
    })
  })
  return cells
    .map(
      (row) =>
        indent +
        row
          .map((c, i) => (numeric[i] === true ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
          .join("  ")
          .trimEnd()
    )
    .join("\n")
}

/** A duration in a summary table: `12.3s`. */
export const formatSeconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`
