/**
 * Builds the installable `enrich-sync` package: one ES module bundle per program (`dist/enrich-sync.js`,
 * `dist/syncd.js`, with the chunks they share), holding our own code (the apps and every `@enrich-sync/*`
 * package they use) and importing every third-party package at run time from the package's
 * `dependencies`. The bins (`bin/*.js`) check the Node version, then load these bundles.
 *
 * Invariant: a bundle imports nothing that is not a dependency of this package or a Node built-in: an
 * import of anything else fails the build (so a package forgotten in `dependencies` cannot be silently
 * bundled, nor a test framework reach the bundle).
 *
 *   node scripts/bundle.ts        (run by `pnpm run build`, and by `pnpm pack` through `prepack`)
 */
import { copyFileSync, readFileSync, rmSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { build, type Plugin } from "esbuild"

const packageDir = fileURLToPath(new URL("..", import.meta.url))
const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  readonly dependencies: Readonly<Record<string, string>>
}
const dependencies = new Set(Object.keys(manifest.dependencies))

/** The package a bare specifier names (`@scope/name/sub` -> `@scope/name`, `name/sub` -> `name`). */
const packageOf = (specifier: string): string => {
  const parts = specifier.split("/")
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier)
}

/** Our packages are bundled; dependencies stay imports; anything else is an error. */
const onlyDependencies: Plugin = {
  name: "only-dependencies",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith("node:")) return { path: args.path, external: true }
      const name = packageOf(args.path)
      if (name.startsWith("@enrich-sync/")) return undefined
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

rmSync(new URL("../dist", import.meta.url), { recursive: true, force: true })
await build({
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
  plugins: [onlyDependencies]
})
copyFileSync(new URL("../../../LICENSE", import.meta.url), new URL("../LICENSE", import.meta.url))
