/**
 * The storage port for throttling counters: named counts in fixed windows (failed logins per account and per name,
 * attempts per client, mails and registrations per address). A store that keeps accounts usually provides it on
 * the same backend (`SqlUserStore.layer`, `MemoryUserStore.layer` do), and its writes then join the `UserStore`'s
 * `withTransaction`; a store of its own (a cache server, say) can provide it instead.
 *
 * The contract (checked by the counter cases of `StoreConformance`):
 * - `incrementCounter` is one atomic step (an upsert, never a read-then-write): of N concurrent increments of a
 *   key, each sees a distinct count and the final count is exactly N more.
 * - `releaseCounter` is atomic too, and never takes a count below 0.
 * - Instants are epoch milliseconds from `Clock`.
 *
 * @since 0.3.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type { StoreError } from "./Errors.js"

/**
 * A named counter (failed logins, mails sent). `windowStart` is when the current count began, `updatedAt` when
 * it last grew.
 *
 * @since 0.1.0
 * @category models
 */
export interface CounterRecord {
  readonly count: number
  readonly windowStart: number
  readonly updatedAt: number
}

/**
 * The shape of the `CounterStore` service, apart from its tag.
 *
 * @since 0.3.0
 * @category models
 */
export interface CounterStoreService {
  /**
   * Atomically adds one to the counter `key` and returns the new count. When there is no counter yet, or its
   * window began at or before `now - windowMs` (a fixed window), the count restarts at 1 with `windowStart = now`.
   * `updatedAt` becomes `now` either way.
   */
  readonly incrementCounter: (
    increment: { readonly key: string; readonly now: number; readonly windowMs: number }
  ) => Effect.Effect<number, StoreError>
  readonly getCounter: (key: string) => Effect.Effect<Option.Option<CounterRecord>, StoreError>
  readonly deleteCounter: (key: string) => Effect.Effect<void, StoreError>
  /**
   * Atomically takes one back from the counter `key`: gives back a reservation that was not used (a login slot
   * whose attempt succeeded). Never below 0; no change when there is no counter or its window began after `since`
   * (the increment being given back belonged to an earlier window). `windowStart` and `updatedAt` stay.
   */
  readonly releaseCounter: (
    release: { readonly key: string; readonly since: number }
  ) => Effect.Effect<void, StoreError>
  /**
   * Removes counters last updated at or before `olderThan`, at most `limit`, and returns how many. Counters are
   * small but an attacker can create one per name tried; note that purging a login counter also lifts its lock.
   */
  readonly purgeCounters: (
    options: { readonly olderThan: number; readonly limit: number }
  ) => Effect.Effect<number, StoreError>
}

/**
 * @since 0.3.0
 * @category tags
 */
export class CounterStore extends Context.Tag("userharbor/CounterStore")<CounterStore, CounterStoreService>() {}
