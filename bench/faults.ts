/**
 * Faults under load: two app instances (Node processes, `test/support/scripts/instanceApp.ts`) on a private
 * PostgreSQL server, throttling on, each serving closed-loop clients that cycle through a session check, a login,
 * a check and a registration (`test/support/faults.ts`). Three scenarios, each on fresh servers:
 *
 * - `database`: the PostgreSQL server stopped at once (`pg_ctl stop -m immediate`) and started again;
 * - `kill`: one instance killed (`SIGKILL`), the other serving on;
 * - `redis`: the counters on a private Redis server, which is killed and started again (empty).
 *
 * It prints what the requests answered during the outage, how long they took (p99 and longest, in flight at any
 * moment of it), how long after the server's return each operation succeeded again on each instance, and whether
 * every registration that answered success is in the table (and none is half written).
 *
 *   npx tsx bench/faults.ts [runs=3] [outage ms=5000] [clients per instance=4]
 *
 * It needs the PostgreSQL server binaries (initdb, pg_ctl) and redis-server; it never touches the shared servers.
 */
import { Effect } from "effect"
import { databaseRestart, instanceKill, redisRestart, type Timing } from "../test/support/faults.js"

const runs = Number(process.argv[2] ?? 3)
const timing: Timing = {
  warmMs: 3_000,
  outageMs: Number(process.argv[3] ?? 5_000),
  afterMs: 8_000,
  clients: Number(process.argv[4] ?? 4)
}

const ms = (x: number) => `${Math.round(x)} ms`
const slowest = (resume: ReadonlyArray<Record<string, number>>) =>
  Object.fromEntries(
    Object.keys(resume[0] ?? {}).map((op) => [op, ms(Math.max(...resume.map((r) => r[op] ?? Infinity)))])
  )

const program = Effect.gen(function*() {
  console.log(`timing: ${JSON.stringify(timing)}`)
  for (let run = 1; run <= runs; run++) {
    for (const [name, scenario] of [["database", databaseRestart], ["redis", redisRestart]] as const) {
      const { accounts, outage, requests } = yield* scenario(timing)
      console.log(`\n${name} restart, run ${run}: ${requests} requests`)
      console.log(`  down ${ms(outage.downMs)}, start ${ms(outage.startMs)}`)
      console.log(`  during: ${JSON.stringify(outage.during)}`)
      console.log(`  in flight during the outage: p99 ${ms(outage.p99During)}, longest ${ms(outage.longestDuring)}`)
      console.log(`  first success after the return (slowest instance): ${JSON.stringify(slowest(outage.resume))}`)
      console.log(`  from ${ms(timing.afterMs / 2)} after the return: ${JSON.stringify(outage.after)}`)
      console.log(`  registrations: ${JSON.stringify(accounts)}`)
    }
    const killed = yield* instanceKill(timing)
    console.log(`\ninstance kill, run ${run}: ${killed.requests} requests`)
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
