import { assert, describe, it } from "@effect/vitest"
import { CliError } from "effect/cli"
import { usageLine } from "../src/Cli.ts"
import { formatTable } from "../src/Output.ts"

describe("usage errors", () => {
  it("are one line naming the problem and the help to read", () => {
    const line = usageLine(
      [
        new CliError.UnrecognizedOption({
          option: "--dryrun",
          command: ["enrich-sync", "push"],
          suggestions: ["--dry-run"]
        })
      ],
      ["enrich-sync", "push"]
    )
    assert.strictEqual(
      line,
      "unknown flag --dryrun for `enrich-sync push` (did you mean --dry-run?); run `enrich-sync push --help` for its flags"
    )
    const value = usageLine(
      [new CliError.InvalidValue({ option: "batch-size", value: "x", expected: "integer", kind: "flag" })],
      ["enrich-sync", "backfill"]
    )
    assert.notInclude(value, "\n")
    assert.include(value, '--batch-size: "x"')
  })
})

describe("formatTable", () => {
  it("aligns columns: columns of numbers right, text left", () => {
    assert.strictEqual(
      formatTable([
        ["entity", "rows", "note"],
        ["company", 1190, "ok"],
        ["people", 5, ""]
      ]),
      ["  entity    rows  note", "  company  1,190  ok", "  people       5"].join("\n")
    )
  })
})
