import { once } from "node:events"
import { connect, createServer } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { linkDelta, openLinks, targetOf, withPort } from "../src/Links.ts"

describe("Links", () => {
  it("points a URL at a link, keeping user, password, database and parameters", () => {
    const url = "postgresql://bench:s%40cret@127.0.0.1:5432/bench_neon?sslmode=disable"
    assert.deepStrictEqual(targetOf(url), { host: "127.0.0.1", port: 5432 })
    const linked = new URL(withPort(url, 40001))
    assert.strictEqual(linked.port, "40001")
    assert.strictEqual(linked.username, "bench")
    assert.strictEqual(linked.password, "s%40cret")
    assert.strictEqual(linked.pathname, "/bench_neon")
    assert.strictEqual(linked.searchParams.get("sslmode"), "disable")
  })

  it.effect("leaves everything as it is at 0 ms (no proxy at all)", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const links = yield* openLinks(0, { neon: { host: "127.0.0.1", port: 5432 } })
        assert.isNull(links.pid)
        assert.strictEqual(
          links.url("neon", "postgresql://u@127.0.0.1:5432/d"),
          "postgresql://u@127.0.0.1:5432/d"
        )
        assert.strictEqual(links.port("neon"), 5432)
        assert.isNull(yield* Effect.promise(() => links.stats()))
      })
    )
  )

  it.effect("carries a connection through a link process, and stops it with the scope", () =>
    Effect.gen(function* () {
      const echo = createServer((s) => s.pipe(s))
      echo.listen(0, "127.0.0.1")
      yield* Effect.promise(() => once(echo, "listening"))
      const port = (echo.address() as { port: number }).port
      const pid = yield* Effect.scoped(
        Effect.gen(function* () {
          const links = yield* openLinks(30, { echo: { host: "127.0.0.1", port } })
          assert.notStrictEqual(links.port("echo"), port)
          const before = yield* Effect.promise(() => links.stats())
          const reply = yield* Effect.promise(async () => {
            const socket = connect(links.port("echo"), "127.0.0.1")
            await once(socket, "connect")
            const started = performance.now()
            socket.write("ping")
            const [data] = (await once(socket, "data")) as [Buffer]
            const ms = performance.now() - started
            socket.end()
            return { text: data.toString(), ms }
          })
          assert.strictEqual(reply.text, "ping")
          // the handshake's round trip, then one each way
          assert.isAtLeast(reply.ms, 55)
          const delta = linkDelta(before, yield* Effect.promise(() => links.stats()))
          assert.strictEqual(delta?.echo?.bytesUp, 4)
          assert.strictEqual(delta?.echo?.bytesDown, 4)
          assert.strictEqual(delta?.echo?.connections, 1)
          return links.pid!
        })
      )
      // the link process is gone once the scope closed
      assert.throws(() => process.kill(pid, 0))
      echo.close()
    })
  )
})
