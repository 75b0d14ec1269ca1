/**
 * The environment variables the code reads, found by scanning the sources of every app and package
 * (`apps/<name>/src`, `packages/<name>/src`): string literals `"ENRICH_SYNC_…"`, `"NEON_…"`, `"SUPABASE_…"`
 * and `process.env.X`. The README test and the docs test hold their documents to this list.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join, relative } from "node:path"

/** The repository's root folder. */
export const repositoryRoot = join(import.meta.dirname, "..", "..", "..", "..")

const sources = (dir: string): ReadonlyArray<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sources(join(dir, entry.name))
      : entry.name.endsWith(".ts")
        ? [join(dir, entry.name)]
        : []
  )

/** Every variable read, with the first file (relative to the root) that reads it. */
export const variablesRead = (): Map<string, string> => {
  const found = new Map<string, string>()
  const folders = ["apps", "packages"].flatMap((top) =>
    readdirSync(join(repositoryRoot, top)).map((name) => join(repositoryRoot, top, name, "src"))
  )
  for (const folder of folders) {
    for (const file of sources(folder)) {
      const text = readFileSync(file, "utf8")
      const names = [
        ...text.matchAll(/"((?:ENRICH_SYNC|NEON|SUPABASE)_[A-Z0-9_]+)"/g),
        ...text.matchAll(/process\.env\.([A-Z][A-Z0-9_]+)/g)
      ].map((m) => m[1]!)
      for (const name of names) if (!found.has(name)) found.set(name, relative(repositoryRoot, file))
    }
  }
  return found
}
