/**
 * `syncd`: the enrich-sync daemon's entry (run through `apps/cli/bin/syncd.js`, which checks the Node
 * version first). Configuration comes from the environment (and `.env`); `syncd --help` lists it.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { main } from "./Cli.ts"
import { logLayer, Redactor } from "./Log.ts"
import { configProviderLayer } from "./SyncdConfig.ts"

main.pipe(
  // a usage error and a failed check have printed their lines already
  Effect.tapError((error) =>
    error instanceof Error ? Effect.logError(`syncd stopped: ${error.message}`) : Effect.void
  ),
  Effect.provide(Layer.provideMerge(logLayer, Redactor.layer)),
  Effect.provide(Layer.mergeAll(configProviderLayer, NodeServices.layer)),
  NodeRuntime.runMain({ disableErrorReporting: true })
)
