/**
 * `SessionCache.layerShared`: two caches over one store and one in-process channel, standing in for two app
 * instances. A revocation through either reaches the other at once (not after the TTL); while the channel is down
 * nothing is served from memory; a reconnect forgets everything; a failed publication fails the call.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Option, Stream } from "effect"
import { StoreError } from "../../src/Errors.js"
import * as MemoryUserStore from "../../src/MemoryUserStore.js"
import * as SessionCache from "../../src/SessionCache.js"
import * as SessionInvalidation from "../../src/SessionInvalidation.js"
import { UserStore } from "../../src/UserStore.js"
import { eventually, servesFromMemory } from "../support/cacheProbe.js"
import { session, userRecord } from "../support/storeRecords.js"

const options = { ttl: "1 hour" } as const

const instances = Effect.gen(function*() {
  const store = yield* Layer.build(MemoryUserStore.layer)
  const direct = Context.get(store, UserStore)
  const channel = yield* SessionInvalidation.makeMemory
  const instance = SessionCache.makeShared(options).pipe(
    Effect.provide(Context.add(store, SessionInvalidation.SessionInvalidation, channel))
  )
  const a = yield* instance
  const b = yield* instance
  const user = userRecord()
  const live = session(user.id)
  yield* direct.insertUser(user)
  yield* direct.insertSession(live)
  // Both subscriptions are up once a message has gone round, and so both caches serve from memory.
  yield* eventually(Effect.map(
    Effect.all([servesFromMemory(a, direct, live), servesFromMemory(b, direct, live)]),
    (served) => served.every(Boolean)
  ))
  return { a, b, direct, channel, user, live }
})

describe("SessionCache.layerShared", () => {
  const revocations: ReadonlyArray<{
    readonly name: string
    readonly run: (
      s: UserStore["Type"],
      seeded: Effect.Effect.Success<typeof instances>
    ) => Effect.Effect<unknown, unknown>
  }> = [
    { name: "deleteSession (logout)", run: (s, { live }) => s.deleteSession(live.tokenHash) },
    { name: "deleteUserSessions (logout everywhere)", run: (s, { user }) => s.deleteUserSessions(user.id) },
    {
      name: "updatePassword (password change)",
      run: (s, { user }) => s.updatePassword({ userId: user.id, passwordHash: "new-hash" })
    },
    { name: "deleteUser", run: (s, { user }) => s.deleteUser(user.id) },
    {
      name: "purgeUnverifiedUsers",
      run: (s) => s.purgeUnverifiedUsers({ createdBefore: Number.MAX_SAFE_INTEGER, limit: 10 })
    }
  ]
  for (const revocation of revocations) {
    it.live(`${revocation.name} on one instance reaches the other before the TTL`, () =>
      Effect.gen(function*() {
        const seeded = yield* instances
        assert.isTrue(Option.isSome(yield* seeded.b.findSession(seeded.live.tokenHash)))
        yield* revocation.run(seeded.a, seeded)
        // Then removed behind every cache's back: B answers from the store only if it dropped its entry.
        yield* seeded.direct.deleteSession(seeded.live.tokenHash)
        yield* eventually(Effect.map(seeded.b.findSession(seeded.live.tokenHash), Option.isNone))
      }).pipe(Effect.scoped))
  }

  it.live("serves nothing from memory while the channel is down, and forgets everything when it is back", () =>
    Effect.gen(function*() {
      const { b, channel, direct, live } = yield* instances
      yield* channel.disconnect
      // Removed behind the cache's back: seen at once, since every look-up goes to the store.
      yield* eventually(Effect.map(servesFromMemory(b, direct, live), (served) => !served))
      yield* channel.reconnect
      yield* eventually(servesFromMemory(b, direct, live))
      // A revocation whose message is lost (made directly in the store) is served until a reconnect clears all.
      yield* direct.deleteSession(live.tokenHash)
      assert.isTrue(Option.isSome(yield* b.findSession(live.tokenHash)))
      yield* channel.disconnect
      yield* channel.reconnect
      yield* eventually(Effect.map(b.findSession(live.tokenHash), Option.isNone))
    }).pipe(Effect.scoped))

  it.live("a revocation inside a transaction reaches the other instance, and again when the transaction ends", () =>
    Effect.gen(function*() {
      const { a, b, direct, live } = yield* instances
      yield* a.withTransaction(a.deleteSession(live.tokenHash))
      yield* eventually(Effect.map(b.findSession(live.tokenHash), Option.isNone))
      // Not cached again on B from a read that raced the commit: the tombstone holds.
      yield* direct.insertSession(live)
      assert.isTrue(Option.isSome(yield* b.findSession(live.tokenHash)))
      yield* direct.deleteSession(live.tokenHash)
      assert.isTrue(Option.isNone(yield* b.findSession(live.tokenHash)))
    }).pipe(Effect.scoped))

  it.live("fails the call with StoreError when the publication fails, and the write stands", () =>
    Effect.gen(function*() {
      const store = yield* Layer.build(MemoryUserStore.layer)
      const direct = Context.get(store, UserStore)
      const refusing: SessionInvalidation.SessionInvalidationService = {
        publish: () => Effect.fail(new StoreError({ operation: "publishInvalidation" })),
        subscribe: Stream.make(SessionInvalidation.disconnected, SessionInvalidation.connected).pipe(
          Stream.concat(Stream.never)
        )
      }
      const cached = yield* SessionCache.makeShared(options).pipe(
        Effect.provide(Context.add(store, SessionInvalidation.SessionInvalidation, refusing))
      )
      const user = userRecord()
      const live = session(user.id)
      yield* direct.insertUser(user)
      yield* direct.insertSession(live)
      const error = yield* Effect.flip(cached.deleteSession(live.tokenHash))
      assert.strictEqual(error._tag, "StoreError")
      assert.isTrue(Option.isNone(yield* direct.findSession(live.tokenHash)))
    }).pipe(Effect.scoped))
})
