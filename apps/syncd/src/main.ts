/**
 * `syncd`: the enrich-sync daemon. Configuration comes from the environment (and `.env`); see the README.
 */

import { NodeRuntime } from "@effect/platform-node"
import { makeRedactor } from "@enrich-sync/core"
import { redactingLogger } from "@enrich-sync/engine"
import { Effect } from "effect"
import { runDaemon } from "./Daemon.ts"
import { configProviderLayer } from "./SyncdConfig.ts"

runDaemon.pipe(
  Effect.tapError((error) =>
    Effect.logError(`syncd stopped: ${error instanceof Error ? error.message : String(error)}`)
  ),
  Effect.provide(configProviderLayer),
  Effect.provide(redactingLogger(makeRedactor([]), "stdout")),
  NodeRuntime.runMain({ disableErrorReporting: true })
)
