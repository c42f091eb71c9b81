/**
 * Cross-instance revocation over Redis with real processes: three app instances (Node processes) on one
 * PostgreSQL, each with `SessionCache.layerShared` (TTL one hour) over `RedisSessionInvalidation`. A session
 * validated (so cached) on all three and revoked on one is refused by the other two within a generous bound;
 * `USERHARBOR_BENCH_REDIS_URL=... npx tsx bench/revocation.ts` measures the propagation time itself.
 */
import { assert, it } from "@effect/vitest"
import { Effect } from "effect"
import { everyRevocationInTurn, startInstances } from "../support/instances.js"
import { describeRedis } from "../support/redisServer.js"
import { describeOn, pgSchema } from "../support/sqlDatabases.js"

describeOn("pg", "revocation across processes", (pgUrl) => {
  describeRedis("pub/sub", (redisUrl) => {
    it.live(
      "a revocation on one instance is refused by the two others (logout, logout-all, password change)",
      () =>
        Effect.gen(function*() {
          const longest = yield* everyRevocationInTurn(yield* startInstances(3, yield* pgSchema(pgUrl), { redisUrl }))
          console.log(`slowest refusal per revocation over Redis, ms: ${JSON.stringify(longest)}`)
          for (const [revocation, elapsed] of Object.entries(longest)) assert.isBelow(elapsed, 2_000, revocation)
        }).pipe(Effect.scoped),
      { timeout: 120_000 }
    )
  })
})
