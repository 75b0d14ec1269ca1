/**
 * A port on 127.0.0.1 that nothing listens on, for the URL of a server that is not there: the port of a
 * server just opened and closed again, so that connecting to it is refused at once.
 */
import { createServer } from "node:net"
import * as Effect from "effect/Effect"

/** A port on 127.0.0.1 that nothing listens on. */
export const closedPort: Effect.Effect<number> = Effect.promise(
  () =>
    new Promise<number>((resolve, reject) => {
      const server = createServer()
      server.once("error", reject)
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        const port = typeof address === "object" && address !== null ? address.port : 0
        server.close(() => resolve(port))
      })
    })
)
