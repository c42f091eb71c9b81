/**
 * A TCP proxy in front of a real database, to take the database away from a running store: `forward` passes
 * traffic, `refuse` drops every open connection and closes new ones at once (a database that went down), `hang`
 * drops open connections and leaves new ones unanswered (a host that stopped answering).
 */
import { Effect, type Scope } from "effect"
import { createConnection, createServer, type Socket } from "node:net"

export type Mode = "forward" | "refuse" | "hang"

export interface Proxy {
  readonly port: number
  readonly setMode: (mode: Mode) => Effect.Effect<void>
}

export const tcpProxy = (targetPort: number): Effect.Effect<Proxy, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<{ proxy: Proxy; close: () => void }>((resume) => {
      let mode: Mode = "forward"
      const open = new Set<Socket>()
      const track = (socket: Socket) => {
        open.add(socket)
        socket.on("close", () => open.delete(socket))
        socket.on("error", () => socket.destroy())
      }
      const server = createServer((client) => {
        track(client)
        if (mode === "refuse") return client.destroy()
        if (mode === "hang") return
        const upstream = createConnection({ host: "127.0.0.1", port: targetPort })
        track(upstream)
        client.pipe(upstream).pipe(client)
        client.on("close", () => upstream.destroy())
        upstream.on("close", () => client.destroy())
      })
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        const port = typeof address === "object" && address !== null ? address.port : 0
        resume(Effect.succeed({
          proxy: {
            port,
            setMode: (next) =>
              Effect.sync(() => {
                mode = next
                if (next !== "forward") { for (const socket of open) socket.destroy() }
              })
          },
          close: () => {
            for (const socket of open) socket.destroy()
            server.close()
          }
        }))
      })
    }),
    ({ close }) => Effect.sync(close)
  ).pipe(Effect.map(({ proxy }) => proxy))
