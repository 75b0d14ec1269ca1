/**
 * The README documents every environment variable the code reads: each name the daemon, the CLI, the
 * engine, the listeners or the test harness reads (`"ENRICH_SYNC_…"`, `"NEON_…"`, `"SUPABASE_…"` literals,
 * `process.env.X`) appears in its configuration table. (The bench's own variables are in `bench/README.md`.)
 */

import { readdirSync, readFileSync } from "node:fs"
import { join, relative } from "node:path"
import { assert, describe, it } from "@effect/vitest"

const root = join(import.meta.dirname, "..", "..", "..")

const sources = (dir: string): ReadonlyArray<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sources(join(dir, entry.name))
      : entry.name.endsWith(".ts")
        ? [join(dir, entry.name)]
        : []
  )

const variablesRead = (): Map<string, string> => {
  const found = new Map<string, string>()
  const folders = ["apps", "packages"].flatMap((top) =>
    readdirSync(join(root, top)).map((name) => join(root, top, name, "src"))
  )
  for (const folder of folders) {
    for (const file of sources(folder)) {
      const text = readFileSync(file, "utf8")
      const names = [
        ...text.matchAll(/"((?:ENRICH_SYNC|NEON|SUPABASE)_[A-Z0-9_]+)"/g),
        ...text.matchAll(/process\.env\.([A-Z][A-Z0-9_]+)/g)
      ].map((m) => m[1]!)
      for (const name of names) if (!found.has(name)) found.set(name, relative(root, file))
    }
  }
  return found
}

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
