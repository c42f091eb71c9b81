import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Option } from "effect"
import * as MemoryUserStore from "../../src/MemoryUserStore.js"
import { UserId } from "../../src/User.js"
import { EmailKey, UsernameKey, type UserRecord } from "../../src/UserStore.js"

const user = (name: string): UserRecord => ({
  id: UserId.make(`id-${name}`),
  username: name,
  usernameKey: UsernameKey.make(name.toLowerCase()),
  email: `${name}@example.com`,
  emailKey: EmailKey.make(`${name.toLowerCase()}@example.com`),
  passwordHash: "$argon2id$not-a-real-hash",
  passwordVersion: 1,
  verified: false,
  createdAt: 0
})

const ann = user("Ann")
const ben = user("Ben")

const names = (snapshot: MemoryUserStore.Snapshot) => snapshot.users.map((u) => u.username)

/** Lets every other ready fiber run until it blocks. */
const settle = Effect.repeatN(Effect.yieldNow(), 50)

// The transaction contract (commit, rollback on failure, on a refused insert, on a defect; nested transactions;
// concurrent consumers of a token) is checked on this store by `StoreConformance` (test/backends/memory.test.ts):
// "withTransaction commits every write and returns the body's value", "a failed transaction rolls back every kind of
// write", "a refused insertUser the body does not catch rolls back the transaction's earlier writes", "a defect in
// the transaction rolls it back and stays a defect", "a failed nested transaction undoes only its own writes", "a
// nested transaction joins the outer one: an outer failure undoes both", "20 concurrent consumeToken calls: exactly
// one gets the record". What is left here is the memory store's own: its inspector and its single writer.
describe("MemoryUserStore transactions", () => {
  it.effect("an interruption rolls back every write", () =>
    Effect.gen(function*() {
      const { inspector, store } = yield* MemoryUserStore.make
      const inside = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(store.withTransaction(Effect.gen(function*() {
        yield* store.insertUser(ann)
        yield* Deferred.succeed(inside, undefined)
        return yield* Effect.never
      })))
      yield* Deferred.await(inside)
      expect(names(yield* inspector.snapshot)).toEqual([]) // written, but not committed
      const exit = yield* Fiber.interrupt(fiber)
      expect(Exit.isInterrupted(exit)).toBe(true)
      expect(names(yield* inspector.snapshot)).toEqual([])
      // The lock was released: the store still works.
      yield* store.insertUser(ben)
      expect(names(yield* inspector.snapshot)).toEqual(["Ben"])
    }))

  it.effect("snapshot sees only committed state, like a reader on another connection, without waiting", () =>
    Effect.gen(function*() {
      const { inspector, store } = yield* MemoryUserStore.make
      yield* store.insertUser(ben)
      const inside = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(store.withTransaction(Effect.gen(function*() {
        yield* store.insertUser(ann)
        yield* store.markVerified(ben.id)
        yield* Deferred.succeed(inside, undefined)
        yield* Deferred.await(release)
      })))
      yield* Deferred.await(inside)
      const during = yield* inspector.snapshot
      expect(names(during)).toEqual(["Ben"])
      expect(during.users.map((u) => u.verified)).toEqual([false])
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(fiber)
      const after = yield* inspector.snapshot
      expect(names(after).sort()).toEqual(["Ann", "Ben"])
      expect(after.users.find((u) => u.username === "Ben")?.verified).toBe(true)
    }))

  it.effect("statements outside a transaction wait for the running one, and its rollback cannot erase them", () =>
    Effect.gen(function*() {
      const { inspector, store } = yield* MemoryUserStore.make
      const inside = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const transaction = yield* Effect.fork(store.withTransaction(Effect.gen(function*() {
        yield* store.insertUser(ann)
        yield* Deferred.succeed(inside, undefined)
        yield* Deferred.await(release)
        return yield* Effect.fail("roll back")
      })))
      yield* Deferred.await(inside)
      const read = yield* Effect.fork(store.findUserById(ann.id))
      const write = yield* Effect.fork(store.insertUser(ben))
      yield* settle
      expect(Option.isNone(yield* Fiber.poll(read))).toBe(true)
      expect(Option.isNone(yield* Fiber.poll(write))).toBe(true)
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.await(transaction)
      // The read ran after the rollback, so it never saw the uncommitted user.
      expect(yield* Fiber.join(read)).toEqual(Option.none())
      yield* Fiber.join(write)
      expect(names(yield* inspector.snapshot)).toEqual(["Ben"])
    }))

  it.effect("a second transaction waits for the first", () =>
    Effect.gen(function*() {
      const { inspector, store } = yield* MemoryUserStore.make
      const inside = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const first = yield* Effect.fork(store.withTransaction(Effect.gen(function*() {
        yield* store.insertUser(ann)
        yield* Deferred.succeed(inside, undefined)
        yield* Deferred.await(release)
      })))
      yield* Deferred.await(inside)
      const second = yield* Effect.fork(store.withTransaction(store.findUserById(ann.id)))
      yield* settle
      expect(Option.isNone(yield* Fiber.poll(second))).toBe(true)
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(first)
      expect(Option.isSome(yield* Fiber.join(second))).toBe(true)
      expect(names(yield* inspector.snapshot)).toEqual(["Ann"])
    }))
})
