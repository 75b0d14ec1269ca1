/**
 * `syncd`: the enrich-sync daemon's entry (run through `apps/cli/bin/syncd.js`, which checks the Node
 * version first). Configuration comes from the environment (and `.env`); `syncd --help` lists it.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { makeRedactor } from "@enrich-sync/core"
import { redactingLogger } from "@enrich-sync/engine"
import * as Effect from "effect/Effect"
import { main } from "./Cli.ts"
import { configProviderLayer } from "./SyncdConfig.ts"

main.pipe(
  Effect.tapError((error) =>
    error instanceof Error ? Effect.logError(`syncd stopped: ${error.message}`) : Effect.void
  ),
  Effect.provide(configProviderLayer),
  Effect.provide(NodeServices.layer),
  Effect.provide(redactingLogger(makeRedactor([]), "stdout")),
  NodeRuntime.runMain({ disableErrorReporting: true })
)
