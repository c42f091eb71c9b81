/**
 * A MariaDB server of a test's own (`mariadb-install-db` into a temporary directory, `mariadbd` on a free port and a
 * socket of its own, no option files read), which the test may kill and start again: the shared server of
 * `USERHARBOR_TEST_MYSQL_URL` is never stopped, since other tests run on it. It needs `mariadbd`, `mariadb-install-db`
 * and the `mariadb` client (`/usr/sbin` or `PATH`). Running as root, the server runs as the `mysql` user.
 */
import { Effect, type Scope } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { closeSync, existsSync, openSync, readFileSync } from "node:fs"
import { connect as connectTcp } from "node:net"
import { join } from "node:path"
import { killed, run, temporaryDirectory } from "./childProcesses.js"
import { freePort } from "./freePort.js"

/** A private MariaDB server; its data lives in a temporary directory removed with the scope. */
export interface PrivateMariadb {
  /** `mysql://root@127.0.0.1:<port>/userharbor` (no password, loopback only). */
  readonly url: string
  readonly port: number
  /** Kills the server (`SIGKILL`, as a crash would) and waits for it to exit. */
  readonly stop: Effect.Effect<void, Error>
  /** Starts it again (InnoDB's crash recovery included) and waits until it accepts connections. */
  readonly start: Effect.Effect<void, Error>
}

// A server accepts a connection by sending its handshake first: the first bytes on the socket mean it is up. Polled
// with timers rather than `Effect.sleep`, so that it also waits under a `TestClock`.
const untilGreets = (port: number, log: string) =>
  Effect.tryPromise({
    try: async () => {
      const greets = () =>
        new Promise<boolean>((resolve) => {
          const socket = connectTcp(port, "127.0.0.1")
          socket.once("data", () => (socket.destroy(), resolve(true)))
          socket.once("error", () => (socket.destroy(), resolve(false)))
        })
      for (let attempt = 0; attempt < 1_200; attempt++) {
        if (await greets()) return
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      throw new Error(`mariadbd on port ${port} did not come up: ${readFileSync(log, "utf8").slice(-2_000)}`)
    },
    catch: (error) => error instanceof Error ? error : new Error(String(error))
  })

const tool = (name: string) => existsSync(join("/usr/sbin", name)) ? join("/usr/sbin", name) : name

/**
 * `mariadb-install-db`, then `mariadbd` on a free port with a database `userharbor`; killed and removed when the
 * scope closes, whatever happened. Commits reach the operating system at once and the disk once a second
 * (`innodb_flush_log_at_trx_commit=2`): a killed server loses nothing committed, and the run does not wait on disks.
 */
export const privateMariadb: Effect.Effect<PrivateMariadb, Error, Scope.Scope> = Effect.gen(function*() {
  const dir = yield* temporaryDirectory("userharbor-mariadb-", "mysql")
  const data = join(dir, "data")
  const log = join(dir, "log")
  const port = yield* freePort
  const user = process.getuid?.() === 0 ? ["--user=mysql"] : []
  yield* run([
    tool("mariadb-install-db"),
    "--no-defaults",
    `--datadir=${data}`,
    ...user,
    "--auth-root-authentication-method=normal",
    "--skip-test-db"
  ])
  let child: ChildProcess | undefined
  const start = Effect.suspend(() => {
    const out = openSync(log, "a")
    child = spawn(tool("mariadbd"), [
      "--no-defaults",
      `--datadir=${data}`,
      ...user,
      `--port=${port}`,
      "--bind-address=127.0.0.1",
      `--socket=${join(dir, "socket")}`,
      `--pid-file=${join(dir, "pid")}`,
      "--skip-log-bin",
      "--innodb-flush-log-at-trx-commit=2",
      "--innodb-buffer-pool-size=64M"
    ], { stdio: ["ignore", out, out] })
    // The child has its own copy.
    closeSync(out)
    return untilGreets(port, log)
  })
  const stop = Effect.suspend(() => {
    const running = child
    child = undefined
    return running === undefined ? Effect.void : killed(running)
  })
  yield* Effect.acquireRelease(start, () => stop)
  yield* run([
    tool("mariadb"),
    "--no-defaults",
    "-h",
    "127.0.0.1",
    "-P",
    String(port),
    "-u",
    "root",
    "-e",
    "CREATE DATABASE userharbor"
  ])
  return { url: `mysql://root@127.0.0.1:${port}/userharbor`, port, stop, start }
})
