/**
 * The README's advice for machine-readable output holds: `pnpm exec enrich-sync ... --json` from the
 * repository prints exactly one JSON object on stdout and nothing of pnpm's own (`$ node ...`,
 * `[ELIFECYCLE] ...`), on success and on failure.
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { assert, describe, it } from "@effect/vitest"

const root = fileURLToPath(new URL("../../..", import.meta.url))
const run = promisify(execFile)

const pnpmExec = async (args: ReadonlyArray<string>) => {
  // only what a user's shell has: no database URL (the failure case), nothing of the test run's
  const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" }
  try {
    const { stdout, stderr } = await run("pnpm", ["exec", "enrich-sync", ...args], { cwd: root, env })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string }
    return { code: e.code ?? -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" }
  }
}

describe("pnpm exec enrich-sync", () => {
  it("prints exactly one JSON object, with none of pnpm's lines, when it fails", async () => {
    const { code, stdout, stderr } = await pnpmExec(["status", "--json"])
    assert.strictEqual(code, 1)
    const parsed = JSON.parse(stdout) as { command: string; ok: boolean; error: { reason: string } }
    assert.strictEqual(parsed.command, "status")
    assert.isFalse(parsed.ok)
    assert.strictEqual(parsed.error.reason, "Configuration")
    assert.notMatch(`${stdout}${stderr}`, /ELIFECYCLE|^\$ node/m)
  })

  it("prints only the version when it succeeds", async () => {
    const { code, stdout, stderr } = await pnpmExec(["--version"])
    assert.strictEqual(code, 0)
    assert.match(stdout, /^enrich-sync v\d+\.\d+\.\d+\n$/)
    assert.strictEqual(stderr, "")
  })
})
