/**
 * The storage port of the security-event trail: append an event, read a user's events newest first, purge old
 * ones. A store that keeps accounts provides it on the same backend (`SqlUserStore.layer`, `MemoryUserStore.layer`
 * do), so an append joins the `UserStore`'s `withTransaction` and commits or rolls back with the change it
 * describes. UserHarbor uses it when it is in context; without it events are published (see `SecurityEvents`),
 * not stored.
 *
 * The contract (checked for every implementation by `securityEventStoreCases` of `StoreConformance`):
 * - Events are never updated. `appendEvent` inside `withTransaction` is undone by a rollback.
 * - Events outlive the account: `UserStore.deleteUser` and the purge of unverified accounts leave them; only
 *   `purgeEvents` removes them.
 * - `listUserEvents` orders by `at` descending, then `id` descending (a stable order for equal times), and
 *   returns at most `limit` events strictly after the cursor in that order (older than `before`).
 * - `purgeEvents` removes at most `limit` events whose `at` is before `before` and returns how many.
 * - The payload is opaque: the store keeps the text as given. Instants are epoch milliseconds from `Clock`.
 *
 * @since 0.3.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type { StoreError } from "./Errors.js"
import type { UserId } from "./User.js"

/**
 * An event as stored. `type` is the event's `_tag`; `payload` the whole event encoded by UserHarbor (JSON text).
 *
 * @since 0.3.0
 * @category models
 */
export interface SecurityEventRecord {
  readonly id: string
  readonly userId: UserId
  readonly at: number
  readonly type: string
  readonly payload: string
}

/**
 * A position in a user's events: the `at` and `id` of the last event of the previous page.
 *
 * @since 0.3.0
 * @category models
 */
export interface EventCursor {
  readonly at: number
  readonly id: string
}

/**
 * @since 0.3.0
 * @category models
 */
export interface EventQuery {
  readonly userId: UserId
  readonly limit: number
  /** Only events older than this position; from the newest when `None`. */
  readonly before: Option.Option<EventCursor>
}

/**
 * The shape of the `SecurityEventStore` service, apart from its tag.
 *
 * @since 0.3.0
 * @category models
 */
export interface SecurityEventStoreService {
  readonly appendEvent: (event: SecurityEventRecord) => Effect.Effect<void, StoreError>
  readonly listUserEvents: (query: EventQuery) => Effect.Effect<ReadonlyArray<SecurityEventRecord>, StoreError>
  readonly purgeEvents: (options: { readonly before: number; readonly limit: number }) => Effect.Effect<
    number,
    StoreError
  >
}

/**
 * @since 0.3.0
 * @category tags
 */
export class SecurityEventStore extends Context.Tag("userharbor/SecurityEventStore")<
  SecurityEventStore,
  SecurityEventStoreService
>() {}
