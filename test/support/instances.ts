/**
 * Real app instances: N Node processes (through tsx), each running `scripts/instanceApp.ts` on one database (a
 * PostgreSQL schema with one invalidation channel, or a MariaDB/MySQL database), driven over their IPC channels.
 * For the multi-process tests, `bench/revocation.ts` and `bench/faults.ts`.
 */
import { Deferred, Effect, type Scope } from "effect"
import { type ChildProcess, fork } from "node:child_process"
import { randomBytes } from "node:crypto"
import { fileURLToPath } from "node:url"
import type * as UserHarborConfig from "../../src/UserHarborConfig.js"
import { exited, killed } from "./childProcesses.js"

/** What the parent asks; every answer that ends or checks a session carries the instant it was done. */
export type Request =
  & { readonly id: number }
  & (
    | {
      readonly op: "register"
      readonly username: string
      readonly email: string
      readonly password: string
      /** Verify the address too (from the recorded mail); `true` unless `false`. */
      readonly verify?: boolean
    }
    | { readonly op: "login"; readonly email: string; readonly password: string }
    | { readonly op: "check"; readonly token: string }
    | { readonly op: "waitRefused"; readonly token: string; readonly timeoutMs: number }
    | { readonly op: "logout"; readonly token: string }
    | { readonly op: "logoutAll"; readonly token: string }
    | {
      readonly op: "changePassword"
      readonly token: string
      readonly oldPassword: string
      readonly newPassword: string
    }
    /** How many passwords this process has checked (`PasswordHasher.verify` calls) since it started. */
    | { readonly op: "verifies" }
  )

export type Reply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly tag: string; readonly error: string }

/** What a request came to: `"ok"` and its value, or the failure's tag (`"StoreError"`, `"TooManyAttempts"`, ...). */
export type Outcome =
  | { readonly tag: "ok"; readonly value: unknown }
  | { readonly tag: string; readonly error: string }

type Body<R> = R extends unknown ? Omit<R, "id"> : never

export interface Instance {
  /** The value, or an `Error` naming the request's failure. */
  readonly call: (request: Body<Request>) => Effect.Effect<unknown, Error>
  /** The outcome, failures included; `"Exited"` when the process ended before answering. */
  readonly attempt: (request: Body<Request>) => Effect.Effect<Outcome>
  /** Kills the process (`SIGKILL`, as a crash would) and waits until it is gone. */
  readonly kill: Effect.Effect<void>
}

const app = fileURLToPath(new URL("./scripts/instanceApp.ts", import.meta.url))

const start = (env: Record<string, string>): Effect.Effect<Instance, Error, Scope.Scope> =>
  Effect.gen(function*() {
    const child: ChildProcess = yield* Effect.acquireRelease(
      Effect.sync(() =>
        fork(app, [], { execArgv: ["--import", "tsx"], env: { ...process.env, ...env }, stdio: "inherit" })
      ),
      (child) => Effect.zipRight(Effect.sync(() => child.kill()), exited(child))
    )
    const waiting = new Map<number, (reply: Reply) => void>()
    const ready = yield* Deferred.make<void, Error>()
    child.on("message", (reply: Reply) => {
      if (reply.id === -1) Deferred.unsafeDone(ready, Effect.void)
      waiting.get(reply.id)?.(reply)
      waiting.delete(reply.id)
    })
    child.once("exit", (code) => {
      Deferred.unsafeDone(ready, Effect.fail(new Error(`instance exited (${code})`)))
      // Requests in flight get no answer from a dead process.
      for (const [id, answer] of waiting) answer({ id, ok: false, tag: "Exited", error: `instance exited (${code})` })
      waiting.clear()
    })
    yield* Deferred.await(ready).pipe(Effect.timeoutFail({
      duration: "60 seconds",
      onTimeout: () => new Error("instance did not start")
    }))
    let next = 0
    const attempt = (request: Body<Request>) =>
      Effect.async<Outcome>((resume) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          return resume(Effect.succeed({ tag: "Exited", error: "instance exited" }))
        }
        const id = next++
        waiting.set(id, (reply) =>
          resume(Effect.succeed(
            reply.ok ? { tag: "ok", value: reply.value } : { tag: reply.tag, error: reply.error }
          )))
        child.send({ ...request, id })
      })
    return {
      attempt,
      call: (request) =>
        Effect.flatMap(attempt(request), (outcome) =>
          "value" in outcome
            ? Effect.succeed(outcome.value)
            : Effect.fail(new Error(`${request.op}: ${outcome.error}`))),
      kill: killed(child)
    }
  })

/** How the instances are set up; the defaults are the revocation tests'. */
export interface InstanceOptions {
  /** The database server: PostgreSQL (with the shared session cache) by default. */
  readonly store?: "pg" | "mysql"
  /** Throttling settings; off by default. */
  readonly throttle?: Partial<UserHarborConfig.ThrottleOptions>
  /** Session invalidation over the Redis server at this URL instead of PostgreSQL's channel. */
  readonly redisUrl?: string
  /** The throttling counters on Redis (`RedisCounterStore` under `prefix`) instead of the database. */
  readonly redisCounters?: { readonly url: string; readonly prefix: string }
}

/**
 * `count` instances on the database at `databaseUrl` (already private to the caller), started one after the other
 * (each runs the migrations; the first does the work), sharing a fresh channel: PostgreSQL's, or Redis's when
 * `options.redisUrl` is given.
 */
export const startInstances = (
  count: number,
  databaseUrl: string,
  options: InstanceOptions = {}
): Effect.Effect<ReadonlyArray<Instance>, Error, Scope.Scope> => {
  const env = {
    USERHARBOR_APP_DATABASE_URL: databaseUrl,
    USERHARBOR_APP_STORE: options.store ?? "pg",
    USERHARBOR_APP_CHANNEL: `userharbor_test_${randomBytes(6).toString("hex")}`,
    ...(options.throttle === undefined ? {} : { USERHARBOR_APP_THROTTLE: JSON.stringify(options.throttle) }),
    ...(options.redisUrl === undefined ? {} : { USERHARBOR_APP_REDIS_URL: options.redisUrl }),
    ...(options.redisCounters === undefined ? {} : {
      USERHARBOR_APP_COUNTERS_REDIS_URL: options.redisCounters.url,
      USERHARBOR_APP_COUNTERS_PREFIX: options.redisCounters.prefix
    })
  }
  return Effect.forEach(Array.from({ length: count }), () => start(env))
}

export const revocations = ["logout", "logoutAll", "changePassword"] as const
export type Revocation = typeof revocations[number]

/**
 * One round: a new session, validated (so cached) on every instance, revoked on the first with `revocation`,
 * then awaited on the others until they refuse it. Returns the milliseconds from the revocation returning on the
 * first instance to the last other instance refusing (never below 0: they may refuse before it returns).
 */
export const round = (
  instances: ReadonlyArray<Instance>,
  account: Account,
  revocation: Revocation,
  timeoutMs = 2_000
): Effect.Effect<number, Error> =>
  Effect.gen(function*() {
    const [first, ...others] = instances
    if (first === undefined) return yield* Effect.fail(new Error("no instance"))
    const token = String(yield* first.call({ op: "login", email: account.email, password: account.password }))
    const checked = yield* Effect.forEach(instances, (instance) => instance.call({ op: "check", token }))
    if (!checked.every((valid) => valid === true)) return yield* Effect.fail(new Error("new session refused"))
    const waits = yield* Effect.forkAll(
      others.map((instance) => instance.call({ op: "waitRefused", token, timeoutMs }))
    )
    // The waiters have begun polling once their first checks pass: give them a moment before revoking.
    yield* Effect.sleep("5 millis")
    const revokedAt = Number(
      yield* first.call(
        revocation === "changePassword"
          ? { op: revocation, token, oldPassword: account.password, newPassword: account.otherPassword }
          : { op: revocation, token }
      )
    )
    if (revocation === "changePassword") {
      ;[account.password, account.otherPassword] = [account.otherPassword, account.password]
    }
    const refusedAt = yield* waits.await.pipe(Effect.flatMap((exit) => exit), Effect.map((times) => times.map(Number)))
    return Math.max(0, ...refusedAt.map((at) => at - revokedAt))
  })

/** A registered, verified account; `round` swaps the passwords when it changes the password. */
export interface Account {
  readonly email: string
  password: string
  otherPassword: string
}

/** An account on the first instance, registered and verified. */
export const account = (instances: ReadonlyArray<Instance>): Effect.Effect<Account, Error> =>
  Effect.gen(function*() {
    const suffix = randomBytes(4).toString("hex")
    const created = {
      email: `revoke-${suffix}@example.com`,
      password: "correct horse battery staple 1",
      otherPassword: "another horse battery staple 2"
    }
    const [first] = instances
    if (first === undefined) return yield* Effect.fail(new Error("no instance"))
    yield* first.call({ op: "register", username: `revoke${suffix}`, ...created })
    return created
  })

/** How many outcomes had each tag (`"ok"` for successes). */
export const tally = (outcomes: ReadonlyArray<Outcome>): Record<string, number> => {
  const counts: Record<string, number> = {}
  for (const { tag } of outcomes) counts[tag] = (counts[tag] ?? 0) + 1
  return counts
}

/**
 * `count` copies of `request` spread over the instances in turn, every one sent before any answer is read (the
 * processes race for real): the tally of their outcomes.
 */
export const spread = (
  instances: ReadonlyArray<Instance>,
  count: number,
  request: Body<Request>
): Effect.Effect<Record<string, number>> =>
  Effect.map(
    Effect.forEach(
      Array.from({ length: count }, (_, i) => instances[i % instances.length]),
      (instance) => instance === undefined ? Effect.die(new Error("no instance")) : instance.attempt(request),
      { concurrency: "unbounded" }
    ),
    tally
  )

/** The password checks each instance has made since it started. */
export const verifies = (instances: ReadonlyArray<Instance>): Effect.Effect<ReadonlyArray<number>, Error> =>
  Effect.forEach(instances, (instance) => Effect.map(instance.call({ op: "verifies" }), Number))

/**
 * Each revocation three times, each instance revoking in turn (so every one publishes and every one listens):
 * the longest time any took to be refused by the others.
 */
export const everyRevocationInTurn = (
  instances: ReadonlyArray<Instance>,
  timeoutMs = 2_000
): Effect.Effect<Record<Revocation, number>, Error> =>
  Effect.gen(function*() {
    const created = yield* account(instances)
    const longest: Record<Revocation, number> = { logout: 0, logoutAll: 0, changePassword: 0 }
    for (let repeat = 0; repeat < instances.length; repeat++) {
      for (const revocation of revocations) {
        const turn = [...instances.slice(repeat), ...instances.slice(0, repeat)]
        longest[revocation] = Math.max(longest[revocation], yield* round(turn, created, revocation, timeoutMs))
      }
    }
    return longest
  })
