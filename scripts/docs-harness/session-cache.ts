/**
 * Harness for docs/performance.md's `SessionCache` layer (`<!-- docs:run harness=session-cache -->`): checks are
 * served while the session lives, and a logout in the same process takes effect at once, within the cache's TTL.
 */
import { Effect, Either, Option } from "effect"
import { strictEqual } from "node:assert"
import { UserHarbor } from "userharbor"
import { RecordingEmailSender, UserHarborTest } from "userharbor/testing"
import { Store } from "./BLOCK.js"

const program = Effect.gen(function*() {
  const harbor = yield* UserHarbor.UserHarbor
  const mail = yield* RecordingEmailSender.RecordingEmailSender
  yield* harbor.register({ username: "jane", email: "jane@example.com", password: "StrongPassword123!" })
  yield* harbor.verifyEmail(Option.getOrThrow(yield* mail.lastToken("VerificationEmail", "jane@example.com")))
  const session = yield* harbor.login({ username: "jane", password: "StrongPassword123!" })
  for (let i = 0; i < 3; i++) strictEqual(yield* harbor.verifySession(session.token), true)
  yield* harbor.logout(session.token)
  strictEqual(yield* harbor.verifySession(session.token), false, "the logout is seen at once, not after the TTL")
  const after = yield* Effect.either(harbor.validateSession(session.token))
  strictEqual(Either.isLeft(after) && after.left._tag, "InvalidSession")
})

await Effect.runPromise(program.pipe(Effect.provide(UserHarborTest.layerWithStore(Store))))
console.log("the cached store answered the checks and dropped the session on logout")
