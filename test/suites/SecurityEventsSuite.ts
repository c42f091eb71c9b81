/**
 * The security-event trail on a given store: the events of a flow read back through `recentActivity` in order,
 * they outlive the account, and `PurgeSchedule` removes them after their retention. `makeLayer` is called once per
 * test and must give a fresh, empty store.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, type Layer, Option, TestClock } from "effect"
import * as PurgeSchedule from "../../src/PurgeSchedule.js"
import { SecurityEventStore } from "../../src/SecurityEventStore.js"
import { UserHarbor } from "../../src/UserHarbor.js"
import type * as UserHarborTest from "../../src/UserHarborTest.js"
import { alice, loggedIn, password, storedUser } from "../support/fixtures.js"

const start = Date.UTC(2026, 0, 1)
const day = 86_400_000

type Services = UserHarborTest.StoreServices | SecurityEventStore

export const securityEventsSuite = <E>(name: string, makeLayer: () => Layer.Layer<Services, E>) =>
  describe(`security events (${name})`, () => {
    const test = <A, E2>(title: string, body: () => Effect.Effect<A, E2, Services>) =>
      it.effect(title, () => Effect.provide(Effect.zipRight(TestClock.setTime(start), body()), makeLayer()))

    const eventsOf = (userId: Parameters<SecurityEventStore["Type"]["listUserEvents"]>[0]["userId"]) =>
      Effect.flatMap(SecurityEventStore, (events) =>
        Effect.map(
          events.listUserEvents({ userId, limit: 100, before: Option.none() }),
          (records) => records.map((record) => record.type)
        ))

    test("a flow reads back newest first, and outlives the account", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        const first = yield* loggedIn(alice)
        yield* TestClock.adjust(1000)
        const second = yield* h.login({ username: "Alice", password, clientKey: "198.51.100.7" })
        yield* h.revokeOtherSessions(second.token)
        const activity = yield* h.recentActivity(second.token)
        expect(activity.map((event) => event._tag)).toEqual([
          "SessionRevoked",
          "LoginSucceeded",
          "LoginSucceeded",
          "EmailVerified",
          "Registered"
        ])
        const [revoked, login] = activity
        expect(revoked?._tag === "SessionRevoked" && [revoked.scope, revoked.count]).toEqual(["other-sessions", 1])
        expect(login?.sessionId).toEqual(Option.some(second.id))
        expect(login?.clientKey).toEqual(Option.some("198.51.100.7"))
        expect(login?.at.getTime()).toBe(start + 1000)
        expect(first.id).not.toBe(second.id)
        const userId = Option.getOrThrow(yield* storedUser(alice.email)).id
        yield* h.deleteAccount({ sessionToken: second.token, password })
        expect((yield* eventsOf(userId))[0]).toBe("AccountDeleted")
      }))

    test("PurgeSchedule removes events older than their retention, and only those", () =>
      Effect.gen(function*() {
        const h = yield* UserHarbor
        yield* loggedIn(alice)
        const userId = Option.getOrThrow(yield* storedUser(alice.email)).id
        yield* TestClock.adjust(89 * day)
        yield* h.logout((yield* h.login({ username: "Alice", password })).token)
        yield* TestClock.adjust(2 * day)
        yield* PurgeSchedule.purgeAll()
        expect(yield* eventsOf(userId)).toEqual(["SessionRevoked", "LoginSucceeded"])
        yield* PurgeSchedule.purgeAll(1000, undefined, "1 day")
        expect(yield* eventsOf(userId)).toEqual([])
      }))
  })
