/**
 * `userharbor/redis` on a real server: the counter port's conformance cases on the shared server
 * (`USERHARBOR_TEST_REDIS_URL`); on private `redis-server` processes, one round trip per counter operation
 * (counted with `MONITOR`), the start-up failures, and Redis stopped mid-run: a login answers `StoreError` (fails
 * closed), then works again once the server is back, without rebuilding anything.
 */
import { assert, describe, expect, it, layer } from "@effect/vitest"
import { ConfigProvider, Effect, Either, Layer, Redacted } from "effect"
import { Redis } from "ioredis"
import { CounterStore } from "../../src/CounterStore.js"
import { StoreError } from "../../src/Errors.js"
import * as MemoryUserStore from "../../src/MemoryUserStore.js"
import * as RedisClient from "../../src/RedisClient.js"
import * as RedisCounterStore from "../../src/RedisCounterStore.js"
import { StoreConformance } from "../../src/testing.js"
import { UserHarbor } from "../../src/UserHarbor.js"
import * as UserHarborTest from "../../src/UserHarborTest.js"
import { alice, loginAs, password, registerVerified } from "../support/fixtures.js"
import { describeRedis, freePort, privateRedis, redisCounters, testPrefix } from "../support/redisServer.js"
import { renderings } from "../support/renderings.js"

describeRedis("counter store", (url) => {
  layer(redisCounters(url), { timeout: "60 seconds" })("store conformance (redis counters)", (it) => {
    describe("CounterStore", () => {
      for (const conformanceCase of StoreConformance.counterStoreCases) {
        it.effect(conformanceCase.name, () => conformanceCase.run)
      }
    })
  })
})

/**
 * The commands a client sends (not those its scripts run), as `MONITOR` on the server sees them. MONITOR reports
 * asynchronously, in the server's order: once it shows an ECHO sent on the client's connection, it has shown
 * everything sent before it. So `count` counts what an effect sends between two ECHOs.
 */
const monitorOf = (url: string, redis: Redis) =>
  Effect.map(
    Effect.acquireRelease(
      Effect.promise(async () => {
        const connection = new Redis(url)
        const monitor = await connection.monitor()
        const seen: Array<{ readonly command: string; readonly argument: string | undefined }> = []
        monitor.on("monitor", (_time: string, args: ReadonlyArray<string>, source: string) => {
          if (source !== "lua") seen.push({ command: String(args[0]).toLowerCase(), argument: args[1] })
        })
        return { connection, monitor, seen }
      }),
      ({ connection, monitor }) => Effect.sync(() => (monitor.disconnect(), connection.disconnect()))
    ),
    ({ seen }) => {
      const barrier = (label: string) =>
        Effect.gen(function*() {
          yield* Effect.promise(() => redis.echo(label))
          let index = -1
          while ((index = seen.findIndex((c) => c.command === "echo" && c.argument === label)) < 0) {
            yield* Effect.sleep("5 millis")
          }
          return index + 1
        })
      return <E, R>(label: string, effect: Effect.Effect<unknown, E, R>) =>
        Effect.gen(function*() {
          const from = yield* barrier(`before ${label}`)
          yield* Effect.either(effect)
          const to = yield* barrier(`after ${label}`)
          return [label, seen.slice(from, to - 1).map((c) => c.command)] as const
        })
    }
  )

describeRedis("on a private server", () => {
  it.live("every counter operation is one round trip: one command, a script or HMGET", () =>
    Effect.gen(function*() {
      const server = yield* privateRedis()
      const context = yield* Layer.build(redisCounters(server.url))
      const counters = Effect.runSync(Effect.provide(CounterStore, context))
      const { redis } = Effect.runSync(Effect.provide(RedisClient.RedisClient, context))
      const sent = yield* monitorOf(server.url, redis)
      const now = 1_767_225_600_000
      const measured = [
        yield* sent("incrementCounter (new)", counters.incrementCounter({ key: "k", now, windowMs: 60_000 })),
        yield* sent("incrementCounter", counters.incrementCounter({ key: "k", now: now + 1, windowMs: 60_000 })),
        yield* sent(
          "incrementCounter (new window)",
          counters.incrementCounter({ key: "k", now: now + 60_001, windowMs: 60_000 })
        ),
        yield* sent("getCounter", counters.getCounter("k")),
        yield* sent("releaseCounter", counters.releaseCounter({ key: "k", since: now + 60_001 })),
        yield* sent("purgeCounters", counters.purgeCounters({ olderThan: now, limit: 100 })),
        yield* sent("deleteCounter", counters.deleteCounter("k"))
      ]
      console.log(`redis commands per operation: ${JSON.stringify(Object.fromEntries(measured))}`)
      for (const [label, commands] of measured) {
        expect(commands, label).toEqual([label === "getCounter" ? "hmget" : "evalsha"])
      }
      // Sequential round trips on loopback, for the docs.
      const started = performance.now()
      for (let i = 0; i < 2000; i++) yield* counters.incrementCounter({ key: "timed", now, windowMs: 60_000 })
      console.log(`incrementCounter: ${((performance.now() - started) / 2000 * 1000).toFixed(0)} µs per call`)
    }).pipe(Effect.scoped))

  it.live("what a login costs in Redis commands (throttling on, with and without a client key)", () =>
    Effect.gen(function*() {
      const server = yield* privateRedis()
      const store = redisCounters(server.url).pipe(Layer.provideMerge(MemoryUserStore.layer))
      const context = yield* Layer.build(UserHarborTest.layerWithStore(store))
      const { redis } = Effect.runSync(Effect.provide(RedisClient.RedisClient, context))
      const sent = yield* monitorOf(server.url, redis)
      yield* Effect.provide(registerVerified(alice), context)
      const login = (pw: string, clientKey?: string) =>
        Effect.provide(
          Effect.flatMap(UserHarbor, (h) =>
            h.login(
              clientKey === undefined ? { username: alice.username, password: pw } : {
                username: alice.username,
                password: pw,
                clientKey
              }
            )),
          context
        )
      const measured = [
        yield* sent("failed login", login("wrong-password-here")),
        yield* sent("successful login", login(password)),
        yield* sent("failed login with a client key", login("wrong-password-here", "203.0.113.7")),
        yield* sent("successful login with a client key", login(password, "203.0.113.7"))
      ]
      console.log(`redis commands per login: ${JSON.stringify(Object.fromEntries(measured))}`)
      // Reads of the name and budget counters (and the client's), then their increments; a success deletes the
      // account's three counters (and gives the client's slot back).
      expect(measured.map(([, commands]) => commands.length)).toEqual([4, 7, 6, 10])
    }).pipe(Effect.scoped))

  it.live("a server that lost its scripts (restarted) is given them again: EVALSHA, then EVAL", () =>
    Effect.gen(function*() {
      const server = yield* privateRedis()
      const context = yield* Layer.build(redisCounters(server.url))
      const counters = Effect.runSync(Effect.provide(CounterStore, context))
      const { redis } = Effect.runSync(Effect.provide(RedisClient.RedisClient, context))
      yield* counters.incrementCounter({ key: "k", now: 1, windowMs: 60_000 })
      yield* Effect.promise(() => redis.script("FLUSH"))
      expect(yield* counters.incrementCounter({ key: "k", now: 2, windowMs: 60_000 })).toBe(2)
      expect(yield* counters.incrementCounter({ key: "k", now: 3, windowMs: 60_000 })).toBe(3)
    }).pipe(Effect.scoped))

  const hidden = ["hunter2-secret"]
  /** Builds `layer`, expects a `StoreError`, and checks its one line and that no rendering shows the password. */
  const startupLine = <A, E>(built: Layer.Layer<A, E>) =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.scoped(Layer.build(built)))
      assert.instanceOf(error, StoreError)
      console.log(error.message)
      expect(error.message).not.toContain("\n")
      for (const text of renderings(error)) {
        for (const secret of hidden) if (text.includes(secret)) expect.fail(`shows "${secret}": ${text.slice(0, 300)}`)
      }
      return error.message
    })

  it.live("start-up: nothing listens; the option, USERHARBOR_REDIS_URL or the app's setting is named", () =>
    Effect.gen(function*() {
      const port = yield* freePort
      const url = `redis://user:hunter2-secret@127.0.0.1:${port}/0`
      expect(yield* startupLine(RedisClient.layer({ url: Redacted.make(url) }))).toBe(
        `User store failed during connect: nothing listens on 127.0.0.1:${port} (ECONNREFUSED); start the server or fix the host and port in the url option`
      )
      const fromEnv = yield* startupLine(RedisClient.layerConfig()).pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["USERHARBOR_REDIS_URL", url]])))
      )
      expect(fromEnv).toContain("in USERHARBOR_REDIS_URL")
    }))

  it.live("start-up: a wrong password, a malformed URL", () =>
    Effect.gen(function*() {
      const server = yield* privateRedis(["--requirepass", "right-password"])
      const wrong = `redis://:hunter2-secret@127.0.0.1:${server.port}`
      expect(yield* startupLine(RedisClient.layer({ url: Redacted.make(wrong) }))).toBe(
        "User store failed during connect: Redis refused the user name or password (WRONGPASS); fix them in the url option"
      )
      expect(yield* startupLine(RedisClient.layer({ url: Redacted.make("hunter2-secret:not a url") }))).toBe(
        "User store failed during connect: the url option is not a redis:// or rediss:// URL (not shown, as it may hold a password); set it to redis://user:password@host:port/db"
      )
      expect(yield* startupLine(RedisClient.layer({ url: Redacted.make("hunter2-secret") }))).toContain(
        "not a redis://"
      )
      // The right password connects.
      const right = `redis://:right-password@127.0.0.1:${server.port}`
      yield* Effect.scoped(Layer.build(RedisClient.layer({ url: Redacted.make(right) })))
    }).pipe(Effect.scoped))

  it.live("Redis stopped mid-run: logins fail closed with StoreError at once, and work again once it is back", () =>
    Effect.gen(function*() {
      const server = yield* privateRedis()
      const store = redisCounters(server.url).pipe(Layer.provideMerge(MemoryUserStore.layer))
      const context = yield* Layer.build(UserHarborTest.layerWithStore(store))
      const run = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provide(effect, context)
      yield* run(registerVerified(alice))
      yield* run(loginAs(alice))

      yield* server.stop
      const started = Date.now()
      const refused = yield* run(Effect.either(loginAs(alice)))
      const elapsed = Date.now() - started
      assert(Either.isLeft(refused))
      assert.instanceOf(refused.left, StoreError)
      // The first counter read of the attempt; the password was never checked.
      expect(refused.left.operation).toBe("getCounter")
      expect(refused.left.reason).toMatch(/^the connection to Redis is down/)
      const registration = yield* run(
        Effect.either(Effect.flatMap(UserHarbor, (h) => h.register({ ...alice, username: "Bob", email: "bob@x.test" })))
      )
      expect(Either.isLeft(registration) && registration.left._tag).toBe("StoreError")
      console.log(`login with Redis down: ${refused.left.message} after ${elapsed} ms`)
      expect(elapsed).toBeLessThan(1000)

      yield* server.start
      const restarted = Date.now()
      // The client reconnects by itself (its back-off is at most 2 s); the same layer then serves logins again.
      let outcome = yield* run(Effect.either(loginAs(alice)))
      while (Either.isLeft(outcome) && Date.now() - restarted < 10_000) {
        yield* Effect.sleep("20 millis")
        outcome = yield* run(Effect.either(loginAs(alice)))
      }
      console.log(`logins work again ${Date.now() - restarted} ms after Redis is back`)
      expect(Either.isRight(outcome)).toBe(true)
      yield* run(Effect.flatMap(UserHarbor, (h) => h.login({ username: alice.username, password })))
    }).pipe(Effect.scoped))

  it.live("a server that stops answering: each command fails after commandTimeout, and answers resume", () =>
    Effect.gen(function*() {
      const server = yield* privateRedis()
      const context = yield* Layer.build(redisCounters(server.url, { commandTimeout: "200 millis" }))
      const counters = Effect.runSync(Effect.provide(CounterStore, context))
      yield* counters.incrementCounter({ key: "k", now: 1, windowMs: 60_000 })
      yield* server.pause
      const started = Date.now()
      const error = yield* Effect.flip(counters.incrementCounter({ key: "k", now: 2, windowMs: 60_000 }))
      const elapsed = Date.now() - started
      yield* server.resume
      console.log(`a frozen server: ${error.message} after ${elapsed} ms`)
      expect(error.reason).toBe("Redis did not answer within the command timeout")
      expect(elapsed).toBeGreaterThanOrEqual(190)
      expect(elapsed).toBeLessThan(1000)
      // The timed-out increment may have run once the server went on; it is never sent again.
      expect(yield* counters.incrementCounter({ key: "k", now: 3, windowMs: 60_000 })).toBeLessThanOrEqual(3)
    }).pipe(Effect.scoped))
})

describeRedis("under a login", (url) => {
  it.live("the counters of a failed login are in Redis, under the prefix, indexed by last update", () =>
    Effect.gen(function*() {
      const prefix = yield* testPrefix(url)
      const store = RedisCounterStore.layer({ prefix }).pipe(
        Layer.provide(RedisClient.layer({ url: Redacted.make(url) })),
        Layer.provideMerge(MemoryUserStore.layer)
      )
      const context = yield* Layer.build(UserHarborTest.layerWithStore(store))
      yield* Effect.provide(registerVerified(alice), context)
      yield* Effect.provide(Effect.flip(loginAs({ ...alice, password: "wrong-password-here" })), context)
      const redis = new Redis(url)
      const indexed = yield* Effect.promise(() => redis.zcard(`${prefix}counters`))
      const keys = yield* Effect.promise(() => redis.keys(`${prefix}counter:*`))
      redis.disconnect()
      // The name and budget counters of the failed login, and the registration and mail counters.
      expect(indexed).toBeGreaterThanOrEqual(2)
      expect(keys.length).toBe(indexed)
    }).pipe(Effect.scoped))
})
