/**
 * A `redis-server` of a test's own on a free port, which the test may stop and start again (the shared server of
 * `USERHARBOR_TEST_REDIS_URL` is never stopped). Free of vitest, so the benchmarks can use it too.
 */
import { Effect, type Scope } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { connect as connectTcp } from "node:net"
import { killed } from "./childProcesses.js"
import { freePort } from "./freePort.js"

/** A `redis-server` of the test's own, which it may stop and start again on the same port. */
export interface PrivateRedis {
  readonly url: string
  readonly port: number
  /** Kills the server (as a crash would) and waits for it to exit. */
  readonly stop: Effect.Effect<void>
  /** Starts it again, empty, and waits until it answers. */
  readonly start: Effect.Effect<void>
  /** Freezes it (`SIGSTOP`): connections stay open, nothing is answered. */
  readonly pause: Effect.Effect<void>
  /** Lets a frozen server go on (`SIGCONT`). */
  readonly resume: Effect.Effect<void>
}

// Polled with timers rather than `Effect.sleep`, so that it also waits under an `it.effect`'s `TestClock`. Any reply
// to PING counts (`-NOAUTH` from a server with a password too).
const untilAnswers = (port: number) =>
  Effect.promise(async () => {
    const replies = () =>
      new Promise<boolean>((resolve) => {
        const socket = connectTcp(port, "127.0.0.1", () => socket.write("PING\r\n"))
        socket.once("data", () => (socket.destroy(), resolve(true)))
        socket.once("error", () => (socket.destroy(), resolve(false)))
      })
    for (let attempt = 0; attempt < 200; attempt++) {
      if (await replies()) return
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
    throw new Error(`redis-server on port ${port} did not come up`)
  })

/**
 * Starts `redis-server --port N --save "" --appendonly no` on a free port (nothing written to disk), and stops it
 * when the scope closes. `args` adds options (`["--requirepass", "..."]`).
 */
export const privateRedis = (args: ReadonlyArray<string> = []): Effect.Effect<PrivateRedis, never, Scope.Scope> =>
  Effect.gen(function*() {
    const port = yield* freePort
    let child: ChildProcess | undefined
    const start = Effect.suspend(() => {
      child = spawn("redis-server", [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        ...args
      ], {
        stdio: "ignore"
      })
      return untilAnswers(port)
    })
    const stop = Effect.suspend(() => {
      const running = child
      child = undefined
      return running === undefined ? Effect.void : killed(running)
    })
    yield* Effect.acquireRelease(start, () => stop)
    const signal = (name: NodeJS.Signals) => Effect.sync(() => void child?.kill(name))
    return { url: `redis://127.0.0.1:${port}`, port, stop, start, pause: signal("SIGSTOP"), resume: signal("SIGCONT") }
  })
