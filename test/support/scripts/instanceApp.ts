/**
 * One app instance for the multi-process tests and benchmarks, run by `instances.ts` in a Node process of its own
 * (through tsx): the whole library on `PgUserStore` (with `SessionCache.layerShared` over `PgSessionInvalidation`,
 * or `RedisSessionInvalidation`) or on `MysqlUserStore` (no cache), the counters in the database or on Redis, with
 * real random bytes and a password hasher that counts its `verify` calls. It answers requests from its parent over
 * the IPC channel; a failure answers the error's tag.
 *
 * Settings (environment): `USERHARBOR_APP_DATABASE_URL`, `USERHARBOR_APP_STORE` (`pg` by default, or `mysql`),
 * `USERHARBOR_APP_CHANNEL`, `USERHARBOR_APP_REDIS_URL` (invalidation over Redis instead of PostgreSQL's channel),
 * `USERHARBOR_APP_COUNTERS_REDIS_URL` and `USERHARBOR_APP_COUNTERS_PREFIX` (counters on Redis),
 * `USERHARBOR_APP_THROTTLE` (the throttle options as JSON; throttling is off without it, since the revocation
 * rounds log in many times). The cache's TTL is an hour, so only the channel can make another instance refuse a
 * revoked session in time.
 */
import { Cause, Effect, Layer, Option, Predicate, Redacted, Schedule } from "effect"
import * as Argon2Hasher from "../../../src/Argon2Hasher.js"
import * as MysqlUserStore from "../../../src/MysqlUserStore.js"
import { PasswordHasher } from "../../../src/PasswordHasher.js"
import * as PgSessionInvalidation from "../../../src/PgSessionInvalidation.js"
import * as PgUserStore from "../../../src/PgUserStore.js"
import * as RecordingEmailSender from "../../../src/RecordingEmailSender.js"
import * as RedisClient from "../../../src/RedisClient.js"
import * as RedisCounterStore from "../../../src/RedisCounterStore.js"
import * as RedisSessionInvalidation from "../../../src/RedisSessionInvalidation.js"
import * as SecureRandom from "../../../src/SecureRandom.js"
import * as SessionCache from "../../../src/SessionCache.js"
import * as UserHarbor from "../../../src/UserHarbor.js"
import * as UserHarborConfig from "../../../src/UserHarborConfig.js"
import * as UserHarborTest from "../../../src/UserHarborTest.js"
import type { Reply, Request } from "../instances.js"

const url = Redacted.make(process.env.USERHARBOR_APP_DATABASE_URL ?? "")
const channel = process.env.USERHARBOR_APP_CHANNEL
const redisUrl = process.env.USERHARBOR_APP_REDIS_URL
const countersUrl = process.env.USERHARBOR_APP_COUNTERS_REDIS_URL
const redis = (redisUrl: string) => RedisClient.layer({ url: Redacted.make(redisUrl) })
const Invalidation = redisUrl === undefined
  ? PgSessionInvalidation.layer({ url, channel })
  : RedisSessionInvalidation.layer({ channel }).pipe(Layer.provide(redis(redisUrl)))
const Accounts = process.env.USERHARBOR_APP_STORE === "mysql"
  ? MysqlUserStore.layer({ url, maxConnections: 4 })
  : SessionCache.layerShared({ ttl: "1 hour" }).pipe(
    Layer.provideMerge(Invalidation),
    Layer.provideMerge(PgUserStore.layer({ url, maxConnections: 4 }))
  )
// Redis counters replace the database's in the output (the later layer wins).
const Store = countersUrl === undefined ? Accounts : RedisCounterStore.layer({
  prefix: process.env.USERHARBOR_APP_COUNTERS_PREFIX
}).pipe(Layer.provide(redis(countersUrl)), Layer.provideMerge(Accounts))
const throttle: Partial<UserHarborConfig.ThrottleOptions> = JSON.parse(
  process.env.USERHARBOR_APP_THROTTLE ?? `{"enabled":false}`
)

// Every password check this process makes, for the tests that count them across processes.
let verifies = 0
const CountingHasher = Layer.effect(
  PasswordHasher,
  Effect.map(PasswordHasher, (inner) =>
    PasswordHasher.of({
      ...inner,
      verify: (password, hash) => Effect.zipRight(Effect.sync(() => verifies++), inner.verify(password, hash))
    }))
).pipe(Layer.provide(Argon2Hasher.layerInsecureForTesting))

// Wired as an app is, not with the test kit's `layerWithStore`: its deterministic "random" bytes are the same in
// every process, so two instances would issue the same session tokens and user ids.
const App = UserHarbor.layer.pipe(Layer.provideMerge(Layer.mergeAll(
  Store,
  RecordingEmailSender.layer,
  SecureRandom.layer,
  CountingHasher,
  UserHarborConfig.layer({ secretKey: UserHarborTest.testSecretKey, throttle }).pipe(Layer.orDie)
)))

/** The wall-clock instant in milliseconds, sub-millisecond, comparable between processes on one machine. */
const now = () => performance.timeOrigin + performance.now()

const handle = (request: Request) =>
  Effect.gen(function*() {
    const harbor = yield* UserHarbor.UserHarbor
    switch (request.op) {
      case "register": {
        yield* harbor.register({ username: request.username, email: request.email, password: request.password })
        if (request.verify === false) return null
        const recorded = yield* RecordingEmailSender.RecordingEmailSender
        const token = yield* recorded.lastToken("VerificationEmail", request.email)
        yield* harbor.verifyEmail(Option.getOrThrow(token))
        return null
      }
      case "login": {
        const session = yield* harbor.login({ email: request.email, password: request.password })
        return Redacted.value(session.token)
      }
      case "check":
        return yield* harbor.verifySession(request.token)
      case "waitRefused": {
        // Polls the cached check until it refuses; answers when it refused.
        yield* harbor.verifySession(request.token).pipe(
          Effect.repeat({ while: (valid) => valid, schedule: Schedule.spaced("1 millis") }),
          Effect.timeout(request.timeoutMs)
        )
        return now()
      }
      case "logout":
        yield* harbor.logout(request.token)
        return now()
      case "logoutAll":
        yield* harbor.logoutAll(request.token)
        return now()
      case "changePassword": {
        yield* harbor.changePassword({
          sessionToken: request.token,
          oldPassword: request.oldPassword,
          newPassword: request.newPassword
        })
        return now()
      }
      case "verifies":
        return verifies
    }
  })

const tagOf = (error: unknown) =>
  Predicate.hasProperty(error, "_tag") && typeof error._tag === "string" ? error._tag : "Error"

const main = Effect.gen(function*() {
  const context = yield* Layer.build(App)
  const send = (reply: Reply) => Effect.sync(() => process.send?.(reply))
  process.on("message", (request: Request) => {
    void Effect.runPromise(
      handle(request).pipe(
        Effect.provide(context),
        // A defect answers too (tagged "Defect"): the parent must never wait for a reply that will not come.
        Effect.matchCauseEffect({
          onSuccess: (value) => send({ id: request.id, ok: true, value }),
          onFailure: (cause) =>
            Option.match(Cause.failureOption(cause), {
              onNone: () => send({ id: request.id, ok: false, tag: "Defect", error: Cause.pretty(cause) }),
              onSome: (error) => send({ id: request.id, ok: false, tag: tagOf(error), error: String(error) })
            })
        })
      )
    )
  })
  process.on("disconnect", () => process.exit(0))
  yield* send({ id: -1, ok: true, value: "ready" })
  yield* Effect.never
})

Effect.runFork(Effect.scoped(main))
