/** A TCP port for a private server of a test's own. */
import { Effect } from "effect"
import { createServer } from "node:net"

/** A port on which nothing listens: bound by the OS, then released. */
export const freePort: Effect.Effect<number> = Effect.promise(() =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
)
