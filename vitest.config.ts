/**
 * One vitest run for the whole repo: every package is a project, and the Postgres servers that the
 * integration tests share are started once by the global setup of `@enrich-sync/testing`.
 */
import { defineConfig } from "vitest/config"

/**
 * One package's tests. `shareWorkers`: its test files run one after another in the same worker instead of
 * a fresh one each (no per-file start and import of the whole stack: half the time for these packages),
 * for packages whose tests leave no global state behind; the daemon's and the CLI's start processes and
 * change the process' own state, and keep a worker per file.
 */
const project = (dir: string, shareWorkers = false) => {
  const name = dir.split("/")[1] ?? dir.split("/")[0] ?? dir
  return {
    extends: true as const,
    test: {
      name,
      root: dir,
      include: ["test/**/*.test.ts"],
      ...(shareWorkers ? { isolate: false } : {})
    }
  }
}

export default defineConfig({
  test: {
    globalSetup: ["packages/testing/src/GlobalSetup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    projects: [
      project("packages/core", true),
      project("packages/engine", true),
      project("packages/neon-listener", true),
      project("packages/supabase-listener"),
      project("packages/embedded"),
      project("packages/testing"),
      project("apps/syncd"),
      project("apps/cli"),
      project("bench")
    ]
  }
})
