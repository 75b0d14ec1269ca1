/**
 * A logger whose every line passes through a redactor before it is written, so no log line can carry a
 * credential, whatever was logged (a URL in an error message, a driver error that echoes a connection
 * string). Lines are logfmt, to stdout (the daemon) or stderr (the CLI, whose stdout is for results).
 */
import * as Logger from "effect/Logger"

/** A logger layer writing redacted logfmt lines to `stream`, replacing the default logger. */
export const redactingLogger = (redact: (text: string) => string, stream: "stdout" | "stderr") =>
  Logger.layer([
    Logger.map(Logger.formatLogFmt, (line) => {
      const out = redact(line)
      if (stream === "stdout") process.stdout.write(`${out}\n`)
      else process.stderr.write(`${out}\n`)
    })
  ])
