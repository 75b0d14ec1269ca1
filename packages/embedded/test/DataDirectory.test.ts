/**
 * Data directories: a throw-away one is copied from the cached template and removed with its scope; a
 * persistent one is initialised once with a stored password (0600) and then reused as it is, never
 * initialised again; a folder that is neither empty nor a cluster, or a cluster without its password, is
 * refused with a message that says so; a damaged template copy is initialised for real instead.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { cp, rm } from "node:fs/promises"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { type DataDirectory, initialiseInstead, prepareDataDirectory } from "../src/DataDirectory.ts"
import { resolveBinaries, resolveRunAs } from "../src/PostgresBinaries.ts"
import { temporaryFolder } from "./support/Processes.ts"

const programs = Effect.promise(async () => ({ binaries: resolveBinaries(), runAs: await resolveRunAs() }))

/** A temporary parent folder the postgres user can enter, removed with the scope. */
const parentFolder = temporaryFolder("datadir-test")

describe("DataDirectory", () => {
  it.live("a throw-away cluster is a copy of the template, removed when its scope closes", () =>
    Effect.gen(function* () {
      const { binaries, runAs } = yield* programs
      const directory: DataDirectory = yield* Effect.scoped(
        Effect.gen(function* () {
          const directory = yield* prepareDataDirectory({
            name: "throw away",
            binaries,
            runAs,
            durable: false
          })
          assert.isDefined(directory.template)
          assert.isDefined(directory.tempRoot)
          assert.strictEqual(directory.password, directory.template?.password)
          assert.isTrue(directory.dataDir.startsWith(directory.tempRoot!))
          assert.isTrue(existsSync(join(directory.dataDir, "PG_VERSION")))
          assert.strictEqual(directory.version, expectedVersion(binaries.kind))
          assert.isTrue(directory.logFile.startsWith(directory.tempRoot!))
          return directory
        })
      )
      assert.isFalse(existsSync(directory.tempRoot!), "the temporary folder goes with the scope")
    })
  )

  it.live("a persistent cluster is created once with a stored password, then reused as it is", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { binaries, runAs } = yield* programs
        const dataDir = join(yield* parentFolder, "cluster")
        const options = { name: "persistent", binaries, runAs, durable: false, dataDir }
        const first = yield* Effect.scoped(prepareDataDirectory(options))
        assert.isUndefined(first.tempRoot)
        assert.isUndefined(first.template)
        assert.strictEqual(first.logFile, join(dataDir, "enrich-sync-postgres.log"))
        const stored = join(dataDir, "enrich-sync.password")
        assert.strictEqual(readFileSync(stored, "utf8").trim(), first.password)
        assert.strictEqual(statSync(stored).mode & 0o777, 0o600)
        // a file of our own in the cluster: initialising again would refuse or wipe it
        writeFileSync(join(dataDir, "kept"), "x")
        const second = yield* Effect.scoped(prepareDataDirectory(options))
        assert.strictEqual(second.password, first.password)
        assert.isTrue(existsSync(join(dataDir, "kept")), "the cluster was reused, not initialised again")
        assert.isTrue(existsSync(dataDir), "a persistent cluster stays when its scope closes")
        // a given password wins over the stored one
        const given = yield* Effect.scoped(prepareDataDirectory({ ...options, password: "given" }))
        assert.strictEqual(given.password, "given")
      })
    )
  )

  it.live("refuses a folder that is neither empty nor a cluster, and a cluster without its password", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { binaries, runAs } = yield* programs
        const parent = yield* parentFolder
        const busy = join(parent, "busy")
        mkdirSync(busy)
        writeFileSync(join(busy, "something"), "x")
        const notCluster = yield* Effect.scoped(
          prepareDataDirectory({ name: "busy", binaries, runAs, durable: false, dataDir: busy })
        ).pipe(Effect.flip)
        assert.strictEqual(notCluster.reason, "Start")
        assert.include(notCluster.message, "is neither empty nor a PostgreSQL data directory")

        const dataDir = join(parent, "cluster")
        const options = { name: "no password", binaries, runAs, durable: false, dataDir }
        yield* Effect.scoped(prepareDataDirectory(options))
        yield* Effect.promise(() => rm(join(dataDir, "enrich-sync.password")))
        const noPassword = yield* Effect.scoped(prepareDataDirectory(options)).pipe(Effect.flip)
        assert.include(noPassword.message, "holds a cluster but no enrich-sync.password: pass the password")
      })
    )
  )

  it.live(
    "a copy of a damaged template is initialised for real, with a new password, and the template discarded",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const { binaries, runAs } = yield* programs
          const options = { name: "damaged", binaries, runAs, durable: false }
          const directory = yield* prepareDataDirectory(options)
          // a template of this test's own (the shared cache stays as it is)
          const root = yield* parentFolder
          yield* Effect.promise(() =>
            cp(directory.template!.dataDir, join(root, "data"), { recursive: true })
          )
          const copy = { ...directory, template: { root, dataDir: join(root, "data"), password: "old" } }
          const instead = yield* initialiseInstead(copy, options)!
          assert.isUndefined(instead.template)
          assert.notStrictEqual(instead.password, "old")
          assert.strictEqual(instead.dataDir, directory.dataDir)
          assert.isTrue(existsSync(join(instead.dataDir, "PG_VERSION")))
          assert.isFalse(existsSync(root), "the damaged template is discarded")
          assert.isUndefined(initialiseInstead({ ...directory, template: undefined }, options))
        })
      )
  )
})

const expectedVersion = (kind: "embedded" | "system") => (kind === "embedded" ? 18 : 15)
