/**
 * Real app instances: N Node processes (through tsx), each running `scripts/revocationApp.ts` on one PostgreSQL schema
 * and one invalidation channel, driven over their IPC channels. For the multi-process tests and
 * `bench/revocation.ts`.
 */
import { Deferred, Effect, type Scope } from "effect"
import { type ChildProcess, fork } from "node:child_process"
import { randomBytes } from "node:crypto"
import { fileURLToPath } from "node:url"

/** What the parent asks; every answer that ends or checks a session carries the instant it was done. */
export type Request =
  & { readonly id: number }
  & (
    | { readonly op: "register"; readonly username: string; readonly email: string; readonly password: string }
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
  )

export type Reply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string }

type Body<R> = R extends unknown ? Omit<R, "id"> : never

export interface Instance {
  readonly call: (request: Body<Request>) => Effect.Effect<unknown, Error>
}

const app = fileURLToPath(new URL("./scripts/revocationApp.ts", import.meta.url))

const start = (env: Record<string, string>): Effect.Effect<Instance, Error, Scope.Scope> =>
  Effect.gen(function*() {
    const child: ChildProcess = yield* Effect.acquireRelease(
      Effect.sync(() =>
        fork(app, [], { execArgv: ["--import", "tsx"], env: { ...process.env, ...env }, stdio: "inherit" })
      ),
      (child) =>
        Effect.async<void>((resume) => {
          if (child.exitCode !== null) return resume(Effect.void)
          child.once("exit", () => resume(Effect.void))
          child.kill()
        })
    )
    const waiting = new Map<number, (reply: Reply) => void>()
    const ready = yield* Deferred.make<void, Error>()
    child.on("message", (reply: Reply) => {
      if (reply.id === -1) Deferred.unsafeDone(ready, Effect.void)
      waiting.get(reply.id)?.(reply)
      waiting.delete(reply.id)
    })
    child.once("exit", (code) => Deferred.unsafeDone(ready, Effect.fail(new Error(`instance exited (${code})`))))
    yield* Deferred.await(ready).pipe(Effect.timeoutFail({
      duration: "60 seconds",
      onTimeout: () => new Error("instance did not start")
    }))
    let next = 0
    return {
      call: (request) =>
        Effect.async<unknown, Error>((resume) => {
          const id = next++
          waiting.set(
            id,
            (reply) =>
              resume(reply.ok ? Effect.succeed(reply.value) : Effect.fail(new Error(`${request.op}: ${reply.error}`)))
          )
          child.send({ ...request, id })
        })
    }
  })

/**
 * `count` instances on the database at `databaseUrl` (already private to the caller), started one after the other
 * (each runs the migrations; the first does the work), sharing a fresh channel.
 */
export const startInstances = (
  count: number,
  databaseUrl: string
): Effect.Effect<ReadonlyArray<Instance>, Error, Scope.Scope> => {
  const env = {
    USERHARBOR_APP_DATABASE_URL: databaseUrl,
    USERHARBOR_APP_CHANNEL: `userharbor_test_${randomBytes(6).toString("hex")}`
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
