/**
 * `syncd` as a program: `--help` lists every variable with its default and the examples, `--version`
 * prints the package's version, and an unknown flag or command is one line on stderr with the way to the
 * help and exit code 2, without starting anything.
 */
import { assert, describe, it } from "@effect/vitest"
import packageJson from "../package.json" with { type: "json" }
import { syncdVariables } from "../src/SyncdVariables.ts"
import { startDaemon } from "./support/DaemonProcess.ts"

const run = async (args: ReadonlyArray<string>) => {
  const daemon = startDaemon({ ENRICH_SYNC_DATA_DIR: "/nonexistent/never-created" }, undefined, args)
  const code = await daemon.exited
  return { code, output: daemon.output() }
}

describe("syncd command line", () => {
  it("--help lists every variable with its default, the check command and examples", async () => {
    const { code, output } = await run(["--help"])
    assert.strictEqual(code, 0)
    for (const variable of syncdVariables) {
      const line = output.split("\n").find((l) => l.trimStart().startsWith(`${variable.name} `))
      assert.isDefined(line, `${variable.name} is listed`)
    }
    const plainDefault = (text: string) => text.replaceAll("`", "").replace(/^\((.*)\)$/, "$1")
    const flat = output.replace(/\s+/g, " ")
    for (const variable of syncdVariables) {
      assert.include(flat, `(default: ${plainDefault(variable.default)})`, variable.name)
    }
    assert.match(output, /SUBCOMMANDS\s+check\s/)
    assert.include(output, "EXAMPLES")
    assert.include(output, "syncd check")
    assert.notInclude(output, "--wizard")
  })

  it("--version prints the version and exits", async () => {
    const { code, output } = await run(["--version"])
    assert.strictEqual(code, 0)
    assert.strictEqual(output.trim(), `syncd v${packageJson.version}`)
  })

  it("an unknown flag or command exits 2 with one line naming it and the way to --help", async () => {
    for (const [args, problem] of [
      [["--bogus"], "unknown flag --bogus"],
      [["chek"], 'unknown command "chek"'],
      [["check", "--nope"], "unknown flag --nope"]
    ] as const) {
      const { code, output } = await run(args)
      assert.strictEqual(code, 2, args.join(" "))
      assert.strictEqual(
        output.trim(),
        `syncd: ${problem}; run \`syncd --help\` for the commands, flags and variables`
      )
    }
  })
})
