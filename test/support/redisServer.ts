/**
 * Redis for the tests: the shared server of `USERHARBOR_TEST_REDIS_URL` (every layer under a key prefix of its
 * own, whose keys are deleted when the layer's scope closes), and (from `privateRedis.ts`) private `redis-server`
 * processes on free ports that a test may stop and start again. The shared server is never stopped.
 */
import { Effect, Layer, Redacted, type Scope } from "effect"
import { Redis } from "ioredis"
import { randomBytes } from "node:crypto"
import type { CounterStore } from "../../src/CounterStore.js"
import type { StoreError } from "../../src/Errors.js"
import * as RedisClient from "../../src/RedisClient.js"
import * as RedisCounterStore from "../../src/RedisCounterStore.js"
import { freePort } from "./freePort.js"
import { describeWith } from "./sqlDatabases.js"

export const redisVariable = "USERHARBOR_TEST_REDIS_URL"

/** `describeWith` on the Redis test URL: skipped, with a notice, when it is unset. */
export const describeRedis = (title: string, body: (url: string) => void): void =>
  describeWith(redisVariable, `Redis ${title}`, body)

export { freePort }

/** Deletes every key under `prefix` (a test's own), with a connection of its own. */
const deletePrefix = (url: string, prefix: string) =>
  Effect.promise(async () => {
    const redis = new Redis(url, { lazyConnect: true })
    redis.on("error", () => {})
    try {
      await redis.connect()
      let cursor = "0"
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000)
        cursor = next
        if (keys.length > 0) await redis.del(...keys)
      } while (cursor !== "0")
    } finally {
      redis.disconnect()
    }
  })

/** A key prefix of its own on the server at `url`, its keys deleted when the scope closes. */
export const testPrefix = (url: string): Effect.Effect<string, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => `userharbor-test:${randomBytes(6).toString("hex")}:`),
    (prefix) => deletePrefix(url, prefix)
  )

/** `RedisCounterStore` on the server at `url`, under a fresh prefix (so: empty), with its client. */
export const redisCounters = (
  url: string,
  client: Partial<RedisClient.Options> = {}
): Layer.Layer<CounterStore | RedisClient.RedisClient, StoreError> =>
  Layer.unwrapScoped(Effect.map(testPrefix(url), (prefix) =>
    RedisCounterStore.layer({ prefix }).pipe(
      Layer.provideMerge(RedisClient.layer({ ...client, url: Redacted.make(url) }))
    )))

export { type PrivateRedis, privateRedis } from "./privateRedis.js"
