import { assert, describe, it } from "@effect/vitest"
import { scriptCommand } from "../src/NodeChild.ts"
import { programCommand } from "../src/Program.ts"

describe("Program", () => {
  it("runs the sources as the root scripts do, or the package's bundle of the same bin, with the same flags", () => {
    assert.deepStrictEqual(programCommand("start", "source"), scriptCommand("start"))
    assert.deepStrictEqual(programCommand("enrich-sync", "source"), scriptCommand("enrich-sync"))
    for (const [name, bin] of [
      ["start", "syncd"],
      ["enrich-sync", "enrich-sync"]
    ] as const) {
      const command = programCommand(name, "package")
      assert.strictEqual(command.script, `apps/cli/dist/${bin}.js`)
      assert.deepStrictEqual(command.nodeFlags, scriptCommand(name).nodeFlags)
      assert.include(command.nodeFlags, "--heap-growing-percent=60")
    }
  })
})
