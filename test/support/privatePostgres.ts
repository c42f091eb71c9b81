/**
 * A PostgreSQL server of a test's own (`initdb` into a temporary directory, `pg_ctl` on a free port), which the test
 * may stop and start again: the shared server of `USERHARBOR_TEST_PG_URL` is never stopped, since other tests run
 * on it. It needs the server binaries (`initdb`, `pg_ctl`, `postgres`), found under `/usr/lib/postgresql/<version>/bin`
 * (the newest) or on `PATH`. Running as root, the server runs as the `postgres` user (postgres refuses root).
 */
import { Effect, type Scope } from "effect"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { run, temporaryDirectory } from "./childProcesses.js"
import { freePort } from "./freePort.js"

/** A private PostgreSQL server; its data lives in a temporary directory removed with the scope. */
export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication, loopback only). */
  readonly url: string
  readonly port: number
  /** Stops the server at once (`pg_ctl stop -m immediate`: connections are cut, as in a crash) and waits. */
  readonly stop: Effect.Effect<void, Error>
  /** Starts it again (crash recovery included) and waits until it accepts connections. */
  readonly start: Effect.Effect<void, Error>
  /**
   * Freezes the server and every backend (`SIGSTOP`): connections stay open and nothing is answered, as when the
   * machine or the network between stalls.
   */
  readonly pause: Effect.Effect<void, Error>
  /** Lets a frozen server go on (`SIGCONT`). */
  readonly resume: Effect.Effect<void, Error>
}

const binDir = (): string => {
  const root = "/usr/lib/postgresql"
  const versions = existsSync(root)
    ? readdirSync(root).filter((v) => existsSync(join(root, v, "bin", "initdb"))).sort((a, b) => Number(b) - Number(a))
    : []
  return versions[0] === undefined ? "" : join(root, versions[0], "bin")
}

/** `initdb`, then `pg_ctl start` on a free port; stopped and removed when the scope closes, whatever happened. */
export const privatePostgres: Effect.Effect<PrivatePostgres, Error, Scope.Scope> = Effect.gen(function*() {
  const bin = binDir()
  const tool = (name: string) => bin === "" ? name : join(bin, name)
  const asRoot = process.getuid?.() === 0
  // postgres will not run as root: the directory then belongs to the postgres user, who runs the tools.
  const as = (command: ReadonlyArray<string>) => asRoot ? ["runuser", "-u", "postgres", "--", ...command] : command
  const dir = yield* temporaryDirectory("userharbor-pg-", "postgres")
  const data = join(dir, "data")
  const port = yield* freePort
  yield* run(as([tool("initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]))
  // fsync off: the data is thrown away anyway, and crash recovery still runs on every start after a stop.
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`
  const start = run(as([tool("pg_ctl"), "-D", data, "-o", options, "-l", join(dir, "log"), "-w", "-t", "60", "start"]))
  const stop = run(as([tool("pg_ctl"), "-D", data, "-m", "immediate", "-w", "-t", "60", "stop"]))
  // The postmaster (the first line of its pid file) and its children, the backends and background workers; frozen,
  // the postmaster forks no new ones. Resumed before a stop, since a frozen server cannot shut down.
  const signal = (name: "STOP" | "CONT") =>
    Effect.suspend(() => {
      const postmaster = readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0]?.trim() ?? ""
      return run(["sh", "-c", `kill -${name} ${postmaster} $(pgrep -P ${postmaster})`])
    })
  let frozen = false
  const pause = Effect.zipRight(signal("STOP"), Effect.sync(() => (frozen = true)))
  const resume = Effect.zipRight(signal("CONT"), Effect.sync(() => (frozen = false)))
  yield* Effect.acquireRelease(start, () => Effect.ignore(Effect.zipRight(frozen ? resume : Effect.void, stop)))
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, port, stop, start, pause, resume }
})
