/**
 * The global setup is a reference-counted singleton: every caller gets the same pair of servers, and the
 * pair stops only when the last caller tears down. (Run here against a pair of its own, with a stand-in
 * for vitest's project that records what is provided.)
 */
import { assert, describe, it } from "@effect/vitest"
import { connectionUrl, type ServerInfo } from "@enrich-sync/embedded"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import pg from "pg"
import type { TestProject } from "vitest/node"
import setup, { type InjectedServers } from "../src/GlobalSetup.ts"

const ping = (server: ServerInfo) =>
  Effect.exit(
    Effect.tryPromise(async () => {
      const client = new pg.Client({
        connectionString: connectionUrl(server),
        connectionTimeoutMillis: 2_000
      })
      client.on("error", () => undefined)
      await client.connect()
      await client.end()
    })
  )

const project = () => {
  const provided: Array<InjectedServers> = []
  const stand = {
    provide: (key: string, value: InjectedServers) => key === "postgres" && provided.push(value)
  }
  return { project: stand as unknown as TestProject, provided }
}

describe("GlobalSetup", () => {
  it.live("shares one pair of servers between callers and stops it after the last teardown", () =>
    Effect.gen(function* () {
      // this worker is not the process that ran the real global setup, so it starts its own pair here
      const a = project()
      const b = project()
      const teardownA = yield* Effect.promise(() => setup(a.project))
      const teardownB = yield* Effect.promise(() => setup(b.project))
      const [first] = a.provided
      const [second] = b.provided
      assert.isDefined(first)
      assert.deepStrictEqual(second, first)
      assert.strictEqual(first!.neon.name, "neon")
      assert.strictEqual(first!.supabase.name, "supabase")
      assert.notStrictEqual(first!.neon.port, first!.supabase.port)
      // plain data: what vitest sends to workers
      assert.deepStrictEqual(structuredClone(first), first)

      yield* Effect.promise(() => teardownA())
      yield* Effect.promise(() => teardownA()) // a second call does not count twice
      assert.isTrue(Exit.isSuccess(yield* ping(first!.neon)), "still up while B uses it")
      yield* Effect.promise(() => teardownB())
      assert.isTrue(Exit.isFailure(yield* ping(first!.neon)))
      assert.isTrue(Exit.isFailure(yield* ping(first!.supabase)))
    })
  )
})
