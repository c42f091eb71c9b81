/**
 * Exact throttling counters across app instances that are real processes: 200 concurrent logins with wrong
 * passwords for one account, spread over 3 processes on one database, the counters in its `userharbor_counters`
 * table (PostgreSQL, MariaDB) or on Redis (`RedisCounterStore`, the accounts on PostgreSQL). Each process counts its password checks (`PasswordHasher.verify`); as within one process
 * (`ThrottlingSuite`), exactly the configured number of guesses is checked and every other answer is
 * `TooManyAttempts`, and with a budget above 200 no increment is lost.
 */
import { expect, it } from "@effect/vitest"
import { Effect, type Scope } from "effect"
import { account, type Instance, type InstanceOptions, spread, startInstances, verifies } from "../support/instances.js"
import { describeRedis, testPrefix } from "../support/redisServer.js"
import { describeOn, mysqlDatabase, pgSchema } from "../support/sqlDatabases.js"

const wrongLogins = (
  instances: ReadonlyArray<Instance>,
  email: string
) =>
  Effect.gen(function*() {
    const before = yield* verifies(instances)
    const outcomes = yield* spread(instances, 200, { op: "login", email, password: "wrong-guess" })
    const after = yield* verifies(instances)
    const checked = after.map((n, i) => n - (before[i] ?? 0))
    return { outcomes, checked, total: checked.reduce((a, b) => a + b, 0) }
  })

/** The instances' settings apart from throttling: where the accounts and the counters live. */
type Setup = Effect.Effect<Omit<InstanceOptions, "throttle"> & { readonly databaseUrl: string }, never, Scope.Scope>

const start = (setup: Setup, throttle: NonNullable<InstanceOptions["throttle"]>) =>
  Effect.flatMap(setup, ({ databaseUrl, ...options }) => startInstances(3, databaseUrl, { ...options, throttle }))

const cases = (label: string, setup: Setup) => {
  it.live(
    "200 concurrent wrong logins over 3 processes, freeFailures 5: exactly 5 checked, 195 TooManyAttempts",
    () =>
      Effect.gen(function*() {
        const instances = yield* start(setup, {})
        const created = yield* account(instances)
        const { checked, outcomes, total } = yield* wrongLogins(instances, created.email)
        console.log(`${label}: 200 wrong logins over 3 processes: ${JSON.stringify(outcomes)}, checked ${checked}`)
        expect(outcomes).toEqual({ InvalidCredentials: 5, TooManyAttempts: 195 })
        expect(total).toBe(5)
        // Locked on every instance, the right password included, without a check.
        const locked = yield* spread(instances, 3, { op: "login", email: created.email, password: created.password })
        expect(locked).toEqual({ TooManyAttempts: 3 })
        expect((yield* verifies(instances)).reduce((a, b) => a + b, 0)).toBe(5)
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "200 concurrent wrong logins over 3 processes, freeFailures 200: all 200 checked, then locked (no lost increment)",
    () =>
      Effect.gen(function*() {
        const instances = yield* start(setup, { freeFailures: 200, disableAfter: 1000 })
        const created = yield* account(instances)
        const { checked, outcomes, total } = yield* wrongLogins(instances, created.email)
        console.log(`${label}: 200 wrong logins over 3 processes: ${JSON.stringify(outcomes)}, checked ${checked}`)
        expect(outcomes).toEqual({ InvalidCredentials: 200 })
        expect(total).toBe(200)
        // 200 failures recorded: the 201st attempt is refused, even with the right password.
        const next = yield* spread(instances, 1, { op: "login", email: created.email, password: created.password })
        expect(next).toEqual({ TooManyAttempts: 1 })
      }).pipe(Effect.scoped),
    60_000
  )
}

describeOn(
  "pg",
  "counters across processes",
  (url) => cases("PostgreSQL", Effect.map(pgSchema(url), (databaseUrl) => ({ databaseUrl, store: "pg" })))
)
describeOn(
  "mysql",
  "counters across processes",
  (url) => cases("MariaDB", Effect.map(mysqlDatabase(url), (databaseUrl) => ({ databaseUrl, store: "mysql" })))
)
describeOn(
  "pg",
  "accounts, counters on Redis, across processes",
  (url) =>
    describeRedis("counters", (redisUrl) =>
      cases(
        "Redis",
        Effect.all({ databaseUrl: pgSchema(url), prefix: testPrefix(redisUrl) }).pipe(
          Effect.map(({ databaseUrl, prefix }) => ({ databaseUrl, redisCounters: { url: redisUrl, prefix } }))
        )
      ))
)
