/**
 * `syncd`: the enrich-sync daemon's entry (run through `apps/cli/bin/syncd.js`, which checks the Node
 * version first). Configuration comes from the environment (and `.env`); `syncd --help` lists it.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import { main } from "./Cli.ts"
import { logLayer, Redactor } from "./Log.ts"
import { configProviderLayer } from "./SyncdConfig.ts"

main.pipe(
  // a usage error and a failed check have printed their lines already; a defect (a bug) prints its whole
  // cause, so that no stop is ever silent
  Effect.tapCause((cause) => {
    if (Cause.hasInterruptsOnly(cause)) return Effect.void
    const error = Option.getOrUndefined(Cause.findErrorOption(cause))
    if (error !== undefined)
      return error instanceof Error ? Effect.logError(`syncd stopped: ${error.message}`) : Effect.void
    return Effect.logError(`syncd stopped on a defect (please report it): ${Cause.pretty(cause)}`)
  }),
  Effect.provide(Layer.provideMerge(logLayer, Redactor.layer)),
  Effect.provide(Layer.mergeAll(configProviderLayer, NodeServices.layer)),
  // a stop asked for (SIGTERM, SIGINT) that finished cleanly is a success, as supervisors expect
  NodeRuntime.runMain({
    disableErrorReporting: true,
    teardown: (exit, onExit) =>
      Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause)
        ? onExit(0)
        : Runtime.defaultTeardown(exit, onExit)
  })
)
