/**
 * The throttling suite with its counters on Redis (`RedisCounterStore`, a fresh key prefix per test) and the
 * accounts in memory or in SQLite: the throttle's counter writes no longer join the `UserStore`'s transaction,
 * and must still give the same answers.
 */
import { Layer } from "effect"
import * as MemoryUserStore from "../../src/MemoryUserStore.js"
import * as SqliteUserStore from "../../src/SqliteUserStore.js"
import { throttlingSuite } from "../suites/ThrottlingSuite.js"
import { describeRedis, redisCounters } from "../support/redisServer.js"

describeRedis("counters", (url) => {
  throttlingSuite(
    "redis counters, memory accounts",
    () => redisCounters(url).pipe(Layer.provideMerge(MemoryUserStore.layer))
  )
  throttlingSuite(
    "redis counters, SQLite accounts",
    () => redisCounters(url).pipe(Layer.provideMerge(SqliteUserStore.layer({ filename: ":memory:" })))
  )
})
