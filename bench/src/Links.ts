/**
 * The links of one run: for a round trip above zero, a `LinkProcess` child with one `LatencyProxy` per
 * server (Neon, the workspace, the Realtime stand-in), and the URLs the programs under test get, pointing
 * at those proxies; for a round trip of zero, no proxy at all (the URLs stay as they are). The load
 * writers and the bench's own set-up and checks keep the direct URLs.
 *
 * Invariant: the child is gone when the scope closes (interrupted or not), and with the bench if it dies.
 */
import { type ChildProcess, fork } from "node:child_process"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { LinkStats } from "./LatencyProxy.ts"
import type { LinkReply, LinkRequest } from "./LinkProcess.ts"

/** The servers a run links to, by name, each with its host and port. */
export type LinkTargets = Readonly<Record<string, { readonly host: string; readonly port: number }>>

/** The links of one run. */
export interface Links {
  readonly rttMs: number
  /** the link process (null without links) */
  readonly pid: number | null
  /** the port a program connects to for `name` (the server's own port without links) */
  readonly port: (name: string) => number
  /** `url` with its host and port replaced by the link to `name` (unchanged without links) */
  readonly url: (name: string, url: string) => string
  /** what each link carried so far (null without links) */
  readonly stats: () => Promise<Readonly<Record<string, LinkStats>> | null>
}

/** `url`'s host and port as a link target. */
export const targetOf = (url: string): { readonly host: string; readonly port: number } => {
  const parsed = new URL(url)
  return { host: parsed.hostname, port: Number(parsed.port) }
}

/** `url` pointing at 127.0.0.1:`port` instead (user, password, database and parameters kept). */
export const withPort = (url: string, port: number): string => {
  const parsed = new URL(url)
  parsed.hostname = "127.0.0.1"
  parsed.port = String(port)
  return parsed.toString()
}

const linkScript = new URL("./LinkProcess.ts", import.meta.url)

const request = (child: ChildProcess, message: LinkRequest | "stats", want: "ports" | "stats") =>
  new Promise<LinkReply>((resolve, reject) => {
    const onMessage = (reply: LinkReply) => {
      if (want in reply || "error" in reply) {
        child.off("message", onMessage)
        child.off("exit", onExit)
        resolve(reply)
      }
    }
    const onExit = (code: number | null) => reject(new Error(`the link process exited (${code})`))
    child.on("message", onMessage)
    child.once("exit", onExit)
    child.send(message)
  })

/** Opens the links of a run at `rttMs` to `targets` for the scope. */
export const openLinks = (rttMs: number, targets: LinkTargets): Effect.Effect<Links, Error, Scope.Scope> =>
  rttMs === 0
    ? Effect.succeed({
        rttMs,
        pid: null,
        port: (name) => portOf(targets, name),
        url: (_name, url) => url,
        stats: async () => null
      })
    : Effect.gen(function* () {
        const child = yield* Effect.acquireRelease(
          Effect.sync(() =>
            fork(linkScript, [], { execArgv: [], stdio: ["ignore", "ignore", "inherit", "ipc"] })
          ),
          (c) =>
            Effect.promise(
              () =>
                new Promise<void>((done) => {
                  if (c.exitCode !== null || c.signalCode !== null) return done()
                  c.once("exit", () => done())
                  c.kill("SIGTERM")
                })
            )
        )
        const reply = yield* Effect.tryPromise({
          try: () =>
            request(
              child,
              {
                rttMs,
                targets: Object.entries(targets).map(([name, t]) => ({ name, host: t.host, port: t.port }))
              },
              "ports"
            ),
          catch: (e) => (e instanceof Error ? e : new Error(String(e)))
        })
        if (!("ports" in reply))
          return yield* Effect.fail(
            new Error(`the links did not start: ${"error" in reply ? reply.error : ""}`)
          )
        const ports = reply.ports
        const port = (name: string) => {
          const p = ports[name]
          if (p === undefined) throw new Error(`no link named ${name}`)
          return p
        }
        return {
          rttMs,
          pid: child.pid ?? null,
          port,
          url: (name, url) => withPort(url, port(name)),
          stats: () =>
            request(child, "stats", "stats").then(
              (r) => ("stats" in r ? r.stats : null),
              () => null
            )
        } satisfies Links
      })

const portOf = (targets: LinkTargets, name: string) => {
  const t = targets[name]
  if (t === undefined) throw new Error(`no link named ${name}`)
  return t.port
}

/** What each link carried between two readings of `stats()`. */
export type LinkDelta = Readonly<
  Record<
    string,
    {
      readonly exchanges: number
      readonly connections: number
      readonly bytesUp: number
      readonly bytesDown: number
      readonly errors: number
    }
  >
>

/** What each link carried from `before` to `after` (null without links). */
export const linkDelta = (
  before: Readonly<Record<string, LinkStats>> | null,
  after: Readonly<Record<string, LinkStats>> | null
): LinkDelta | null => {
  if (before === null || after === null) return null
  return Object.fromEntries(
    Object.entries(after).map(([name, a]) => {
      const b = before[name]
      return [
        name,
        {
          exchanges: a.exchanges - (b?.exchanges ?? 0),
          connections: a.connections - (b?.connections ?? 0),
          bytesUp: a.bytesUp - (b?.bytesUp ?? 0),
          bytesDown: a.bytesDown - (b?.bytesDown ?? 0),
          errors: a.errors - (b?.errors ?? 0)
        }
      ]
    })
  )
}
