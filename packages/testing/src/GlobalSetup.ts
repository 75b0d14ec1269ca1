/**
 * The vitest global setup of the whole repo: one "neon" and one "supabase" PostgreSQL server per vitest
 * run, started in parallel, provided to every project as `inject("postgres")`.
 *
 * Invariant: at most one pair of servers exists per vitest process, however many times vitest calls the
 * setup (once per project that lists it): the pair is a `globalThis` singleton with a reference count, and
 * it is stopped when the last caller's teardown runs. If vitest dies before teardown, the servers' orphan
 * guards stop them.
 */

import { type PostgresServer, type ServerInfo, serverInfo, startPostgresServer } from "@enrich-sync/embedded"
import { inject } from "vitest"
import type { TestProject } from "vitest/node"

/** The servers every test can reach. */
export interface InjectedServers {
  /** plays Neon: the source with the invalid and master tables */
  readonly neon: ServerInfo
  /** plays Supabase: the enrichment workspace */
  readonly supabase: ServerInfo
}

declare module "vitest" {
  export interface ProvidedContext {
    postgres: InjectedServers
  }
}

interface Shared {
  refs: number
  servers: Promise<{ readonly neon: PostgresServer; readonly supabase: PostgresServer }>
}

const key = Symbol.for("@enrich-sync/testing/GlobalSetup")
type WithShared = typeof globalThis & { [key]?: Shared }

const startBoth = async () => {
  const [neon, supabase] = await Promise.allSettled([
    startPostgresServer({ name: "neon" }),
    startPostgresServer({ name: "supabase" })
  ])
  if (neon.status === "fulfilled" && supabase.status === "fulfilled") {
    return { neon: neon.value, supabase: supabase.value }
  }
  await Promise.all([neon, supabase].map((r) => (r.status === "fulfilled" ? r.value.stop() : undefined)))
  throw neon.status === "rejected" ? neon.reason : (supabase as PromiseRejectedResult).reason
}

/** vitest's global setup: starts (or joins) the shared servers and returns the teardown. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const global = globalThis as WithShared
  let shared = global[key]
  if (shared === undefined) {
    const servers = startBoth()
    const created: Shared = { refs: 0, servers }
    shared = created
    global[key] = created
    // a failed start is not cached: the next caller tries again
    servers.catch(() => {
      if (global[key] === created) delete global[key]
    })
  }
  shared.refs++
  const mine = shared
  try {
    const { neon, supabase } = await mine.servers
    project.provide("postgres", { neon: serverInfo(neon), supabase: serverInfo(supabase) })
  } catch (cause) {
    mine.refs--
    throw cause
  }
  let tornDown = false
  return async () => {
    if (tornDown) return
    tornDown = true
    mine.refs--
    if (mine.refs > 0) return
    if (global[key] === mine) delete global[key]
    const { neon, supabase } = await mine.servers
    await Promise.all([neon.stop(), supabase.stop()])
  }
}

/** In a test: the shared servers started by the global setup. */
export const injectedServers = (): InjectedServers => inject("postgres")
