/**
 * The security events of a change of email address: `EmailChangeRequested`, `EmailChanged` and
 * `EmailChangeReverted`, published after the transaction of the change commits, none for a change that did not
 * happen, and none carrying a token, a password or an address.
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Layer, Queue, Redacted } from "effect"
import * as MemoryUserStore from "../../src/MemoryUserStore.js"
import * as SecurityEvent from "../../src/SecurityEvent.js"
import * as SecurityEvents from "../../src/SecurityEvents.js"
import { UserHarbor } from "../../src/UserHarbor.js"
import * as UserHarborTest from "../../src/UserHarborTest.js"
import { alice, bob, lastToken, loggedIn, password, registerVerified, storedUser } from "../support/fixtures.js"

const kit = () => UserHarborTest.layerWithStore(Layer.merge(MemoryUserStore.layer, SecurityEvents.layer()))

const drain = (queue: Queue.Dequeue<SecurityEvent.PublishedEvent>) =>
  Effect.map(Queue.takeAll(queue), (events) => Chunk.toReadonlyArray(events))

describe("security events of a change of email address", () => {
  it.scoped("request, confirm and revert each publish their event for the account, with no secret", () =>
    Effect.gen(function*() {
      const h = yield* UserHarbor
      const queue = yield* Effect.flatMap(SecurityEvents.SecurityEvents, (feed) => feed.subscribe)
      const session = yield* loggedIn(alice)
      const user = yield* Effect.flatten(storedUser(alice.email))
      yield* drain(queue)

      yield* h.requestEmailChange({ sessionToken: session.token, password, newEmail: "alice.new@example.org" })
      const token = yield* lastToken("EmailChangeConfirmationEmail", "alice.new@example.org")
      yield* h.confirmEmailChange(token)
      const revert = yield* lastToken("EmailChangedEmail", alice.email)
      yield* h.revertEmailChange(revert)
      const events = yield* drain(queue)

      expect(events.map((event) => event._tag)).toEqual(["EmailChangeRequested", "EmailChanged", "EmailChangeReverted"])
      for (const event of events) {
        expect("userId" in event && event.userId).toBe(user.id)
      }
      expect(events[0]?.sessionId._tag).toBe("Some")
      const printed = events.map((event) => JSON.stringify(event) + String(event)).join("\n")
      for (const secret of [token, revert, Redacted.value(session.token), password, "alice.new@example.org"]) {
        expect(printed).not.toContain(secret)
      }
    }).pipe(Effect.provide(kit())))

  it.scoped("a confirmation that loses its address publishes no EmailChanged", () =>
    Effect.gen(function*() {
      const h = yield* UserHarbor
      const queue = yield* Effect.flatMap(SecurityEvents.SecurityEvents, (feed) => feed.subscribe)
      const session = yield* loggedIn(alice)
      yield* h.requestEmailChange({ sessionToken: session.token, password, newEmail: "taken@example.org" })
      const token = yield* lastToken("EmailChangeConfirmationEmail", "taken@example.org")
      yield* registerVerified({ ...bob, email: "taken@example.org" })
      yield* drain(queue)
      expect((yield* Effect.flip(h.confirmEmailChange(token)))._tag).toBe("EmailTaken")
      expect((yield* drain(queue)).map((event) => event._tag)).toEqual([])
    }).pipe(Effect.provide(kit())))
})
