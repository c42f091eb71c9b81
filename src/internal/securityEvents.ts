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
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { randomBytes } from "node:crypto"
import type { StoreError } from "../Errors.js"
import * as SecurityEvent from "../SecurityEvent.js"
import { SecurityEvents, type SecurityEventsService } from "../SecurityEvents.js"
import { SecurityEventStore, type SecurityEventStoreService } from "../SecurityEventStore.js"
import { type SessionId, UserId } from "../User.js"
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
  /**
   * Publishes an event about no account (after commit, inside `transaction`); never stored, but it costs what
   * storing one costs (a write undone in a savepoint), so the time of an answer does not tell a known account from
   * an unknown one.
   */
  readonly publish: (
    details: Details,
    event: (common: SecurityEvent.AnonymousCommon) => SecurityEvent.AnonymousEvent
  ) => Effect.Effect<void, StoreError>
  /** The store's `withTransaction`, publishing the events recorded inside after it commits. */
  readonly transaction: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | StoreError, R>
  /** A `TooManyAttempts`: stored for a known account, published only for none. */
  readonly throttled: (
    account: Option.Option<UserId>,
    operation: SecurityEvent.Throttled["operation"],
    details: Details
  ) => Effect.Effect<void, StoreError>
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
}

// A stored event that cannot be encoded is a bug in its class: a defect.
const encode = Schema.encode(SecurityEvent.Json)
const encodeAnonymous = Schema.encode(Schema.parseJson(SecurityEvent.AnonymousEvent))

/** Undoes the decoy write of `publish`. */
class DecoyRollback extends Data.TaggedError("DecoyRollback") {}

export const make = ({ events, feed, store }: Deps): Recorder => {
  // The events a running `transaction` has recorded so far; `None` outside one.
  const pendingRef = FiberRef.unsafeMake(Option.none<Array<SecurityEvent.PublishedEvent>>())

  const publishAll = (published: ReadonlyArray<SecurityEvent.PublishedEvent>) =>
    Option.match(feed, {
      onNone: () => Effect.void,
      onSome: (hub) => Effect.forEach(published, hub.publish, { discard: true })
    })

  // Ids sort by time, then by order of recording in this process, so events of one millisecond read back in the
  // order they happened. The tail need not be secret, only unique across instances: drawn from the system's
  // generator, not `SecureRandom`, so two instances on one deterministic test seed cannot collide.
  let sequence = 0
  const newId = (millis: number) => {
    sequence = (sequence + 1) % 0x1_0000_0000
    const time = Math.max(0, Math.floor(millis)).toString(16).padStart(12, "0")
    return `${time}${sequence.toString(16).padStart(8, "0")}${randomBytes(8).toString("hex")}`
  }
  const anonymousCommon = (details: Details) =>
    Effect.map(Clock.currentTimeMillis, (millis): SecurityEvent.AnonymousCommon => ({
      id: newId(millis),
      at: new Date(millis),
      sessionId: Option.fromNullable(details.sessionId),
      actorId: Option.fromNullable(details.actorId),
      clientKey: Option.fromNullable(details.clientKey),
      userAgent: Option.fromNullable(details.userAgent),
      address: Option.fromNullable(details.address)
    }))

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

  // After commit inside `transaction`; at once outside one.
  const enqueue = (event: SecurityEvent.PublishedEvent) =>
    Effect.flatMap(
      FiberRef.get(pendingRef),
      (pending) => Option.isSome(pending) ? Effect.sync(() => pending.value.push(event)) : publishAll([event])
    )

  const record: Recorder["record"] = (userId, details, make) =>
    Effect.gen(function*() {
      const event = make({ ...(yield* anonymousCommon(details)), userId })
      yield* append(event)
      yield* enqueue(event)
    })

  const decoy = (event: SecurityEvent.AnonymousEvent): Effect.Effect<void, StoreError> =>
    Option.match(events, {
      onNone: () => Effect.void,
      onSome: (port) =>
        Effect.gen(function*() {
          const payload = yield* Effect.orDie(encodeAnonymous(event))
          const userId = UserId.make(randomBytes(16).toString("hex"))
          const write = port.appendEvent({ id: event.id, userId, at: event.at.getTime(), type: event._tag, payload })
          yield* store.withTransaction(Effect.zipRight(write, new DecoyRollback())).pipe(
            Effect.catchTag("DecoyRollback", () => Effect.void)
          )
        })
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

  const publish: Recorder["publish"] = (details, make) =>
    Effect.flatMap(anonymousCommon(details), (common) => {
      const event = make(common)
      return Effect.zipRight(decoy(event), enqueue(event))
    })
  const recordAlone: Recorder["recordAlone"] = (userId, details, make) => transaction(record(userId, details, make))

  return {
    record,
    publish,
    transaction,
    throttled: (account, operation, details) =>
      Option.match(account, {
        onNone: () => publish(details, (common) => new SecurityEvent.AnonymousThrottled({ ...common, operation })),
        onSome: (userId) =>
          recordAlone(userId, details, (common) => new SecurityEvent.Throttled({ ...common, operation }))
      }),
    recordAlone
  }
}

/** The recorder over the ports in context (the event store and the feed are optional). */
export const fromContext: Effect.Effect<Recorder, never, UserStore> = Effect.gen(function*() {
  return make({
    store: yield* UserStore,
    events: yield* Effect.serviceOption(SecurityEventStore),
    feed: yield* Effect.serviceOption(SecurityEvents)
  })
})
