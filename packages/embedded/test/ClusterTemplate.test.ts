/**
 * Clusters made by `initdb` (password authentication only, small WAL segments for a test cluster), the
 * cached template built once and then reused, and its copies.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { cloneTemplate, clusterTemplate, initCluster, randomPassword } from "../src/ClusterTemplate.ts"
import { resolveBinaries, resolveRunAs } from "../src/PostgresBinaries.ts"
import { temporaryFolder } from "./support/Processes.ts"

const folder = temporaryFolder("cluster-test")

describe("ClusterTemplate", () => {
  it("makes URL-safe random passwords", () => {
    const a = randomPassword()
    assert.match(a, /^[A-Za-z0-9_-]{24}$/)
    assert.notStrictEqual(a, randomPassword())
  })

  it.live(
    "initdb makes a cluster with password authentication only, and 1 MB WAL segments when not durable",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const binaries = resolveBinaries()
          const runAs = yield* Effect.promise(() => resolveRunAs())
          const dataDir = join(yield* folder, "data")
          yield* Effect.promise(() =>
            initCluster({ binaries, runAs, dataDir, password: "pw", durable: false })
          )
          assert.isTrue(existsSync(join(dataDir, "PG_VERSION")))
          const hba = readFileSync(join(dataDir, "pg_hba.conf"), "utf8")
          assert.match(hba, /^host\s+all\s+all\s+127\.0\.0\.1\/32\s+scram-sha-256$/m)
          assert.notMatch(hba, /^[^#]*\btrust\b/m)
          const segments = readdirSync(join(dataDir, "pg_wal")).filter((f) => /^[0-9A-F]{24}$/.test(f))
          assert.isNotEmpty(segments)
          for (const segment of segments)
            assert.strictEqual(statSync(join(dataDir, "pg_wal", segment)).size, 1024 * 1024)
        })
      )
  )

  it.live("the template is built once and then reused; a copy is a whole cluster", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const binaries = resolveBinaries()
        const runAs = yield* Effect.promise(() => resolveRunAs())
        const first = yield* Effect.promise(() => clusterTemplate(binaries, runAs))
        const again = yield* Effect.promise(() => clusterTemplate(binaries, runAs))
        assert.deepStrictEqual(again, first)
        const copy = join(yield* folder, "copy")
        yield* Effect.promise(() => cloneTemplate(first, copy))
        assert.strictEqual(
          readFileSync(join(copy, "PG_VERSION"), "utf8"),
          readFileSync(join(first.dataDir, "PG_VERSION"), "utf8")
        )
      })
    )
  )
})
