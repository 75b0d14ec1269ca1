/**
 * A link with a round-trip time, for the bench: a TCP proxy on 127.0.0.1 in front of one server that
 * holds every byte for half the round trip in each direction, so a program connected through it sees a
 * WAN (a round trip costs `rttMs`) while the server stays on loopback.
 *
 * Each direction is a timed queue: a chunk read at time t is written at t + rtt/2, in the order it was
 * read (the queue's due times only grow, so nothing is reordered). A connection's set-up costs one round
 * trip, as TCP's handshake does: the client's first bytes leave no earlier than one round trip after it
 * connected (TLS, which hosted servers require, is not modelled). Flow control: a direction holds at most
 * `windowBytes` in flight (its source is paused above that, resumed below half of it), and when the far
 * side does not take bytes (its socket's buffer is full) the queue waits for it, so a slow reader slows the
 * writer down as TCP does; bandwidth is otherwise not limited (at most `windowBytes` per half round trip).
 * A FIN is delayed like the bytes before it and ends the other side's writing half (half-close kept); an
 * error on either side (a reset, a refused connection) destroys both at once.
 *
 * Invariant: the bytes of each direction arrive intact and in order, each no earlier than rtt/2 after it
 * left; an error on one connection is counted and ends that connection only, never the proxy or the
 * process.
 */
import { createServer, type Server, Socket } from "node:net"

/** How a link behaves. */
export interface LatencyProxyOptions {
  /** the server behind the proxy */
  readonly target: { readonly host: string; readonly port: number }
  /** the round trip to add, in ms (each direction gets half of it) */
  readonly rttMs: number
  /** bytes in flight per direction before its source is paused (default 4 MiB, a WAN TCP window) */
  readonly windowBytes?: number
  /** the connection's set-up costs one round trip, as TCP's handshake does (default true) */
  readonly handshake?: boolean
  /** the port to listen on (default: any free port) */
  readonly port?: number
}

/** What a link carried. */
export interface LinkStats {
  readonly connections: number
  readonly openConnections: number
  /** bytes client -> server, server -> client */
  readonly bytesUp: number
  readonly bytesDown: number
  /** connections ended by an error (a reset, a refused connection to the server) */
  readonly errors: number
  /** the most bytes one direction held at once */
  readonly maxQueuedBytes: number
  /** times a direction paused its source because its window was full */
  readonly pauses: number
  /**
   * exchanges: each time a client sent bytes after it had received some, i.e. a request that followed a
   * reply (a round trip the client waited for, unless it pipelines; a replication stream's feedback
   * messages count too)
   */
  readonly exchanges: number
}

/** A running link. */
export interface LatencyProxy {
  readonly port: number
  readonly rttMs: number
  readonly stats: () => LinkStats
  /** stops listening and destroys every open connection */
  readonly close: () => Promise<void>
}

const defaultWindow = 4 * 1024 * 1024

/** One direction's item: bytes, or the end of the stream (a FIN). */
interface Item {
  readonly due: number
  readonly chunk: Buffer | null
}

/**
 * One direction of one connection: reads `from`, writes `to` each chunk `delay` ms after it was read,
 * no earlier than `notBefore()`.
 */
const direction = (
  from: Socket,
  to: Socket,
  delay: number,
  windowBytes: number,
  notBefore: () => number,
  count: (bytes: number) => void,
  onRead: () => void,
  onQueued: (bytes: number) => void,
  onPause: () => void
) => {
  const queue: Array<Item> = []
  let head = 0
  let queued = 0
  let paused = false
  let waitingForDrain = false
  let timer: ReturnType<typeof setTimeout> | null = null

  const arm = () => {
    if (timer !== null || waitingForDrain || head >= queue.length) return
    const wait = queue[head]!.due - performance.now()
    timer = setTimeout(flush, Math.max(0, Math.ceil(wait)))
  }

  const flush = () => {
    timer = null
    if (to.destroyed) return
    const now = performance.now()
    to.cork()
    while (head < queue.length && queue[head]!.due <= now) {
      const item = queue[head++]!
      if (item.chunk === null) {
        to.end()
        continue
      }
      queued -= item.chunk.length
      count(item.chunk.length)
      if (!to.write(item.chunk)) {
        waitingForDrain = true
        to.once("drain", () => {
          waitingForDrain = false
          flush()
        })
        break
      }
    }
    to.uncork()
    if (head === queue.length) {
      queue.length = 0
      head = 0
    } else if (head > 1024) {
      queue.splice(0, head)
      head = 0
    }
    if (paused && queued <= windowBytes / 2 && !from.destroyed) {
      paused = false
      from.resume()
    }
    if (head < queue.length && queue[head]!.due > now) arm()
  }

  const enqueue = (chunk: Buffer | null) => {
    const last = queue.length > head ? queue[queue.length - 1]!.due : 0
    // never earlier than the item before it: the queue stays in order whatever the clock does
    queue.push({ due: Math.max(last, Math.max(performance.now(), notBefore()) + delay), chunk })
    if (chunk !== null) {
      queued += chunk.length
      onQueued(queued)
      if (queued > windowBytes && !paused) {
        paused = true
        onPause()
        from.pause()
      }
    }
    arm()
  }

  from.on("data", (chunk: Buffer) => {
    onRead()
    enqueue(chunk)
  })
  from.on("end", () => enqueue(null))
  return {
    stop: () => {
      if (timer !== null) clearTimeout(timer)
      timer = null
      queue.length = 0
      head = 0
    }
  }
}

/** Starts a link in front of `options.target`; resolves once it listens. */
export const startLatencyProxy = (options: LatencyProxyOptions): Promise<LatencyProxy> => {
  const delay = options.rttMs / 2
  const windowBytes = options.windowBytes ?? defaultWindow
  const handshake = options.handshake ?? true
  const open = new Set<Socket>()
  const stats = {
    connections: 0,
    openConnections: 0,
    bytesUp: 0,
    bytesDown: 0,
    errors: 0,
    maxQueuedBytes: 0,
    pauses: 0,
    exchanges: 0
  }
  const onQueued = (bytes: number) => {
    if (bytes > stats.maxQueuedBytes) stats.maxQueuedBytes = bytes
  }
  const onPause = () => {
    stats.pauses++
  }

  const server: Server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    stats.connections++
    stats.openConnections++
    let closedSockets = 0
    const closed = () => {
      if (++closedSockets === 2) stats.openConnections--
    }
    const accepted = performance.now()
    const upstream = new Socket({ allowHalfOpen: true })
    upstream.setNoDelay(true)
    open.add(client)
    open.add(upstream)
    let failed = false
    // whether the server sent something since the client last did (the next client bytes are an exchange)
    let replied = false
    const fail = () => {
      if (failed) return
      failed = true
      stats.errors++
      up.stop()
      down.stop()
      client.destroy()
      upstream.destroy()
    }
    // the client's first bytes leave once the handshake's round trip is over
    const up = direction(
      client,
      upstream,
      delay,
      windowBytes,
      () => (handshake ? accepted + options.rttMs : 0),
      (n) => {
        stats.bytesUp += n
      },
      () => {
        if (replied) stats.exchanges++
        replied = false
      },
      onQueued,
      onPause
    )
    const down = direction(
      upstream,
      client,
      delay,
      windowBytes,
      () => 0,
      (n) => {
        stats.bytesDown += n
      },
      () => {
        replied = true
      },
      onQueued,
      onPause
    )
    client.on("error", fail)
    upstream.on("error", fail)
    client.on("close", () => {
      open.delete(client)
      closed()
      // the client is gone for good: nothing more can reach it, and nothing from it is still owed
      if (!upstream.destroyed && client.readableEnded === false) fail()
    })
    upstream.on("close", () => {
      open.delete(upstream)
      closed()
      if (!client.destroyed && upstream.readableEnded === false) fail()
    })
    upstream.connect(options.target.port, options.target.host)
  })
  server.on("error", () => undefined)

  return new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject)
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      resolve({
        port,
        rttMs: options.rttMs,
        stats: () => ({ ...stats }),
        close: () =>
          new Promise<void>((done) => {
            for (const socket of open) socket.destroy()
            open.clear()
            server.close(() => done())
          })
      })
    })
  })
}
