/**
 * The daemon's health server as a test reads it: the port it bound (`ENRICH_SYNC_HEALTH_PORT=0` picks one,
 * and the daemon logs it), `/readyz`, and the write counters of `/health`.
 */
import type { DaemonProcess } from "./DaemonProcess.ts"

/** The port of the daemon's health server, from its log line (waits for it). */
export const healthPortOf = async (daemon: DaemonProcess, timeoutMs = 30_000): Promise<number> => {
  const line = await daemon.waitFor(/health on http:\/\/127\.0\.0\.1:\d+/, timeoutMs)
  return Number(/health on http:\/\/127\.0\.0\.1:(\d+)/.exec(line)?.[1])
}

/** `/readyz`: its status (0 when nothing answers) and body. */
export const readyz = async (
  port: number
): Promise<{ readonly status: number; readonly role?: string; readonly reason?: string }> => {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`)
    const body = (await response.json()) as { role?: string; reason?: string }
    return {
      status: response.status,
      ...(body.role === undefined ? {} : { role: body.role }),
      ...(body.reason === undefined ? {} : { reason: body.reason })
    }
  } catch {
    return { status: 0 }
  }
}

/** Waits until `/readyz` answers as `wanted` says; fails after `timeoutMs` with the last answer. */
export const awaitReadyz = async (
  port: number,
  what: string,
  wanted: (answer: Awaited<ReturnType<typeof readyz>>) => boolean,
  timeoutMs: number
) => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const answer = await readyz(port)
    if (wanted(answer)) return answer
    if (Date.now() > deadline)
      throw new Error(`timed out waiting until ${what}: /readyz answers ${JSON.stringify(answer)}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** The counters of the writes the daemon made (`/health`): rows inserted and updated, pushes, conflicts. */
export const writeCounters = async (port: number): Promise<Readonly<Record<string, number>>> => {
  const body = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as Record<string, unknown>
  return Object.fromEntries(
    ["inserted", "updated", "pushed", "conflicts", "promoted", "removed"].map((k) => [k, Number(body[k])])
  )
}
