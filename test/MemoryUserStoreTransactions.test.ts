import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Option } from "effect"
import * as MemoryUserStore from "../src/MemoryUserStore.js"
import { SessionId, UserId } from "../src/User.js"
import type { SessionRecord, UserRecord } from "../src/UserStore.js"

const user = (name: string): UserRecord => ({
  id: UserId.make(`id-${name}`),
  username: name,
  usernameKey: name.toLowerCase(),
  email: `${name}@example.com`,
  emailKey: `${name.toLowerCase()}@example.com`,
  passwordHash: "$argon2id$not-a-real-hash",
  passwordVersion: 1,
  verified: false,
  createdAt: 0
})

const sessionOf = (record: UserRecord, tokenHash: string): SessionRecord => ({
  id: SessionId.make(`session-${tokenHash}`),
  tokenHash,
  userId: record.id,
  createdAt: 0,
  expiresAt: 1000,
  lastUsedAt: 0
})

const ann = user("Ann")
const ben = user("Ben")

const names = (snapshot: MemoryUserStore.Snapshot) => snapshot.users.map((u) => u.username)

/** Lets every other ready fiber run until it blocks. */
const settle = Effect.repeatN(Effect.yieldNow(), 50)

describe("MemoryUserStore transactions", () => {
  it.effect("commit makes every write visible", () =>
    Effect.gen(function*() {
      const { inspector, store } = yield* MemoryUserStore.make
      yield* store.withTransaction(Effect.gen(function*() {
        yield* store.insertUser(ann)
        yield* store.insertSession(sessionOf(ann, "s1"))
      }))
      const snapshot = yield* inspector.snapshot
      expect(names(snapshot)).toEqual(["Ann"])
      expect(snapshot.sessions.map((s) => s.tokenHash)).toEqual(["s1"])
    }))

  it.effect("a failure rolls back every write", () =>
    Effect.gen(function*() {
      const { inspector, store } = yield* MemoryUserStore.make
      yield* store.insertUser(ben)
      const before = yield* inspector.snapshot
      const error = yield* Effect.flip(store.withTransaction(Effect.gen(function*() {
        yield* store.insertUser(ann)
        yield* store.markVerified(ben.id)
        yield* store.insertSession(sessionOf(ann, "s1"))
        return yield* Effect.fail("boom" as const)
      })))
      expect(error).toBe("boom")
      expect(yield* inspector.snapshot).toStrictEqual(before)
    }))

  it.effect("a store error inside the transaction (a duplicate) rolls back the earlier writes", () =>
    Effect.gen(function*() {
      const { inspector, store } = yield* MemoryUserStore.make
      yield* store.insertUser(ann)
      const before = yield* inspector.snapshot
      const error = yield* Effect.flip(store.withTransaction(Effect.gen(function*() {
        yield* store.insertUser(ben)
        yield* store.insertUser({ ...user("ANN"), id: UserId.make("other") })
      })))
      expect(error._tag).toBe("UsernameTaken")
      expect(yield* inspector.snapshot).toStrictEqual(before)
    }))

  it.effect("a defect rolls back every write", () =>
    Effect.gen(function*() {
      const { inspector, store } = yield* MemoryUserStore.make
      const exit = yield* Effect.exit(store.withTransaction(Effect.gen(function*() {
        yield* store.insertUser(ann)
        return yield* Effect.die(new Error("bug"))
      })))
      expect(Exit.isFailure(exit) && exit.cause._tag).toBe("Die")
      expect(names(yield* inspector.snapshot)).toEqual([])
    }))

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

  it.effect("a failed nested transaction undoes only its own part", () =>
    Effect.gen(function*() {
      const { inspector, store } = yield* MemoryUserStore.make
      yield* store.withTransaction(Effect.gen(function*() {
        yield* store.insertUser(ann)
        const nested = yield* Effect.either(store.withTransaction(Effect.gen(function*() {
          yield* store.insertUser(ben)
          yield* store.insertSession(sessionOf(ann, "nested"))
          return yield* Effect.fail("nested failure" as const)
        })))
        expect(nested._tag).toBe("Left")
        yield* store.insertSession(sessionOf(ann, "outer"))
      }))
      const snapshot = yield* inspector.snapshot
      expect(names(snapshot)).toEqual(["Ann"])
      expect(snapshot.sessions.map((s) => s.tokenHash)).toEqual(["outer"])
    }))

  it.effect("a nested transaction that succeeded is undone when the outer one fails", () =>
    Effect.gen(function*() {
      const { inspector, store } = yield* MemoryUserStore.make
      yield* Effect.flip(store.withTransaction(Effect.gen(function*() {
        yield* store.insertUser(ann)
        yield* store.withTransaction(store.insertUser(ben))
        return yield* Effect.fail("outer failure")
      })))
      expect(names(yield* inspector.snapshot)).toEqual([])
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

  it.effect("of two concurrent consumers of a token, exactly one gets it", () =>
    Effect.gen(function*() {
      const { store } = yield* MemoryUserStore.make
      yield* store.insertUser(ann)
      yield* store.issueToken({ tokenHash: "t", purpose: "verify-email", userId: ann.id, createdAt: 0, expiresAt: 10 })
      const results = yield* Effect.all(
        Array.from({ length: 8 }, () => store.consumeToken("verify-email", "t")),
        { concurrency: "unbounded" }
      )
      expect(results.filter(Option.isSome)).toHaveLength(1)
    }))
})
