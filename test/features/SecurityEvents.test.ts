/**
 * The security-event trail end to end: a full flow records one event per change, stored and published, none of
 * them showing a secret; a change that fails records nothing, and a change whose event cannot be stored does not
 * happen; `recentActivity` pages newest first.
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Context, Effect, Layer, Option, Queue, Redacted } from "effect"
import * as util from "node:util"
import { CounterStore } from "../../src/CounterStore.js"
import { StoreError } from "../../src/Errors.js"
import { FactorStore } from "../../src/FactorStore.js"
import * as MemoryUserStore from "../../src/MemoryUserStore.js"
import { OutboxStore } from "../../src/OutboxStore.js"
import { SecurityEvents } from "../../src/SecurityEvents.js"
import { SecurityEventStore } from "../../src/SecurityEventStore.js"
import type { UserId } from "../../src/User.js"
import { UserHarbor } from "../../src/UserHarbor.js"
import * as UserHarborTest from "../../src/UserHarborTest.js"
import { UserStore } from "../../src/UserStore.js"
import { alice, lastToken, loggedIn, newPassword, password, storedUser, tokenHash } from "../support/fixtures.js"

// The test kit's own store, with its output typed in full (`UserHarborTest.layer` names the core ports only).
const kit = UserHarborTest.layerWithStore(MemoryUserStore.layer)
const resetTo = "a-third-password-after-reset"
const client = { clientKey: "203.0.113.9" }

/** Everything stored for the user, newest first, as the store keeps it. */
const storedPayloads = (userId: UserId) =>
  Effect.flatMap(SecurityEventStore, (events) => events.listUserEvents({ userId, limit: 1000, before: Option.none() }))

describe("security events", () => {
  it.scoped("a full flow records each change once, stored and published, with no secret in any event", () =>
    Effect.gen(function*() {
      const feed = yield* SecurityEvents
      const published = yield* feed.subscribe
      const h = yield* UserHarbor
      const secrets: Array<string> = [password, newPassword, resetTo, Redacted.value(UserHarborTest.testSecretKey)]
      const token = (value: string | Redacted.Redacted<string>) => {
        secrets.push(typeof value === "string" ? value : Redacted.value(value), tokenHash(value))
        return value
      }

      yield* h.register({ ...alice, ...client })
      yield* h.verifyEmail(token(yield* lastToken("VerificationEmail", alice.email)))
      expect((yield* Effect.flip(h.login({ username: "Alice", password: "not-the-password", ...client })))._tag)
        .toBe("InvalidCredentials")
      expect((yield* Effect.flip(h.login({ username: "Nobody", password, ...client })))._tag).toBe("InvalidCredentials")
      const first = yield* h.login({ username: "Alice", password, ...client })
      token(first.token)
      const second = yield* h.changePassword({ sessionToken: first.token, oldPassword: password, newPassword })
      token(second.token)
      yield* h.sendPasswordReset(alice.email)
      yield* h.resetPassword({
        token: token(yield* lastToken("PasswordResetEmail", alice.email)),
        newPassword: resetTo
      })
      const third = yield* h.login({ email: alice.email, password: resetTo })
      const fourth = yield* h.login({ username: "Alice", password: resetTo })
      token(third.token)
      token(fourth.token)
      yield* h.revokeSession(fourth.token, third.id)
      expect((yield* Effect.flip(h.revokeSession(fourth.token, third.id)))._tag).toBe("SessionNotFound")
      const userId = Option.getOrThrow(yield* storedUser(alice.email)).id
      const activity = yield* h.recentActivity(fourth.token)
      yield* h.deleteAccount({ sessionToken: fourth.token, password: resetTo })

      const expected = [
        "Registered",
        "EmailVerified",
        "LoginFailed",
        "AnonymousLoginFailed",
        "LoginSucceeded",
        "PasswordChanged",
        "PasswordReset",
        "LoginSucceeded",
        "LoginSucceeded",
        "SessionRevoked",
        "AccountDeleted"
      ]
      const events = Chunk.toReadonlyArray(yield* Queue.takeAll(published))
      expect(events.map((event) => event._tag)).toEqual(expected)
      const stored = yield* storedPayloads(userId)
      expect(stored.map((record) => record.type).reverse()).toEqual(expected.filter((tag) => !tag.startsWith("Anon")))
      // What the account page showed before the deletion: newest first, the same events.
      expect(activity.map((event) => event._tag)).toEqual(
        expected.slice(0, 10).filter((t) => !t.startsWith("Anon")).reverse()
      )

      const failed = events.find((event) => event._tag === "LoginFailed")
      expect(failed?._tag === "LoginFailed" && failed.reason).toBe("wrong-password")
      expect(failed?.clientKey).toEqual(Option.some(client.clientKey))
      const succeeded = events.find((event) => event._tag === "LoginSucceeded")
      expect(succeeded?.sessionId).toEqual(Option.some(first.id))

      const texts = [
        ...stored.map((record) => `${record.id} ${record.type} ${record.payload}`),
        ...events.flatMap((event) => [util.inspect(event, { depth: 10 }), JSON.stringify(event), String(event)])
      ]
      for (const text of texts) {
        for (const secret of secrets) {
          if (text.includes(secret)) expect.fail(`an event shows a secret: ${text.slice(0, 300)}`)
        }
      }
    }).pipe(Effect.provide(kit)))

  it.scoped("recentActivity pages newest first by cursor, only the caller's own", () =>
    Effect.gen(function*() {
      const h = yield* UserHarbor
      const session = yield* loggedIn(alice)
      for (let i = 0; i < 4; i++) yield* h.login({ username: "Alice", password })
      const all = yield* h.recentActivity(session.token, { limit: 100 })
      expect(all.map((event) => event._tag)).toEqual([
        "LoginSucceeded",
        "LoginSucceeded",
        "LoginSucceeded",
        "LoginSucceeded",
        "LoginSucceeded",
        "EmailVerified",
        "Registered"
      ])
      const page1 = yield* h.recentActivity(session.token, { limit: 3 })
      const page2 = yield* h.recentActivity(session.token, { limit: 3, before: page1[2] })
      const page3 = yield* h.recentActivity(session.token, { limit: 3, before: page2[2] })
      expect([...page1, ...page2, ...page3].map((event) => event.id)).toEqual(all.map((event) => event.id))
      expect((yield* Effect.flip(h.recentActivity("not-a-session")))._tag).toBe("InvalidSession")
    }).pipe(Effect.provide(kit)))
})

describe("security events and transactions", () => {
  it.scoped("a change that fails records nothing; a committed one publishes after its commit", () =>
    Effect.gen(function*() {
      const feed = yield* SecurityEvents
      const published = yield* feed.subscribe
      const h = yield* UserHarbor
      const session = yield* loggedIn(alice)
      yield* Queue.takeAll(published)
      const userId = Option.getOrThrow(yield* storedUser(alice.email)).id
      const before = (yield* storedPayloads(userId)).length
      // Unknown session id: nothing ended, nothing recorded.
      expect((yield* Effect.flip(h.revokeSession(session.token, "0".repeat(32))))._tag).toBe("SessionNotFound")
      // Wrong old password: no change, no PasswordChanged.
      expect(
        (yield* Effect.flip(
          h.changePassword({ sessionToken: session.token, oldPassword: "wrong-one-here", newPassword })
        ))._tag
      )
        .toBe("InvalidCredentials")
      expect((yield* storedPayloads(userId)).length).toBe(before)
      expect(Chunk.toReadonlyArray(yield* Queue.takeAll(published))).toEqual([])
      yield* h.logout(session.token)
      const events = Chunk.toReadonlyArray(yield* Queue.takeAll(published))
      expect(events.map((event) => event._tag)).toEqual(["SessionRevoked"])
      expect((yield* storedPayloads(userId)).length).toBe(before + 1)
    }).pipe(Effect.provide(kit)))

  // The memory store, its appends failing while `appends.failing` is set.
  const appends = { failing: false }
  const failingAppends = Layer.effectContext(
    Effect.map(MemoryUserStore.make, (built) =>
      Context.make(UserStore, built.store).pipe(
        Context.add(CounterStore, built.counters),
        Context.add(OutboxStore, built.outbox),
        Context.add(FactorStore, built.factors),
        Context.add(
          SecurityEventStore,
          SecurityEventStore.of({
            ...built.events,
            appendEvent: (event) =>
              appends.failing ? new StoreError({ operation: "appendEvent" }) : built.events.appendEvent(event)
          })
        )
      ))
  )

  it.scoped("a change whose event cannot be stored does not happen", () =>
    Effect.gen(function*() {
      const h = yield* UserHarbor
      const session = yield* loggedIn(alice)
      const other = yield* h.login({ username: "Alice", password })
      appends.failing = true
      const failures = [
        yield* Effect.flip(h.logout(session.token)),
        yield* Effect.flip(h.revokeOtherSessions(session.token)),
        yield* Effect.flip(h.changePassword({ sessionToken: session.token, oldPassword: password, newPassword })),
        yield* Effect.flip(h.deleteAccount({ sessionToken: session.token, password }))
      ]
      appends.failing = false
      expect(failures.map((error) => error._tag)).toEqual(["StoreError", "StoreError", "StoreError", "StoreError"])
      // The session, the password and the account are all still there.
      expect((yield* h.getCurrentUser(session.token)).username).toBe("Alice")
      expect((yield* h.getCurrentUser(other.token)).username).toBe("Alice")
      yield* h.logout(session.token)
      yield* h.login({ username: "Alice", password })
    }).pipe(Effect.provide(UserHarborTest.layerWithStore(failingAppends))))
})
