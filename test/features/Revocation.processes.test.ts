/**
 * Cross-instance revocation with real processes: three app instances (Node processes) on one PostgreSQL, each
 * with `SessionCache.layerShared` (TTL one hour) over `PgSessionInvalidation`. A session validated (so cached) on
 * all three and revoked on one is refused by the other two within a generous bound; `bench/revocation.ts`
 * measures the propagation time itself.
 */
import { assert, it } from "@effect/vitest"
import { Effect } from "effect"
import { everyRevocationInTurn, startInstances } from "../support/instances.js"
import { describeOn, pgSchema } from "../support/sqlDatabases.js"

describeOn("pg", "revocation across processes", (url) => {
  it.live(
    "a revocation on one instance is refused by the two others (logout, logout-all, password change)",
    () =>
      Effect.gen(function*() {
        const longest = yield* everyRevocationInTurn(yield* startInstances(3, yield* pgSchema(url)))
        for (const [revocation, elapsed] of Object.entries(longest)) assert.isBelow(elapsed, 2_000, revocation)
      }).pipe(Effect.scoped),
    { timeout: 120_000 }
  )
})
