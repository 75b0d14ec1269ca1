/**
 * What a run of the CLI printed and how it ended, and how the tests read it: a success or a one-line
 * failure, the one JSON object of a `--json` run and its per-entity reports, and no password anywhere.
 */

import { assert } from "@effect/vitest"

/** What a run printed and how it ended. */
export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Fails the test when a secret appears in what a run printed. */
export const assertNoSecret = (result: CliResult, secrets: ReadonlyArray<string>): void => {
  for (const secret of secrets) {
    for (const form of new Set([secret, encodeURIComponent(secret)])) {
      assert.notInclude(result.stdout, form, "a password appeared on stdout")
      assert.notInclude(result.stderr, form, "a password appeared on stderr")
    }
  }
}

/** The one JSON object a `--json` run printed on stdout. */
export const parseJson = (result: CliResult): Record<string, unknown> => {
  const lines = result.stdout.trim().split("\n")
  assert.strictEqual(lines.length, 1, `stdout holds exactly one line of JSON: ${result.stdout}`)
  return JSON.parse(lines[0]!) as Record<string, unknown>
}

/**
 * Of each entity's report in a `--json` result (its `entities`, in order), the values at `paths`, each a
 * dotted path such as `merge.pushed` (undefined where the report has no such value).
 */
export const entityColumns = (
  result: Record<string, unknown>,
  ...paths: ReadonlyArray<string>
): Array<Array<unknown>> => {
  assert.isArray(result.entities, `the result lists its entities: ${JSON.stringify(result)}`)
  const at = (value: unknown, path: string) =>
    path.split(".").reduce((inner, name) => (inner as Record<string, unknown> | undefined)?.[name], value)
  return (result.entities as Array<unknown>).map((entity) => paths.map((path) => at(entity, path)))
}

/** Asserts a failed run: the exit code, and stderr being one line `enrich-sync: ...` that includes every `parts`. */
export const assertFailure = (result: CliResult, code: number, ...parts: ReadonlyArray<string>): string => {
  assert.strictEqual(result.code, code, `exit code (stderr: ${result.stderr})`)
  const lines = result.stderr.trim().split("\n")
  assert.strictEqual(lines.length, 1, `stderr is one line: ${result.stderr}`)
  const line = lines[0]!
  assert.isTrue(line.startsWith("enrich-sync: "), line)
  for (const part of parts) assert.include(line, part)
  return line
}

/** Asserts a successful run. */
export const assertSuccess = (result: CliResult): CliResult => {
  assert.strictEqual(
    result.code,
    0,
    `exit code 0 expected; stderr: ${result.stderr}; stdout: ${result.stdout}`
  )
  return result
}
