/**
 * A change of email address ends sessions through the `UserStore`, so a `SessionCache` in front of the store sees
 * it at once: after the confirmation the session that asked reads the new address and every other one is refused,
 * and after a revert every session is refused, however long the cache would otherwise keep them.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as MemoryUserStore from "../../src/MemoryUserStore.js"
import * as SessionCache from "../../src/SessionCache.js"
import { UserHarbor } from "../../src/UserHarbor.js"
import * as UserHarborTest from "../../src/UserHarborTest.js"
import { alice, lastToken, loggedIn, loginAs, password } from "../support/fixtures.js"

const cached = () =>
  UserHarborTest.layerWithStore(SessionCache.layer({ ttl: "1 hour" }).pipe(Layer.provideMerge(MemoryUserStore.layer)))

describe("change of email address behind a SessionCache", () => {
  it.effect("the confirmation and the revert reach cached sessions at once", () =>
    Effect.gen(function*() {
      const h = yield* UserHarbor
      const session = yield* loggedIn(alice)
      const other = yield* loginAs(alice)
      // Both cached now.
      expect((yield* h.getCurrentUser(session.token)).email).toBe(alice.email)
      expect(yield* h.verifySession(other.token)).toBe(true)

      yield* h.requestEmailChange({ sessionToken: session.token, password, newEmail: "alice.new@example.org" })
      yield* h.confirmEmailChange(yield* lastToken("EmailChangeConfirmationEmail", "alice.new@example.org"))
      expect((yield* h.getCurrentUser(session.token)).email).toBe("alice.new@example.org")
      expect(yield* h.verifySession(other.token)).toBe(false)

      yield* h.revertEmailChange(yield* lastToken("EmailChangedEmail", alice.email))
      expect(yield* h.verifySession(session.token)).toBe(false)
    }).pipe(Effect.provide(cached())))
})
