/**
 * A file the CLI writes appears whole or not at all: the text lands at its path (replacing what was there)
 * with no temporary file left beside it, and a write that fails is one `Output` failure (exit code 1) whose
 * message the caller makes from the cause, leaving neither the file nor a partial temporary behind.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { CliFailure } from "../src/CliFailure.ts"
import { writeWholeFile } from "../src/WholeFile.ts"

/** A fresh folder for one test, removed after it. */
const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "enrich-sync-wholefile-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

/** Writes with the message the ids file uses, on the real file system. */
const write = (path: string, text: string) =>
  writeWholeFile(path, text, (cause) => `cannot write ${path} (${cause}); check that its folder exists`).pipe(
    Effect.provide(NodeServices.layer)
  )

describe("writeWholeFile", () => {
  it.effect("writes the text at the path, replacing the old file, and leaves nothing else", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const dir = yield* tempDir
        const path = join(dir, "passed.txt")
        yield* write(path, "04.04.01.01.00101.101\n")
        assert.strictEqual(readFileSync(path, "utf8"), "04.04.01.01.00101.101\n")
        writeFileSync(path, "an older and much longer text than the new one\n")
        yield* write(path, "04.04.01.01.00101.102\n")
        assert.strictEqual(readFileSync(path, "utf8"), "04.04.01.01.00101.102\n")
        assert.deepStrictEqual(readdirSync(dir), ["passed.txt"])
      })
    )
  )

  it.effect("in a folder that does not exist: an Output failure naming the path and why", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const dir = yield* tempDir
        const path = join(dir, "missing", "passed.txt")
        const failure = yield* Effect.flip(write(path, "04.04.01.01.00101.101\n"))
        assert.instanceOf(failure, CliFailure)
        assert.strictEqual(failure.reason, "Output")
        assert.strictEqual(failure.exitCode, 1)
        assert.match(failure.message, /^cannot write \S+ \(NotFound: .*\); check that its folder exists$/)
        assert.include(failure.message, `cannot write ${path} (`)
        assert.notInclude(
          failure.message,
          ".tmp",
          "the message names the file asked for, not the temporary one"
        )
        assert.deepStrictEqual(readdirSync(dir), [])
      })
    )
  )

  it.effect("onto a folder: fails, and leaves the folder as it was and no temporary file beside it", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const dir = yield* tempDir
        const path = join(dir, "out")
        mkdirSync(path)
        writeFileSync(join(path, "kept.txt"), "kept\n")
        const failure = yield* Effect.flip(write(path, "04.04.01.01.00101.101\n"))
        assert.strictEqual(failure.reason, "Output")
        assert.include(failure.message, `cannot write ${path} (`)
        assert.deepStrictEqual(readdirSync(dir), ["out"], "a partial file was left beside the path")
        assert.deepStrictEqual(readdirSync(path), ["kept.txt"])
        assert.strictEqual(readFileSync(join(path, "kept.txt"), "utf8"), "kept\n")
      })
    )
  )
})
