import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer, Option } from "effect"
import { AccountLocked } from "../../src/Errors.js"
import * as MemoryUserStore from "../../src/MemoryUserStore.js"
import * as RecordingEmailSender from "../../src/RecordingEmailSender.js"
import { UserHarbor } from "../../src/UserHarbor.js"
import * as UserHarborAdmin from "../../src/UserHarborAdmin.js"
import * as UserHarborConfig from "../../src/UserHarborConfig.js"
import * as UserHarborTest from "../../src/UserHarborTest.js"
import { origin, passkeyOptions, suite } from "../suites/PasskeysSuite.js"
import { SoftAuthenticator } from "../support/SoftAuthenticator.js"

suite("memory", () => UserHarborTest.layerWith({ passkeys: passkeyOptions }))

describe("passkey config", () => {
  const build = (passkeys: UserHarborConfig.PasskeyOptions) =>
    UserHarborConfig.make({ secretKey: UserHarborTest.testSecretKey, passkeys })
  it.effect("accepts origins on the rpId and its subdomains, localhost over http", () =>
    Effect.gen(function*() {
      const settings = yield* build({
        rpId: "localhost",
        rpName: "Dev",
        origins: ["http://localhost:5173"]
      })
      expect(settings.passkeys?.origins).toEqual(["http://localhost:5173"])
      yield* build({ ...passkeyOptions, origins: ["https://example.com", "https://a.b.example.com:8443"] })
    }))
  it.effect.each(
    [
      ["rpId with a scheme", { ...passkeyOptions, rpId: "https://example.com" }],
      ["empty rpName", { ...passkeyOptions, rpName: " " }],
      ["no origins", { ...passkeyOptions, origins: [] }],
      ["an origin with a path", { ...passkeyOptions, origins: ["https://example.com/login"] }],
      ["http off localhost", { ...passkeyOptions, origins: ["http://example.com"] }],
      ["an origin on another domain", { ...passkeyOptions, origins: ["https://notexample.com"] }],
      ["a zero challenge ttl", { ...passkeyOptions, challengeTtl: "0 seconds" }]
    ] as const
  )("refuses %s", ([, options]) =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(build(options))
      expect(Exit.isFailure(exit)).toBe(true)
    }))

  it.effect("passkey operations without the config are a defect naming the option", () =>
    Effect.gen(function*() {
      const { UserHarbor } = yield* Effect.promise(() => import("../../src/UserHarbor.js"))
      const exit = yield* Effect.exit(Effect.flatMap(UserHarbor, (harbor) => harbor.beginPasskeyLogin()))
      expect(Exit.isFailure(exit) && String(exit.cause)).toContain("passkeys")
    }).pipe(Effect.provide(UserHarborTest.layer)))
})

describe("passkey sign-in of a locked account", () => {
  it.effect("is AccountLocked after a valid assertion, and signs in again once unlocked", () =>
    Effect.gen(function*() {
      const harbor = yield* UserHarbor
      const admin = yield* UserHarborAdmin.UserHarborAdmin
      const mail = yield* RecordingEmailSender.RecordingEmailSender
      const password = "StrongPassword123!"
      yield* harbor.register({ username: "dana", email: "dana@example.com", password })
      yield* harbor.verifyEmail(Option.getOrThrow(yield* mail.lastToken("VerificationEmail", "dana@example.com")))
      const session = yield* harbor.login({ username: "dana", password })
      const authenticator = new SoftAuthenticator(origin)
      const options = yield* harbor.beginPasskeyRegistration(session.token)
      yield* harbor.finishPasskeyRegistration({
        sessionToken: session.token,
        response: authenticator.register(options),
        name: "Phone"
      })
      const { user } = yield* admin.findUser({ username: "dana" })
      yield* admin.lock({ userId: user.id, reason: "device reported stolen", actorId: "ops" })
      const refused = harbor.finishPasskeyLogin(authenticator.authenticate(yield* harbor.beginPasskeyLogin()))
      expect(yield* Effect.flip(refused)).toEqual(new AccountLocked())
      yield* admin.unlock({ userId: user.id, actorId: "ops" })
      const signedIn = yield* harbor.finishPasskeyLogin(authenticator.authenticate(yield* harbor.beginPasskeyLogin()))
      expect((yield* harbor.getCurrentUser(signedIn.token)).username).toBe("dana")
    }).pipe(
      Effect.provide(
        UserHarborAdmin.layer.pipe(
          Layer.provideMerge(UserHarborTest.layerWithStore(MemoryUserStore.layer, { passkeys: passkeyOptions }))
        )
      )
    ))
})
