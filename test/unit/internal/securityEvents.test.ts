/**
 * The recorder: events are stored in the caller's transaction and published only after it commits; a rollback
 * (of the transaction or of a savepoint inside it) takes its events with it.
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Either, Option, Queue } from "effect"
import * as SecurityEvents from "../../../src/internal/securityEvents.js"
import * as MemoryUserStore from "../../../src/MemoryUserStore.js"
import { EmailVerified, PasswordChanged, Registered } from "../../../src/SecurityEvent.js"
import * as Feed from "../../../src/SecurityEvents.js"
import { UserId } from "../../../src/User.js"

const userId = UserId.make("0123456789abcdef0123456789abcdef")

const setup = Effect.gen(function*() {
  const built = yield* MemoryUserStore.make
  const feed = yield* Feed.make()
  const published = yield* feed.subscribe
  const recorder = SecurityEvents.make({
    store: built.store,
    events: Option.some(built.events),
    feed: Option.some(feed)
  })
  const stored = Effect.map(
    built.events.listUserEvents({ userId, limit: 100, before: Option.none() }),
    (records) => records.map((record) => record.type)
  )
  const received = Effect.map(Queue.takeAll(published), (all) => Chunk.toReadonlyArray(all).map((e) => e._tag))
  return { recorder, stored, received }
})

describe("security event recorder", () => {
  it.scoped("publishes after the commit, never before", () =>
    Effect.gen(function*() {
      const { received, recorder, stored } = yield* setup
      const inside = yield* recorder.transaction(Effect.gen(function*() {
        yield* recorder.record(userId, {}, (common) => new Registered(common))
        return yield* received
      }))
      expect(inside).toEqual([])
      expect(yield* received).toEqual(["Registered"])
      expect(yield* stored).toEqual(["Registered"])
    }))

  it.scoped("a failed transaction stores and publishes nothing; a failed savepoint only drops its own", () =>
    Effect.gen(function*() {
      const { received, recorder, stored } = yield* setup
      const failed = yield* Effect.either(recorder.transaction(
        Effect.zipRight(recorder.record(userId, {}, (common) => new Registered(common)), Effect.fail("boom"))
      ))
      expect(Either.isLeft(failed)).toBe(true)
      expect(yield* stored).toEqual([])
      expect(yield* received).toEqual([])
      yield* recorder.transaction(Effect.gen(function*() {
        yield* recorder.record(userId, {}, (common) => new EmailVerified(common))
        yield* Effect.either(recorder.transaction(
          Effect.zipRight(recorder.record(userId, {}, (common) => new PasswordChanged(common)), Effect.fail("inner"))
        ))
      }))
      expect(yield* stored).toEqual(["EmailVerified"])
      expect(yield* received).toEqual(["EmailVerified"])
    }))

  it.scoped("without an event store events are published only; without a feed, stored only", () =>
    Effect.gen(function*() {
      const built = yield* MemoryUserStore.make
      const feed = yield* Feed.make()
      const published = yield* feed.subscribe
      const publishOnly = SecurityEvents.make({ store: built.store, events: Option.none(), feed: Option.some(feed) })
      const storeOnly = SecurityEvents.make({
        store: built.store,
        events: Option.some(built.events),
        feed: Option.none()
      })
      yield* publishOnly.recordAlone(userId, {}, (common) => new Registered(common))
      yield* storeOnly.recordAlone(userId, {}, (common) => new EmailVerified(common))
      const stored = yield* built.events.listUserEvents({ userId, limit: 10, before: Option.none() })
      expect(stored.map((record) => record.type)).toEqual(["EmailVerified"])
      expect(Chunk.toReadonlyArray(yield* Queue.takeAll(published)).map((e) => e._tag)).toEqual(["Registered"])
    }))

  it.scoped("events of one millisecond read back newest first, in the order recorded", () =>
    Effect.gen(function*() {
      const { recorder, stored } = yield* setup
      yield* recorder.transaction(Effect.all([
        recorder.record(userId, {}, (common) => new Registered(common)),
        recorder.record(userId, {}, (common) => new EmailVerified(common)),
        recorder.record(userId, {}, (common) => new PasswordChanged(common))
      ]))
      expect(yield* stored).toEqual(["PasswordChanged", "EmailVerified", "Registered"])
    }))
})
