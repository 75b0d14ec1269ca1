/**
 * The bench's link: bytes intact and in order both ways, each direction held for about half the round
 * trip (bounds generous: this is behaviour, not speed), a slow reader pausing the writer instead of
 * filling the proxy's memory, and ends and failures reaching the other side.
 */
import { randomBytes } from "node:crypto"
import { once } from "node:events"
import { connect, createServer, type Server, type Socket } from "node:net"
import { afterEach, assert, describe, it } from "@effect/vitest"
import { type LatencyProxy, startLatencyProxy } from "../src/LatencyProxy.ts"

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f()
})

/** A server on a free loopback port, closed after the test. */
const serve = async (onConnection: (socket: Socket) => void, allowHalfOpen = false): Promise<Server> => {
  const server = createServer({ allowHalfOpen }, onConnection)
  const sockets = new Set<Socket>()
  server.on("connection", (s) => {
    sockets.add(s)
    s.on("close", () => sockets.delete(s))
  })
  server.listen(0, "127.0.0.1")
  await once(server, "listening")
  cleanups.push(
    () =>
      new Promise((done) => {
        for (const s of sockets) s.destroy()
        server.close(() => done())
      })
  )
  return server
}

const portOf = (server: Server) => {
  const address = server.address()
  if (typeof address !== "object" || address === null) throw new Error("not listening")
  return address.port
}

const link = async (server: Server | number, rttMs: number, windowBytes?: number): Promise<LatencyProxy> => {
  const proxy = await startLatencyProxy({
    target: { host: "127.0.0.1", port: typeof server === "number" ? server : portOf(server) },
    rttMs,
    ...(windowBytes === undefined ? {} : { windowBytes })
  })
  cleanups.push(() => proxy.close())
  return proxy
}

const dial = async (port: number, allowHalfOpen = false): Promise<Socket> => {
  const socket = connect({ port, host: "127.0.0.1", allowHalfOpen })
  await once(socket, "connect")
  cleanups.push(async () => {
    socket.destroy()
  })
  return socket
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Resolves with the first chunk `socket` reads, and when it read it. */
const nextChunk = (socket: Socket) =>
  new Promise<{ at: number; data: Buffer }>((resolve) =>
    socket.once("data", (data: Buffer) => resolve({ at: performance.now(), data }))
  )

describe("LatencyProxy", () => {
  it("carries bytes both ways intact and in order, through a small window", async () => {
    const echo = await serve((s) => s.pipe(s))
    const proxy = await link(echo, 10, 64 * 1024)
    const socket = await dial(proxy.port)
    const sent = randomBytes(3 * 1024 * 1024)
    const received: Array<Buffer> = []
    let length = 0
    const all = new Promise<void>((resolve) =>
      socket.on("data", (chunk: Buffer) => {
        received.push(chunk)
        length += chunk.length
        if (length >= sent.length) resolve()
      })
    )
    // many writes of uneven sizes
    for (let at = 0; at < sent.length; ) {
      const size = 1 + Math.floor(Math.random() * 40_000)
      socket.write(sent.subarray(at, at + size))
      at += size
    }
    await all
    assert.isTrue(Buffer.concat(received).equals(sent))
    const stats = proxy.stats()
    assert.strictEqual(stats.bytesUp, sent.length)
    assert.strictEqual(stats.bytesDown, sent.length)
    assert.strictEqual(stats.errors, 0)
    assert.isAbove(stats.pauses, 0, "the window paused the source at least once")
  })

  it("holds each direction for about half the round trip, and the handshake for one round trip", async () => {
    const rtt = 200
    let serverSocket: Socket | undefined
    const server = await serve((s) => {
      serverSocket = s
    })
    const proxy = await link(server, rtt)
    const socket = await dial(proxy.port)
    const connectedAt = performance.now()
    // the first bytes leave after the handshake's round trip, then take half a round trip
    const firstArrives = new Promise<{ at: number; data: Buffer }>((resolve) => {
      const wait = () => (serverSocket === undefined ? setTimeout(wait, 1) : resolve(nextChunk(serverSocket)))
      wait()
    })
    socket.write("hello")
    const first = await firstArrives
    assert.strictEqual(first.data.toString(), "hello")
    const handshake = first.at - connectedAt
    assert.isAtLeast(handshake, 1.5 * rtt - 5)
    assert.isBelow(handshake, 1.5 * rtt + 300)

    // then each direction costs half a round trip
    const up = nextChunk(serverSocket!)
    const sentAt = performance.now()
    socket.write("ping")
    const arrived = await up
    assert.strictEqual(arrived.data.toString(), "ping")
    assert.isAtLeast(arrived.at - sentAt, rtt / 2 - 5)
    assert.isBelow(arrived.at - sentAt, rtt / 2 + 150)
    const down = nextChunk(socket)
    const repliedAt = performance.now()
    serverSocket!.write("pong")
    const back = await down
    assert.strictEqual(back.data.toString(), "pong")
    assert.isAtLeast(back.at - repliedAt, rtt / 2 - 5)
    assert.isBelow(back.at - repliedAt, rtt / 2 + 150)
    // requests that followed no reply are no exchange; one that follows a reply is
    assert.strictEqual(proxy.stats().exchanges, 0)
    const again = nextChunk(serverSocket!)
    socket.write("again")
    await again
    assert.strictEqual(proxy.stats().exchanges, 1)
  })

  it("lets a slow reader hold the writer back instead of queueing without bound", async () => {
    const window = 256 * 1024
    let serverSocket: Socket | undefined
    const server = await serve((s) => {
      serverSocket = s
      s.pause()
    })
    const proxy = await link(server, 2, window)
    const socket = await dial(proxy.port)
    const sent = randomBytes(16 * 1024 * 1024)
    const accepted = socket.write(sent)
    assert.isFalse(accepted, "16 MiB cannot all be taken at once")
    await sleep(500)
    // the reader takes nothing: the bytes wait in sockets' buffers, not in the proxy's queue
    assert.isAtMost(proxy.stats().maxQueuedBytes, window + 1024 * 1024)
    assert.isAbove(socket.writableLength, 0, "the writer still holds bytes it could not send")
    const received: Array<Buffer> = []
    let length = 0
    const all = new Promise<void>((resolve) =>
      serverSocket!.on("data", (chunk: Buffer) => {
        received.push(chunk)
        length += chunk.length
        if (length >= sent.length) resolve()
      })
    )
    serverSocket!.resume()
    await all
    assert.isTrue(Buffer.concat(received).equals(sent))
  })

  it("passes a half-close along after the bytes before it, and the other side's end back", async () => {
    const rtt = 60
    const server = await serve((s) => {
      const chunks: Array<Buffer> = []
      s.on("data", (c: Buffer) => chunks.push(c))
      // answers once the client has finished sending, then ends its own half
      s.on("end", () => s.end(`got ${Buffer.concat(chunks).toString()}`))
    }, true)
    const proxy = await link(server, rtt)
    const socket = await dial(proxy.port, true)
    const answer: Array<Buffer> = []
    socket.on("data", (c: Buffer) => answer.push(c))
    socket.end("request")
    const ended = performance.now()
    await once(socket, "end")
    assert.strictEqual(Buffer.concat(answer).toString(), "got request")
    assert.isAtLeast(performance.now() - ended, rtt - 5, "the FIN and the answer each took half a round trip")
    await once(socket, "close")
    await sleep(50)
    assert.strictEqual(proxy.stats().openConnections, 0)
    assert.strictEqual(proxy.stats().errors, 0)
  })

  it("closes the client when the server resets or cannot be reached, and keeps serving", async () => {
    const server = await serve((s) => {
      s.on("data", () => s.resetAndDestroy())
    })
    const proxy = await link(server, 10)
    const socket = await dial(proxy.port)
    socket.on("error", () => undefined)
    socket.write("x")
    await once(socket, "close")
    assert.strictEqual(proxy.stats().errors, 1)

    const nowhere = await link(await freePortOf(), 10)
    const lonely = await dial(nowhere.port)
    lonely.on("error", () => undefined)
    await once(lonely, "close")
    assert.strictEqual(nowhere.stats().errors, 1)

    // the first proxy still works
    const again = await dial(proxy.port)
    again.on("error", () => undefined)
    again.write("y")
    await once(again, "close")
    assert.strictEqual(proxy.stats().connections, 2)
  })
})

/** A port nothing listens on (bound, then released). */
const freePortOf = async () => {
  const probe = createServer()
  probe.listen(0, "127.0.0.1")
  await once(probe, "listening")
  const port = portOf(probe)
  await new Promise((r) => probe.close(r))
  return port
}
