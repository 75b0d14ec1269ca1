/**
 * The engine's three rooms import one way: `store/` imports neither `merge/` nor `stages/`, `merge/` does
 * not import `stages/`, and only `store/` reaches into `store/internal/` (the one module that touches the
 * driver). Read from the sources' import and export statements, resolved to files.
 */
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"

const src = resolve(dirname(fileURLToPath(import.meta.url)), "../src")

const sources = (dir: string): Array<string> =>
  readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".ts"))
    .map((file) => join(dir, file))

/** The files a source imports or re-exports from within the package. */
const localImports = (file: string): Array<string> =>
  [...readFileSync(file, "utf8").matchAll(/(?:from|import)\s*\(?\s*"(\.[^"]+)"/g)].map((m) =>
    resolve(dirname(file), m[1]!)
  )

/** The room of a source: `store`, `merge`, `stages`, or `root` for the package's own top-level files. */
const roomOf = (file: string): string => {
  const [first, ...rest] = relative(src, file).split("/")
  return rest.length === 0 ? "root" : first!
}

/** What each room may import besides itself. */
const allowed: { readonly [room: string]: ReadonlyArray<string> } = {
  store: [],
  merge: ["store"],
  stages: ["merge", "store"],
  root: ["store", "merge", "stages"]
}

/** Every import that goes against the direction, as `importer -> imported`. */
const violations = (files: ReadonlyArray<string>): Array<string> =>
  files.flatMap((file) =>
    localImports(file).flatMap((target) => {
      const from = roomOf(file)
      const to = roomOf(target)
      const internal = relative(src, target).startsWith("store/internal/")
      const ok = (from === to || allowed[from]!.includes(to)) && (!internal || from === "store")
      return ok ? [] : [`${relative(src, file)} -> ${relative(src, target)}`]
    })
  )

describe("the engine's rooms", () => {
  it("are store, merge and stages, beside the package's index", () => {
    const rooms = new Set(sources(src).map(roomOf))
    assert.deepStrictEqual([...rooms].sort(), ["merge", "root", "stages", "store"])
  })

  it("import one way: stages -> merge -> store, and only store reaches store/internal", () => {
    assert.deepStrictEqual(violations(sources(src)), [])
  })
})
