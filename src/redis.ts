/**
 * Redis for the pieces several app instances share, `userharbor/redis` (needs `ioredis`): the throttling counters
 * (`RedisCounterStore`) and the channel that tells every instance's session cache about revocations
 * (`RedisSessionInvalidation`), on a shared connection (`RedisClient`).
 *
 * @since 0.3.0
 */

/**
 * @since 0.3.0
 */
export * as RedisClient from "./RedisClient.js"
/**
 * @since 0.3.0
 */
export * as RedisCounterStore from "./RedisCounterStore.js"
/**
 * @since 0.3.0
 */
export * as RedisSessionInvalidation from "./RedisSessionInvalidation.js"
