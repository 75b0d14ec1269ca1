/**
 * The README documents every environment variable the code reads: each name the daemon, the CLI, the
 * engine, the listeners or the test harness reads (`"ENRICH_SYNC_…"`, `"NEON_…"`, `"SUPABASE_…"` literals,
 * `process.env.X`) appears in its configuration table. (The bench's own variables are in `bench/README.md`.)
 */

import { readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { repositoryRoot as root, variablesRead } from "./support/VariablesRead.ts"

describe("README", () => {
  it("documents every environment variable the code reads", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8")
    const read = variablesRead()
    assert.isAtLeast(read.size, 15, "the scan finds the configuration")
    const undocumented = [...read].filter(([name]) => !readme.includes(`\`${name}\``))
    assert.deepStrictEqual(
      undocumented.map(([name, file]) => `${name} (read in ${file})`),
      [],
      "add them to the README's configuration table"
    )
  })
})
