/**
 * The `CounterStore` on Redis: throttling counters shared by every app instance without a row write per counter
 * in the database. Each operation is one round trip (a Lua script, atomic on the server, or one `HMGET`):
 *
 * ```ts
 * const Counters = RedisCounterStore.layer().pipe(Layer.provide(RedisClient.layerConfig()))
 * // The Redis counters replace the ones the SQL store provides (the outer layer's service wins):
 * const Store = Counters.pipe(Layer.provideMerge(PgUserStore.layerConfig()))
 * ```
 *
 * Layout, under the key prefix (`userharbor:` by default): a hash `<prefix>counter:<key>` per counter (`c` count,
 * `w` window start, `u` last update) and one sorted set `<prefix>counters` of the keys by last update, which
 * `purgeCounters` reads. Counters carry no Redis expiry: a login lock lasts until a success, a reset or a purge,
 * whatever the server's clock says. A script reaches keys it computes, so Redis Cluster is not supported.
 *
 * **Counters do not join the `UserStore`'s transactions.** A counter written inside `withTransaction` stays written
 * when the transaction rolls back, and one deleted stays deleted. For throttling this errs on the safe side or
 * does not matter: a registration that rolls back still counts against its limits; the counters cleared by a
 * password reset or a verification are cleared even if that transaction then fails (the lock was the owner's to
 * lift); a successful login's counter writes, made in one SQL transaction with SQL counters, become four separate
 * commands, so a failure between them leaves some cleared and some not (each is cleared again by the next success).
 *
 * **Redis down fails closed.** Every operation then fails with `StoreError` (its `operation` names it), and the
 * library passes it on: a login, a registration, a resend or a password reset answers `StoreError` instead of
 * going on unthrottled. See `RedisClient` for how long a command waits and how the client reconnects.
 *
 * @since 0.3.0
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { type CounterRecord, CounterStore, type CounterStoreService } from "./CounterStore.js"
import { StoreError } from "./Errors.js"
import { command, isInteger, loadScript, runScript } from "./internal/redis.js"
import { RedisClient } from "./RedisClient.js"

/**
 * @since 0.3.0
 * @category models
 */
export interface Options {
  /**
   * What every key starts with; `"userharbor:"` by default. Apps (or test runs) sharing one Redis database keep
   * apart by prefix.
   */
  readonly prefix?: string | undefined
}

// KEYS[1] the counter, KEYS[2] the index; ARGV key, now, windowMs. The window restarts when it began at or before
// `now - windowMs` (Lua numbers are doubles: exact for epoch milliseconds and for `Number.MAX_SAFE_INTEGER`).
const incrementLua = `
local start = redis.call("HGET", KEYS[1], "w")
local count = 1
if start and tonumber(start) > tonumber(ARGV[2]) - tonumber(ARGV[3]) then
  count = redis.call("HINCRBY", KEYS[1], "c", 1)
  redis.call("HSET", KEYS[1], "u", ARGV[2])
else
  redis.call("HSET", KEYS[1], "c", 1, "w", ARGV[2], "u", ARGV[2])
end
redis.call("ZADD", KEYS[2], ARGV[2], ARGV[1])
return count`

// KEYS[1] the counter; ARGV since. No change when the counter is missing or its window began after `since`.
const releaseLua = `
local counter = redis.call("HMGET", KEYS[1], "c", "w")
if counter[2] and tonumber(counter[2]) <= tonumber(ARGV[1]) and tonumber(counter[1]) > 0 then
  redis.call("HINCRBY", KEYS[1], "c", -1)
end
return 0`

// KEYS[1] the counter, KEYS[2] the index; ARGV key.
const deleteLua = `
redis.call("DEL", KEYS[1])
redis.call("ZREM", KEYS[2], ARGV[1])
return 0`

// KEYS[1] the index; ARGV olderThan, limit, the counters' key prefix.
const purgeLua = `
local keys = redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", ARGV[1], "LIMIT", 0, tonumber(ARGV[2]))
for _, key in ipairs(keys) do
  redis.call("DEL", ARGV[3] .. key)
  redis.call("ZREM", KEYS[1], key)
end
return #keys`

/**
 * The store on the `RedisClient` in context; loads its scripts on the server.
 *
 * @since 0.3.0
 * @category constructors
 */
export const make = Effect.fnUntraced(function*(options: Options = {}) {
  const { redis } = yield* RedisClient
  const prefix = options.prefix ?? "userharbor:"
  const counterPrefix = `${prefix}counter:`
  const index = `${prefix}counters`
  const counterKey = (key: string) => `${counterPrefix}${key}`
  const [increment, release, remove, purge] = yield* Effect.all(
    [
      loadScript(redis, incrementLua),
      loadScript(redis, releaseLua),
      loadScript(redis, deleteLua),
      loadScript(
        redis,
        purgeLua
      )
    ]
  )

  // A reply of another shape means something else wrote under our prefix: a `StoreError`, not a wrong count.
  const integer = (operation: string) => (reply: unknown): Effect.Effect<number, StoreError> =>
    isInteger(reply)
      ? Effect.succeed(reply)
      : Effect.fail(new StoreError({ operation, reason: "Redis answered with an unexpected reply" }))

  const getCounter = (key: string): Effect.Effect<Option.Option<CounterRecord>, StoreError> =>
    Effect.flatMap(command("getCounter", () => redis.hmget(counterKey(key), "c", "w", "u")), ([c, w, u]) => {
      if (c === null || c === undefined || w === null || w === undefined || u === null || u === undefined) {
        return Effect.succeedNone
      }
      const counter = { count: Number(c), windowStart: Number(w), updatedAt: Number(u) }
      return Object.values(counter).every(Number.isFinite)
        ? Effect.succeedSome(counter)
        : Effect.fail(new StoreError({ operation: "getCounter", reason: "Redis holds a malformed counter" }))
    })

  return CounterStore.of(
    {
      incrementCounter: ({ key, now, windowMs }) =>
        Effect.flatMap(
          runScript(redis, "incrementCounter", increment, [counterKey(key), index], [key, now, windowMs]),
          integer("incrementCounter")
        ),
      getCounter,
      deleteCounter: (key) => Effect.asVoid(runScript(redis, "deleteCounter", remove, [counterKey(key), index], [key])),
      releaseCounter: ({ key, since }) =>
        Effect.asVoid(runScript(redis, "releaseCounter", release, [counterKey(key)], [since])),
      purgeCounters: ({ limit, olderThan }) =>
        // `LIMIT 0 -1` would mean no limit.
        limit <= 0 ? Effect.succeed(0) : Effect.flatMap(
          runScript(redis, "purgeCounters", purge, [index], [olderThan, Math.floor(limit), counterPrefix]),
          integer("purgeCounters")
        )
    } satisfies CounterStoreService
  )
})

/**
 * The `CounterStore` on the `RedisClient` it is provided with. Provide it over the app's store so that it
 * replaces that store's counters (see the module comment).
 *
 * @since 0.3.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<CounterStore, StoreError, RedisClient> =>
  Layer.effect(CounterStore, make(options))
