/**
 * Faults under load: two app instances (Node processes, `test/support/scripts/instanceApp.ts`) on a private
 * PostgreSQL server, throttling on, each serving closed-loop clients that cycle through a session check, a login,
 * a check and a registration (`test/support/faults.ts`). Three scenarios, each on fresh servers:
 *
 * - `database`: the PostgreSQL server stopped at once (`pg_ctl stop -m immediate`) and started again;
 * - `kill`: one instance killed (`SIGKILL`), the other serving on;
 * - `redis`: the counters on a private Redis server, which is killed and started again (empty);
 * - `freeze`: the PostgreSQL server and its backends frozen (`SIGSTOP`, connections left open) and let go on.
 *
 * With `http` as the fourth argument, the instances are two processes of the example HTTP app instead, driven over
 * HTTP by `fetch` clients whose requests give up after 10 seconds (`test/support/httpFaults.ts`), and the scenarios
 * are `database` and `kill` (the app keeps its counters in the database). With `mariadb`, the library-level
 * instances run on `MysqlUserStore` (no session cache) on a private MariaDB server, and the only scenario is
 * `database`: that server killed (`SIGKILL`) and started again. A fifth argument picks scenarios (`database,kill`).
 *
 * It prints what the requests answered during the outage, how long they took (p99 and longest, in flight at any
 * moment of it), how long after the server's return each operation succeeded again on each instance, and whether
 * every registration that answered success is in the table (and none is half written).
 *
 *   npx tsx bench/faults.ts [runs=3] [outage ms=5000] [clients per instance=4] [library|http|mariadb] [scenarios]
 *
 * It needs the PostgreSQL server binaries (initdb, pg_ctl) and redis-server (with `mariadb`: mariadbd,
 * mariadb-install-db and the mariadb client); it never touches the shared servers.
 */
import { Effect } from "effect"
import { loadavg } from "node:os"
import {
  databaseFreeze,
  databaseRestart,
  type Deploy,
  instanceKill,
  mariadb,
  postgres,
  processes,
  redisRestart,
  type Timing
} from "../test/support/faults.js"
import { httpApps } from "../test/support/httpFaults.js"

const runs = Number(process.argv[2] ?? 3)
const timing: Timing = {
  warmMs: 3_000,
  outageMs: Number(process.argv[3] ?? 5_000),
  afterMs: 8_000,
  clients: Number(process.argv[4] ?? 4)
}
const mode = process.argv[5] ?? "library"
const http = mode === "http"
const deploy: Deploy = http ? httpApps({ requestTimeoutMs: 10_000 }) : processes
const picked = (name: string) => process.argv[6] === undefined || process.argv[6].split(",").includes(name)
const restarts = [
  ["database", databaseRestart(timing, deploy, mode === "mariadb" ? mariadb : postgres)] as const,
  ...(mode === "library" ? [["redis", redisRestart(timing, deploy)] as const] : []),
  ...(mode === "mariadb" ? [] : [["freeze", databaseFreeze(timing, deploy)] as const])
].filter(([name]) => picked(name))
const load = () => loadavg().map((x) => x.toFixed(1)).join(" ")

const ms = (x: number) => `${Math.round(x)} ms`
const slowest = (resume: ReadonlyArray<Record<string, number>>) =>
  Object.fromEntries(
    Object.keys(resume[0] ?? {}).map((op) => [op, ms(Math.max(...resume.map((r) => r[op] ?? Infinity)))])
  )

const program = Effect.gen(function*() {
  console.log(`${mode}, timing: ${JSON.stringify(timing)}`)
  for (let run = 1; run <= runs; run++) {
    for (const [name, scenario] of restarts) {
      console.log(`\nload average before: ${load()}`)
      const { accounts, outage, requests } = yield* scenario
      console.log(`${name}, run ${run}: ${requests} requests (load average after: ${load()})`)
      console.log(`  down ${ms(outage.downMs)}, start ${ms(outage.startMs)}`)
      console.log(
        `  before the stop, successes p50 / p99: ${
          Object.entries(outage.before).map(([op, t]) => `${op} ${ms(t.p50)} / ${ms(t.p99)}`).join(", ")
        }`
      )
      console.log(`  during: ${JSON.stringify(outage.during)}`)
      console.log(`  in flight during the outage: p99 ${ms(outage.p99During)}, longest ${ms(outage.longestDuring)}`)
      console.log(`  first success after the return (slowest instance): ${JSON.stringify(slowest(outage.resume))}`)
      console.log(`  within ${ms(timing.afterMs / 2)} of the return: ${JSON.stringify(outage.returning)}`)
      console.log(`  from ${ms(timing.afterMs / 2)} after the return: ${JSON.stringify(outage.after)}`)
      console.log(`  the whole run: ${JSON.stringify(outage.all)}`)
      console.log(`  registrations: ${JSON.stringify(accounts)}`)
    }
    if (mode === "mariadb" || !picked("kill")) continue
    console.log(`\nload average before: ${load()}`)
    const killed = yield* instanceKill(timing, deploy)
    console.log(`instance kill, run ${run}: ${killed.requests} requests (load average after: ${load()})`)
    console.log(
      `  survivor: ${JSON.stringify(killed.survivor)}, longest after the kill ${ms(killed.survivorLongestAfter)}`
    )
    console.log(`  killed instance's clients: ${JSON.stringify(killed.killed)}`)
    console.log(`  registrations: ${JSON.stringify(killed.accounts)}`)
  }
})

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exit(1)
})
