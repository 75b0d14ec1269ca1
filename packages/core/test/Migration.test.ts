import { assert, describe, it } from "@effect/vitest"
import { migrationChecksum, migrationsFor } from "../src/Migration.ts"

/**
 * The checksums of released migrations, as databases recorded them: a migration's statements never change
 * once applied somewhere (a later migration replaces what it installed), or `migrate` reports a mismatch.
 */
const released = {
  source: { 1: "bdb2722bef53259635fd26840d60176d", 2: "258427d47ce0322dbf643ec9cedd3892" },
  workspace: { 1: "c297d985db36e6f9abf4e53318f64c5a", 2: "db076e06dab7dbe05394ea039bc5fba6" }
} as const

describe("migrations", () => {
  it("keep the statements of released versions exactly", () => {
    for (const side of ["source", "workspace"] as const) {
      const checksums: Record<number, string> = released[side]
      for (const migration of migrationsFor(side).filter((m) => m.version in checksums)) {
        assert.strictEqual(
          migrationChecksum(migration),
          checksums[migration.version],
          `${side} ${migration.version}`
        )
      }
    }
  })

  it("are numbered 1, 2, 3, ... on each side", () => {
    for (const side of ["source", "workspace"] as const) {
      assert.deepStrictEqual(
        migrationsFor(side).map((m) => m.version),
        migrationsFor(side).map((_, i) => i + 1)
      )
    }
  })
})
