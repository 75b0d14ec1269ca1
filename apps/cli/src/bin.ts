#!/usr/bin/env node
/** The `enrich-sync` executable: runs the command line, interrupted cleanly by Ctrl-C (SIGINT / SIGTERM). */
import { enableCompileCache } from "node:module"

// compiled modules are cached on disk (the OS temp folder): later starts are faster
enableCompileCache?.()
const { runMain } = await import("@effect/platform-node/NodeRuntime")
const { main } = await import("./Cli.ts")
runMain(main, { disableErrorReporting: true })
