/**
 * Which build of the programs the bench measures. By default the `enrich-sync` package as it ships: its
 * bundles (`apps/cli/dist/syncd.js`, `apps/cli/dist/enrich-sync.js`), what the installed `syncd` and
 * `enrich-sync` bins and the container image run, built at the start of the run by the package's own build
 * (`apps/cli/scripts/bundle.ts`, which `pnpm pack` runs). With `--from-source`, the TypeScript sources that
 * the repository's `pnpm start` and `pnpm enrich-sync` run (Node strips their types as it loads them, which
 * costs about 30 MB of resident memory). Either way with the node flags of the root package.json's script.
 *
 * Invariant: a run measures the code of its commit: the bundles are built afresh before anything runs.
 */
import { execFileSync } from "node:child_process"
import { existsSync } from "node:fs"
import { basename, join } from "node:path"
import { repoRoot, scriptCommand } from "./NodeChild.ts"

/** The package's bundles, or the repository's sources. */
export type Program = "package" | "source"

/** Where the package's bundles are built, from the repository root. */
export const bundleDir = "apps/cli/dist"

/** Builds the package's bundles (as `pnpm pack` does) in `bundleDir`; returns how long it took (seconds). */
export const buildPackage = (): number => {
  const started = performance.now()
  execFileSync(process.execPath, [join(repoRoot, "apps/cli/scripts/bundle.ts")], {
    cwd: join(repoRoot, "apps/cli"),
    stdio: ["ignore", "ignore", "inherit"]
  })
  for (const bin of ["syncd.js", "enrich-sync.js"]) {
    if (!existsSync(join(repoRoot, bundleDir, bin)))
      throw new Error(`the package's build (apps/cli/scripts/bundle.ts) made no ${bundleDir}/${bin}`)
  }
  return Math.round(performance.now() - started) / 1000
}

/**
 * The command of the root package.json's script `name` (`start`, `enrich-sync`): its node flags, and its
 * program from the sources, or the package's bundle of the same bin (`bin/syncd.js` -> `dist/syncd.js`).
 */
export const programCommand = (
  name: "start" | "enrich-sync",
  program: Program
): { readonly nodeFlags: ReadonlyArray<string>; readonly script: string } => {
  const command = scriptCommand(name)
  return program === "source"
    ? command
    : { nodeFlags: command.nodeFlags, script: `${bundleDir}/${basename(command.script)}` }
}
