/**
 * The process that carries the bench's links (`node bench/src/LinkProcess.ts`, forked with an IPC channel
 * by `Links.ts`): one `LatencyProxy` per server, in a process of its own so that its timers are not held
 * up by the bench's load generators (and theirs not by it), and its CPU time is measured apart.
 *
 * Protocol (IPC messages): the parent sends `{ rttMs, targets: [{ name, host, port }] }`; the child
 * answers `{ ports: { name: port } }` once every link listens (or `{ error }`); `"stats"` is answered
 * with `{ stats: { name: LinkStats } }`.
 *
 * Invariant: the process exits when its parent goes away (the IPC channel closes), so a killed bench
 * leaves no link behind.
 */
import { type LatencyProxy, type LinkStats, startLatencyProxy } from "./LatencyProxy.ts"

/** What the parent asks for. */
export interface LinkRequest {
  readonly rttMs: number
  readonly targets: ReadonlyArray<{ readonly name: string; readonly host: string; readonly port: number }>
}

/** What the child answers. */
export type LinkReply =
  | { readonly ports: Readonly<Record<string, number>> }
  | { readonly stats: Readonly<Record<string, LinkStats>> }
  | { readonly error: string }

const send = (reply: LinkReply) => process.send?.(reply)

const proxies = new Map<string, LatencyProxy>()

process.on("disconnect", () => process.exit(0))
process.on("message", (message: unknown) => {
  if (message === "stats") {
    send({ stats: Object.fromEntries([...proxies].map(([name, p]) => [name, p.stats()])) })
    return
  }
  const request = message as LinkRequest
  Promise.all(
    request.targets.map(async (t) => {
      const proxy = await startLatencyProxy({ target: { host: t.host, port: t.port }, rttMs: request.rttMs })
      proxies.set(t.name, proxy)
      return [t.name, proxy.port] as const
    })
  ).then(
    (ports) => send({ ports: Object.fromEntries(ports) }),
    (error: unknown) => send({ error: String(error) })
  )
})
