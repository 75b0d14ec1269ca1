/**
 * One vitest run for the whole repo: every package is a project, and the Postgres servers that the
 * integration tests share are started once by the global setup of `@enrich-sync/testing`.
 */
import { defineConfig } from "vitest/config"

const project = (dir: string) => {
  const name = dir.split("/")[1] ?? dir.split("/")[0] ?? dir
  return {
    extends: true as const,
    test: {
      name,
      root: dir,
      include: ["test/**/*.test.ts"]
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
      project("packages/core"),
      project("packages/engine"),
      project("packages/neon-listener"),
      project("packages/supabase-listener"),
      project("packages/embedded"),
      project("packages/testing"),
      project("apps/syncd"),
      project("apps/cli"),
      project("bench")
    ]
  }
})
