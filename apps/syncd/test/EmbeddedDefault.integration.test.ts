/**
 * The embedded default (`EmbeddedDefault`) when its servers cannot start: the error names the server, its
 * folder, the cause and the ways out, the folder's data is kept, and nothing is seeded or written. Only
 * folders that fail before any server runs are used here, so no Postgres server is started beside the test
 * run's own: the embedded servers' start, migration, seeding once, `embedded.env` (0600) and Realtime
 * stand-in are covered end to end by `Startup.integration.test.ts`.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { EmbeddedDefaultError, startEmbeddedDefault } from "../src/EmbeddedDefault.ts"

/** A data folder of the test's own, removed after `use`. */
const withDataDir = <A, E, R>(use: (dir: string) => Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "syncd-embedded-"))),
    use,
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

/** Fills the server folder `name` of `dir` with `files`, so that no server can start there. */
const occupy = (dir: string, name: "neon" | "workspace", files: Record<string, string>) => {
  mkdirSync(join(dir, name))
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, name, file), text)
}

/** Nothing of a started demo is in `dir`: no seeding marker, no URL file. */
const assertNothingWritten = (dir: string) => {
  assert.isFalse(existsSync(join(dir, "demo-seeded")))
  assert.isFalse(existsSync(join(dir, "embedded.env")))
}

describe("EmbeddedDefault", () => {
  it.effect(
    "a folder that holds no cluster: fails naming the server, its folder and the ways out; keeps it",
    () =>
      withDataDir((dir) =>
        Effect.gen(function* () {
          occupy(dir, "neon", { "stray.txt": "not a cluster" })
          occupy(dir, "workspace", { "stray.txt": "not a cluster" })
          const error = yield* Effect.flip(startEmbeddedDefault(dir).pipe(Effect.scoped))
          assert.instanceOf(error, EmbeddedDefaultError)
          const server = /could not start the embedded (neon|workspace) server in (\S+) \(/.exec(
            error.message
          )
          assert.isNotNull(server)
          assert.strictEqual(server?.[2], join(dir, server?.[1] ?? ""))
          // the cause is the server's own folder's
          assert.include(error.message, `${server?.[2]} is neither empty nor a PostgreSQL data directory`)
          assert.include(error.message, "its data is kept")
          assert.include(error.message, "ENRICH_SYNC_DATA_DIR")
          assert.include(error.message, "NEON_DATABASE_URL and SUPABASE_DATABASE_URL")
          assert.isDefined(error.cause)
          for (const name of ["neon", "workspace"])
            assert.strictEqual(readFileSync(join(dir, name, "stray.txt"), "utf8"), "not a cluster")
          assertNothingWritten(dir)
        })
      )
  )

  it.effect("a cluster whose password file is gone: fails with the server's reason, touching nothing", () =>
    withDataDir((dir) =>
      Effect.gen(function* () {
        occupy(dir, "neon", { PG_VERSION: "17\n" })
        occupy(dir, "workspace", { PG_VERSION: "17\n" })
        const error = yield* Effect.flip(startEmbeddedDefault(dir).pipe(Effect.scoped))
        assert.instanceOf(error, EmbeddedDefaultError)
        assert.match(error.message, /could not start the embedded (neon|workspace) server in /)
        assert.include(error.message, "holds a cluster but no")
        for (const name of ["neon", "workspace"])
          assert.strictEqual(readFileSync(join(dir, name, "PG_VERSION"), "utf8"), "17\n")
        assertNothingWritten(dir)
      })
    )
  )
})
