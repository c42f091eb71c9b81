/**
 * `RedisSessionInvalidation`: the port's contract on the shared server (a channel of its own per test); on a
 * private `redis-server`, the loss of the listening connection (server killed, or frozen so that only the
 * heartbeat can tell), reported and repaired; and two instances' shared `SessionCache`s over one account store,
 * where a logout on one is refused by the other within a bound that the test prints.
 */
import { assert, expect, it } from "@effect/vitest"
import { Effect, Either, Layer, Redacted, Schedule } from "effect"
import { Redis } from "ioredis"
import { randomBytes } from "node:crypto"
import * as MemoryUserStore from "../../src/MemoryUserStore.js"
import * as RedisClient from "../../src/RedisClient.js"
import * as RedisCounterStore from "../../src/RedisCounterStore.js"
import * as RedisSessionInvalidation from "../../src/RedisSessionInvalidation.js"
import * as SessionCache from "../../src/SessionCache.js"
import * as SqliteUserStore from "../../src/SqliteUserStore.js"
import { UserId } from "../../src/User.js"
import { UserHarbor } from "../../src/UserHarbor.js"
import * as UserHarborTest from "../../src/UserHarborTest.js"
import { connectedTo, invalidationSuite } from "../suites/SessionInvalidationSuite.js"
import { alice, loggedIn, loginAs, registerVerified } from "../support/fixtures.js"
import { describeRedis, privateRedis } from "../support/redisServer.js"

const freshChannel = () => `userharbor-test:sessions:${randomBytes(6).toString("hex")}`

/** One app instance's channel: a client of its own, as a process would have. */
const instance = (url: string, options: RedisSessionInvalidation.Options) =>
  Effect.flatMap(
    Layer.build(RedisClient.layer({ url: Redacted.make(url), commandTimeout: "300 millis" })),
    (context) => RedisSessionInvalidation.make(options).pipe(Effect.provide(context))
  )

describeRedis("session invalidation", (url) => {
  invalidationSuite(
    "Redis",
    Effect.suspend(() => {
      const channel = freshChannel()
      return Effect.all([instance(url, { channel }), instance(url, { channel })])
    })
  )

  it.live("reports a killed server, reconnects when it is back, and delivers again", () =>
    Effect.gen(function*() {
      const server = yield* privateRedis()
      const channel = freshChannel()
      const listener = yield* instance(server.url, { channel })
      const sub = yield* connectedTo(listener)
      yield* server.stop
      yield* sub.until("Disconnected").pipe(Effect.timeout("2 seconds"))
      // Published while the server is away: refused, and a caller sees it.
      const refused = yield* Effect.either(listener.publish({ _tag: "Unverified" }))
      assert(Either.isLeft(refused))
      expect(refused.left.operation).toBe("publishInvalidation")
      yield* server.start
      const back = Date.now()
      yield* sub.until("Connected").pipe(Effect.timeout("5 seconds"))
      console.log(`listening again ${Date.now() - back} ms after the server is back`)
      // The command connection reconnects on its own schedule, maybe after the listening one.
      yield* listener.publish({ _tag: "User", userId: UserId.make("after") }).pipe(
        Effect.retry(Schedule.spaced("20 millis").pipe(Schedule.upTo("5 seconds")))
      )
      assert.deepStrictEqual(yield* sub.until("User"), { _tag: "User", userId: UserId.make("after") })
    }).pipe(Effect.scoped, Effect.timeout("20 seconds")))

  it.live("notices a server that stops answering through the heartbeat", () =>
    Effect.gen(function*() {
      const server = yield* privateRedis()
      const channel = freshChannel()
      const listener = yield* instance(server.url, { channel, heartbeat: "200 millis" })
      const sub = yield* connectedTo(listener)
      yield* server.pause
      const frozen = Date.now()
      yield* sub.until("Disconnected").pipe(Effect.timeout("3 seconds"))
      console.log(`a frozen server noticed after ${Date.now() - frozen} ms`)
      yield* server.resume
      yield* sub.until("Connected").pipe(Effect.timeout("5 seconds"))
      yield* listener.publish({ _tag: "User", userId: UserId.make("after") })
      assert.deepStrictEqual(yield* sub.until("User"), { _tag: "User", userId: UserId.make("after") })
    }).pipe(Effect.scoped, Effect.timeout("20 seconds")))

  it.live("two instances with shared caches: a logout on one is refused on the other at once", () =>
    Effect.gen(function*() {
      const channel = freshChannel()
      // One account store (the database both instances use); a cache and a Redis connection per instance.
      const accounts = Layer.succeedContext(yield* Layer.build(MemoryUserStore.layer))
      const app = Layer.build(UserHarborTest.layerWithStore(
        SessionCache.layerShared({ ttl: "1 minute" }).pipe(
          Layer.provideMerge(RedisSessionInvalidation.layer({ channel })),
          Layer.provide(RedisClient.layer({ url: Redacted.make(url) })),
          Layer.provideMerge(accounts)
        )
      ))
      const [a, b] = yield* Effect.all([app, app])
      const session = yield* Effect.provide(loggedIn(alice), a)
      const validate = Effect.flatMap(UserHarbor, (h) => h.validateSession(session.token))
      // Wait until b's cache listens, then fill it.
      const started = Date.now()
      while (Either.isLeft(yield* Effect.either(Effect.provide(validate, b))) && Date.now() - started < 5000) {
        yield* Effect.sleep("10 millis")
      }
      yield* Effect.provide(validate, b)
      yield* Effect.sleep("100 millis") // the channel is up by now
      yield* Effect.provide(validate, b)

      yield* Effect.provide(Effect.flatMap(UserHarbor, (h) => h.logout(session.token)), a)
      const loggedOut = Date.now()
      while (Either.isRight(yield* Effect.either(Effect.provide(validate, b))) && Date.now() - loggedOut < 5000) {
        yield* Effect.sleep("1 millis")
      }
      const refusedAfter = Date.now() - loggedOut
      console.log(`a logout on instance a refused on instance b after ${refusedAfter} ms (cache ttl: 1 minute)`)
      const outcome = yield* Effect.either(Effect.provide(validate, b))
      expect(Either.isLeft(outcome) && outcome.left._tag).toBe("InvalidSession")
      expect(refusedAfter).toBeLessThan(1000)
    }).pipe(Effect.scoped, Effect.timeout("30 seconds")))

  it.live("the wiring of docs/redis.md: Redis counters, a shared cache, and two connections per instance", () =>
    Effect.gen(function*() {
      const server = yield* privateRedis()
      const prefix = "docs:"
      const Store = SessionCache.layerShared({ ttl: "5 seconds" }).pipe(
        Layer.provideMerge(RedisSessionInvalidation.layer({ channel: freshChannel() })),
        Layer.provideMerge(RedisCounterStore.layer({ prefix })),
        Layer.provideMerge(SqliteUserStore.layer({ filename: ":memory:" })),
        Layer.provide(RedisClient.layer({ url: Redacted.make(server.url) }))
      )
      const context = yield* Layer.build(UserHarborTest.layerWithStore(Store))
      yield* Effect.provide(registerVerified(alice), context)
      yield* Effect.provide(Effect.flip(loginAs({ ...alice, password: "wrong-password-here" })), context)
      const redis = new Redis(server.url)
      const indexed = yield* Effect.promise(() => redis.zcard(`${prefix}counters`))
      const clients = yield* Effect.promise(() => redis.client("LIST"))
      redis.disconnect()
      expect(indexed).toBeGreaterThan(0)
      expect(String(clients).split("\n").filter((line) => line.includes("name=userharbor ")).length).toBe(2)
    }).pipe(Effect.scoped))
})
