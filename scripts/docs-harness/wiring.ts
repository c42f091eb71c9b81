/**
 * Harness for docs/integration.md's layer graph (`<!-- docs:run harness=wiring -->`): it builds (SQLite file,
 * console sender, argon2id, the secret key from USERHARBOR_SECRET_KEY) and serves a registration and a login.
 */
import { Effect, Either } from "effect"
import { strictEqual } from "node:assert"
import { UserHarbor } from "userharbor"
import { UserHarborLive } from "./BLOCK.js"

const program = Effect.gen(function*() {
  const harbor = yield* UserHarbor.UserHarbor
  yield* harbor.register({ username: "jane", email: "jane@example.com", password: "StrongPassword123!" })
  const early = yield* Effect.either(harbor.login({ username: "jane", password: "StrongPassword123!" }))
  strictEqual(Either.isLeft(early) && early.left._tag, "EmailNotVerified")
})

await Effect.runPromise(program.pipe(Effect.provide(UserHarborLive)))
console.log("the documented layer graph builds and serves")
