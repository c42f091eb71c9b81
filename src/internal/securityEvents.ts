/**
 * The recorder that operations use to add to the security-event trail. `record` appends the event through the
 * `SecurityEventStore` (so it joins the caller's transaction) and queues it; `transaction` runs a change in the
 * store's transaction and publishes what the change recorded only once it committed. Without a store in context
 * events are only published; without `SecurityEvents` only stored.
 *
 * Always record inside `transaction` (nesting is fine: an inner one is a savepoint, and a failed savepoint drops
 * what it queued). A `record` outside any `transaction` is its own statement and publishes at once.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { StoreError } from "../Errors.js"
import { SecureRandom, type SecureRandomService } from "../SecureRandom.js"
import * as SecurityEvent from "../SecurityEvent.js"
import { SecurityEvents, type SecurityEventsService } from "../SecurityEvents.js"
import { SecurityEventStore, type SecurityEventStoreService } from "../SecurityEventStore.js"
import type { SessionId, UserId } from "../User.js"
import { UserStore, type UserStoreService } from "../UserStore.js"

/** What the caller knows about the circumstances; every field optional. */
export interface Details {
  readonly sessionId?: SessionId | undefined
  readonly actorId?: string | undefined
  readonly clientKey?: string | undefined
  readonly userAgent?: string | undefined
  readonly address?: string | undefined
}

export interface Recorder {
  /** Appends the event in the current transaction and queues it for publication after commit. */
  readonly record: (
    userId: UserId,
    details: Details,
    event: (common: SecurityEvent.Common) => SecurityEvent.SecurityEvent
  ) => Effect.Effect<void, StoreError>
  /** Publishes an event about no account, at once; never stored. */
  readonly publish: (
    details: Details,
    event: (common: SecurityEvent.AnonymousCommon) => SecurityEvent.AnonymousEvent
  ) => Effect.Effect<void>
  /** The store's `withTransaction`, publishing the events recorded inside after it commits. */
  readonly transaction: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | StoreError, R>
  /** One event in a transaction of its own. */
  readonly recordAlone: (
    userId: UserId,
    details: Details,
    event: (common: SecurityEvent.Common) => SecurityEvent.SecurityEvent
  ) => Effect.Effect<void, StoreError>
}

export interface Deps {
  readonly store: UserStoreService
  readonly events: Option.Option<SecurityEventStoreService>
  readonly feed: Option.Option<SecurityEventsService>
  readonly random: SecureRandomService
}

// A stored event that cannot be encoded is a bug in its class: a defect.
const encode = Schema.encode(SecurityEvent.Json)

export const make = ({ events, feed, random, store }: Deps): Recorder => {
  // The events a running `transaction` has recorded so far; `None` outside one.
  const pendingRef = FiberRef.unsafeMake(Option.none<Array<SecurityEvent.PublishedEvent>>())

  const publishAll = (published: ReadonlyArray<SecurityEvent.PublishedEvent>) =>
    Option.match(feed, {
      onNone: () => Effect.void,
      onSome: (hub) => Effect.forEach(published, hub.publish, { discard: true })
    })

  const anonymousCommon = (details: Details) =>
    Effect.all({
      id: Effect.map(random.nextBytes(16), (bytes) => Buffer.from(bytes).toString("hex")),
      at: Effect.map(Clock.currentTimeMillis, (millis) => new Date(millis))
    }).pipe(Effect.map(({ at, id }): SecurityEvent.AnonymousCommon => ({
      id,
      at,
      sessionId: Option.fromNullable(details.sessionId),
      actorId: Option.fromNullable(details.actorId),
      clientKey: Option.fromNullable(details.clientKey),
      userAgent: Option.fromNullable(details.userAgent),
      address: Option.fromNullable(details.address)
    })))

  const append = (event: SecurityEvent.SecurityEvent): Effect.Effect<void, StoreError> =>
    Option.match(events, {
      onNone: () => Effect.void,
      onSome: (port) =>
        Effect.flatMap(Effect.orDie(encode(event)), (payload) =>
          port.appendEvent({
            id: event.id,
            userId: event.userId,
            at: event.at.getTime(),
            type: event._tag,
            payload
          }))
    })

  const record: Recorder["record"] = (userId, details, make) =>
    Effect.gen(function*() {
      const event = make({ ...(yield* anonymousCommon(details)), userId })
      yield* append(event)
      const pending = yield* FiberRef.get(pendingRef)
      if (Option.isSome(pending)) pending.value.push(event)
      else yield* publishAll([event])
    })

  const transaction = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | StoreError, R> =>
    Effect.flatMap(FiberRef.get(pendingRef), (outer) => {
      if (Option.isSome(outer)) {
        // A savepoint: if it fails, what it queued is rolled back with it.
        const queued = outer.value
        return Effect.suspend(() => {
          const mark = queued.length
          return Effect.tapErrorCause(store.withTransaction(self), () => Effect.sync(() => queued.splice(mark)))
        })
      }
      return Effect.suspend(() => {
        const queued: Array<SecurityEvent.PublishedEvent> = []
        // A retried transaction runs its body again: start its queue afresh each time.
        const body = Effect.suspend(() => {
          queued.splice(0)
          return self
        })
        return Effect.tap(
          store.withTransaction(Effect.locally(body, pendingRef, Option.some(queued))),
          () => publishAll(queued)
        )
      })
    })

  return {
    record,
    publish: (details, make) => Effect.flatMap(anonymousCommon(details), (common) => publishAll([make(common)])),
    transaction,
    recordAlone: (userId, details, make) => transaction(record(userId, details, make))
  }
}

/** The recorder over the ports in context (the event store and the feed are optional). */
export const fromContext: Effect.Effect<Recorder, never, UserStore | SecureRandom> = Effect.gen(function*() {
  return make({
    store: yield* UserStore,
    events: yield* Effect.serviceOption(SecurityEventStore),
    feed: yield* Effect.serviceOption(SecurityEvents),
    random: yield* SecureRandom
  })
})
