/**
 * Cross-instance revocation: how long after a revocation returns on one instance the two others refuse the
 * session. Three app instances (Node processes, `test/support/scripts/instanceApp.ts`) on PostgreSQL, each with
 * `SessionCache.layerShared` (TTL one hour) over `PgSessionInvalidation`; per round a new session is validated on
 * all three, revoked on one (each in turn), and the others poll their cached check every millisecond until it
 * refuses. The time is the later of the two refusals minus the instant the revocation returned (0 when both had
 * refused already; the poll adds up to 1 ms).
 *
 * `npx tsx bench/revocation.ts [rounds per revocation, 100 by default]`; the server from `USERHARBOR_BENCH_PG_URL`;
 * with `USERHARBOR_BENCH_REDIS_URL` set, the channel is `RedisSessionInvalidation` on that server.
 */
import { Effect } from "effect"
import { randomBytes } from "node:crypto"
import pg from "pg"
import { account, revocations, round, startInstances } from "../test/support/instances.js"
import { pgUrl } from "./postgres.js"
import { summarize } from "./stats.js"

const rounds = Number(process.argv[2] ?? 100)
// Set, the instances share revocations over Redis pub/sub instead of LISTEN/NOTIFY.
const redisUrl = process.env.USERHARBOR_BENCH_REDIS_URL

const schema = Effect.acquireRelease(
  Effect.promise(async () => {
    const name = `userharbor_bench_${randomBytes(4).toString("hex")}`
    const client = new pg.Client({ connectionString: pgUrl })
    await client.connect()
    await client.query(`CREATE SCHEMA ${name}`)
    await client.end()
    const scoped = new URL(pgUrl)
    scoped.searchParams.set("options", `-c search_path=${name}`)
    return { name, url: scoped.toString() }
  }),
  ({ name }) =>
    Effect.promise(async () => {
      const client = new pg.Client({ connectionString: pgUrl })
      await client.connect()
      await client.query(`DROP SCHEMA ${name} CASCADE`)
      await client.end()
    })
)

const program = Effect.gen(function*() {
  const { url } = yield* schema
  const instances = yield* startInstances(3, url, redisUrl === undefined ? {} : { redisUrl })
  console.log(`channel: ${redisUrl === undefined ? "PostgreSQL LISTEN/NOTIFY" : "Redis pub/sub"}`)
  const created = yield* account(instances)
  const rows: Array<Record<string, string | number>> = []
  const all: Array<number> = []
  for (const revocation of revocations) {
    const samples: Array<number> = []
    for (let i = 0; i < rounds; i++) {
      const turn = [...instances.slice(i % 3), ...instances.slice(0, i % 3)]
      samples.push(yield* round(turn, created, revocation, 2_000))
    }
    all.push(...samples)
    rows.push(row(revocation, samples))
  }
  rows.push(row("all", all))
  console.table(rows)
})

const row = (name: string, samplesMs: ReadonlyArray<number>) => {
  const summary = summarize(samplesMs.map((ms) => ms * 1000))
  return {
    revocation: name,
    rounds: summary.runs,
    "p50 ms": Math.round(summary.medianUs / 10) / 100,
    "p99 ms": Math.round(summary.p99Us / 10) / 100,
    "max ms": Math.round(Math.max(...samplesMs) * 100) / 100
  }
}

Effect.runPromise(Effect.scoped(program)).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
