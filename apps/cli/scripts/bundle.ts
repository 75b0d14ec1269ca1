/**
 * Builds the installable `enrich-sync` package: one ES module bundle per program (`dist/enrich-sync.js`,
 * `dist/syncd.js`, with the chunks they share), holding our own code (the apps and every `@enrich-sync/*`
 * package they use) and Effect's runtime (`effect`, `@effect/platform-node`: one copy, only the modules
 * the programs use, without their documentation comments, which V8 would otherwise keep in memory as
 * module source), and importing every other third-party package at run time from the package's
 * `dependencies`. The licences of the bundled packages go into `dist/THIRD-PARTY-LICENSES.md`. The bins
 * (`bin/*.js`) check the Node version, then load these bundles.
 *
 * Invariant: a bundle imports nothing that is not a dependency of this package or a Node built-in: an
 * import of anything else fails the build (so a package forgotten in `dependencies` cannot be silently
 * bundled, nor a test framework reach the bundle).
 *
 *   node scripts/bundle.ts        (run by `pnpm run build`, and by `pnpm pack` through `prepack`)
 */
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { build, type Metafile, type Plugin } from "esbuild"

const packageDir = fileURLToPath(new URL("..", import.meta.url))
const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  readonly dependencies: Readonly<Record<string, string>>
}
const dependencies = new Set(Object.keys(manifest.dependencies))

/**
 * Bundled rather than imported: Effect's runtime (see above), by name: any other `@effect/*` package (such
 * as `@effect/vitest`) imported by run-time code still fails the build.
 */
const bundledPackages = new Set(["effect", "@effect/platform-node", "@effect/platform-node-shared"])
const bundled = (name: string): boolean => bundledPackages.has(name)

/** The package a bare specifier names (`@scope/name/sub` -> `@scope/name`, `name/sub` -> `name`). */
const packageOf = (specifier: string): string => {
  const parts = specifier.split("/")
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier)
}

/** Our packages and Effect's are bundled; dependencies stay imports; anything else is an error. */
const onlyDependencies: Plugin = {
  name: "only-dependencies",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith("node:")) return { path: args.path, external: true }
      const name = packageOf(args.path)
      if (name.startsWith("@enrich-sync/") || bundled(name)) return undefined
      if (dependencies.has(name)) return { path: args.path, external: true }
      return {
        errors: [
          {
            text: `${args.path} (imported by ${args.importer}) is not a dependency of the enrich-sync package: add ${name} to apps/cli/package.json's dependencies, or stop importing it from run-time code`
          }
        ]
      }
    })
  }
}

/** The folder of the package an input file of the build belongs to (`.../node_modules/<name>`), if any. */
const packageDirOf = (input: string): string | undefined => {
  const at = input.lastIndexOf("node_modules/")
  if (at < 0) return undefined
  const rest = input.slice(at + "node_modules/".length).split("/")
  const name = rest[0]?.startsWith("@") ? rest.slice(0, 2).join("/") : rest[0]
  return join(packageDir, input.slice(0, at), "node_modules", name ?? "")
}

/** The name, version and licence text of every third-party package with code in the bundles. */
const thirdPartyLicenses = (meta: Metafile): string => {
  const dirs = new Set(
    Object.keys(meta.inputs)
      .map(packageDirOf)
      .filter((d) => d !== undefined)
  )
  const sections = [...dirs].sort().map((dir) => {
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
      readonly name: string
      readonly version: string
      readonly license?: string
    }
    const file = ["LICENSE", "LICENSE.md", "LICENSE.txt", "license"].map((f) => join(dir, f)).find(existsSync)
    if (file === undefined) throw new Error(`${pkg.name} is bundled but has no LICENSE file in ${dir}`)
    return `## ${pkg.name} ${pkg.version} (${pkg.license ?? "see below"})\n\n${readFileSync(file, "utf8").trim()}\n`
  })
  return `# Third-party code in these bundles\n\n${sections.join("\n")}`
}

rmSync(new URL("../dist", import.meta.url), { recursive: true, force: true })
const { metafile } = await build({
  absWorkingDir: packageDir,
  entryPoints: { "enrich-sync": "src/bin.ts", syncd: "../syncd/src/main.ts" },
  outdir: "dist",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node22.18",
  sourcemap: true,
  legalComments: "none",
  logLevel: "warning",
  plugins: [onlyDependencies],
  metafile: true
})
writeFileSync(new URL("../dist/THIRD-PARTY-LICENSES.md", import.meta.url), thirdPartyLicenses(metafile))
copyFileSync(new URL("../../../LICENSE", import.meta.url), new URL("../LICENSE", import.meta.url))
