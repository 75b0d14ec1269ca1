/**
 * `syncd`: the enrich-sync daemon. Configuration comes from the environment (and `.env`); see the README.
 */

import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { makeRedactor } from "@enrich-sync/core"
import { redactingLogger } from "@enrich-sync/engine"
import * as Effect from "effect/Effect"
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
