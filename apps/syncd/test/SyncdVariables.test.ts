/**
 * The daemon's variables are listed once (`syncdVariables`), and the README's configuration table of the
 * daemon holds exactly them, with the same defaults and meanings, in the same order (`syncd --help` prints
 * the list; `Cli.test.ts` checks that); every variable the configuration reads is in the list.
 */
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { syncdVariables } from "../src/SyncdVariables.ts"

const readme = readFileSync(fileURLToPath(new URL("../../../README.md", import.meta.url)), "utf8")
const config = readFileSync(fileURLToPath(new URL("../src/SyncdConfig.ts", import.meta.url)), "utf8")

/** The rows of the first table after the daemon section's `### Configuration` heading. */
const readmeTable = (): ReadonlyArray<{ name: string; default: string; meaning: string }> => {
  const section = readme.slice(readme.indexOf("## The daemon: `syncd`"))
  const lines = section.slice(section.indexOf("### Configuration")).split("\n")
  const start = lines.findIndex((l) => l.startsWith("| variable"))
  const rows: Array<{ name: string; default: string; meaning: string }> = []
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("|")) break
    const [name = "", fallback = "", meaning = ""] = line
      .slice(1, -1)
      .split(" | ")
      .map((cell) => cell.trim())
    rows.push({ name: name.replaceAll("`", ""), default: fallback, meaning })
  }
  return rows
}

describe("syncd's variables", () => {
  it("the README's table of the daemon is the list, row for row", () => {
    assert.deepStrictEqual(
      readmeTable(),
      syncdVariables.map((v) => ({ name: v.name, default: v.default, meaning: v.meaning }))
    )
  })

  it("every variable the configuration reads is listed", () => {
    const read = new Set(
      [...config.matchAll(/"((?:ENRICH_SYNC|NEON|SUPABASE)_[A-Z0-9_]+)"/g)].map((m) => m[1]!)
    )
    assert.isAtLeast(read.size, 10, "the scan finds the configuration's variables")
    const listed = new Set(syncdVariables.map((v) => v.name))
    assert.deepStrictEqual(
      [...read].filter((name) => !listed.has(name)),
      [],
      "add them to syncdVariables (and the README)"
    )
  })
})
