import { assert, describe, it } from "@effect/vitest"
import { Command } from "effect/cli"
import * as Effect from "effect/Effect"
import { withHelp } from "../src/CommandHelp.ts"
import { pushCommand } from "../src/Push.ts"
import { helpOf } from "./support/CommandLine.ts"

describe("withHelp", () => {
  it.effect(
    "gives the command its description and its examples, each a command line and what it does, in order",
    () =>
      Effect.gen(function* () {
        const command = Command.make("tidy", {}, () => Effect.void).pipe(
          withHelp(
            "Tidy the workspace",
            ["enrich-sync tidy", "tidy everything"],
            ["enrich-sync tidy --x", "tidy x"]
          )
        )
        const help = yield* helpOf(command)
        assert.strictEqual(help.description, "Tidy the workspace")
        assert.deepStrictEqual(help.examples, [
          { command: "enrich-sync tidy", description: "tidy everything" },
          { command: "enrich-sync tidy --x", description: "tidy x" }
        ])
      })
  )

  it.effect("is what the commands' --help shows", () =>
    Effect.gen(function* () {
      const help = yield* helpOf(pushCommand)
      assert.match(help.description, /^Stage 3: push enriched workspace rows/)
      assert.deepStrictEqual(
        (help.examples ?? []).map((e) => e.command),
        ["enrich-sync push", "enrich-sync push --dry-run --entity company"]
      )
    })
  )
})
