/**
 * Passkeys end to end, on any store that provides `FactorStore`: a software authenticator (ES256, "none"
 * attestation) registers a passkey, signs in with it usernameless and re-checks a sensitive change, and every way a
 * response can be wrong is a typed error.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Option, TestClock } from "effect"
import * as RecordingEmailSender from "../../src/RecordingEmailSender.js"
import * as UserHarbor from "../../src/UserHarbor.js"
import type * as UserHarborConfig from "../../src/UserHarborConfig.js"
import { SoftAuthenticator } from "../support/SoftAuthenticator.js"

export const origin = "https://app.example.com"
export const passkeyOptions: UserHarborConfig.PasskeyOptions = {
  rpId: "example.com",
  rpName: "Example",
  origins: [origin]
}

const password = "StrongPassword123!"

const signUp = (name: string) =>
  Effect.gen(function*() {
    const harbor = yield* UserHarbor.UserHarbor
    const mail = yield* RecordingEmailSender.RecordingEmailSender
    const email = `${name}@example.com`
    yield* harbor.register({ username: name, email, password })
    yield* harbor.verifyEmail(Option.getOrThrow(yield* mail.lastToken("VerificationEmail", email)))
    const session = yield* harbor.login({ username: name, password })
    return { harbor, token: session.token }
  })

const withPasskey = (name: string, authenticator = new SoftAuthenticator(origin)) =>
  Effect.gen(function*() {
    const { harbor, token } = yield* signUp(name)
    const options = yield* harbor.beginPasskeyRegistration(token)
    const passkey = yield* harbor.finishPasskeyRegistration({
      sessionToken: token,
      response: authenticator.register(options),
      name: "  Laptop  "
    })
    return { harbor, token, authenticator, passkey }
  })

export const suite = <E>(
  name: string,
  kit: () => Layer.Layer<UserHarbor.UserHarbor | RecordingEmailSender.RecordingEmailSender, E>
) =>
  describe(`passkeys (${name})`, () => {
    const test = (
      title: string,
      body: () => Effect.Effect<void, unknown, UserHarbor.UserHarbor | RecordingEmailSender.RecordingEmailSender>
    ) => it.effect(title, () => Effect.provide(body(), kit()), 30_000)

    test("registers a passkey with an opaque user handle and lists it", () =>
      Effect.gen(function*() {
        const { harbor, token } = yield* signUp("alice")
        const options = yield* harbor.beginPasskeyRegistration(token)
        expect(options.rp).toEqual({ id: "example.com", name: "Example" })
        expect(options.user.name).toBe("alice")
        expect(options.user.id).not.toContain("alice")
        expect(options.authenticatorSelection).toEqual({
          residentKey: "required",
          requireResidentKey: true,
          userVerification: "required"
        })
        expect(options.excludeCredentials).toEqual([])
        const authenticator = new SoftAuthenticator(origin)
        const passkey = yield* harbor.finishPasskeyRegistration({
          sessionToken: token,
          response: authenticator.register(options),
          name: " Laptop "
        })
        expect(passkey.name).toBe("Laptop")
        expect(passkey.transports).toEqual(["internal", "hybrid"])
        expect(passkey.lastUsedAt).toBeUndefined()
        expect(yield* harbor.listPasskeys(token)).toEqual([passkey])
        const again = yield* harbor.beginPasskeyRegistration(token)
        expect(again.excludeCredentials.map((credential) => credential.id)).toEqual([passkey.id])
      }))

    test("signs in usernameless with a passkey, and the counter is recorded", () =>
      Effect.gen(function*() {
        const { authenticator, harbor } = yield* withPasskey("bob")
        const options = yield* harbor.beginPasskeyLogin()
        expect(options.allowCredentials).toEqual([])
        expect(options.userVerification).toBe("required")
        const session = yield* harbor.finishPasskeyLogin(authenticator.authenticate(options))
        const user = yield* harbor.getCurrentUser(session.token)
        expect(user.username).toBe("bob")
        const [listed] = yield* harbor.listPasskeys(session.token)
        expect(listed?.lastUsedAt).toBeInstanceOf(Date)
        // A second sign-in, counter 2 after 1.
        const next = yield* harbor.beginPasskeyLogin()
        yield* harbor.finishPasskeyLogin(authenticator.authenticate(next))
      }))

    test("a passkey sign-in keeps the client details it is given with its session", () =>
      Effect.gen(function*() {
        const { authenticator, harbor } = yield* withPasskey("dora")
        const options = yield* harbor.beginPasskeyLogin()
        const userAgent =
          "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15"
        const session = yield* harbor.finishPasskeyLogin(authenticator.authenticate(options), {
          userAgent,
          address: "2001:db8:1:2:3::9"
        })
        const listed = (yield* harbor.listSessions(session.token)).find((summary) => summary.current)
        expect(listed?.device).toEqual({
          label: "Safari on macOS",
          userAgent: Option.some(userAgent),
          address: Option.some("2001:db8:1::/48")
        })
      }))

    test("a wrong origin, a wrong rpId and a missing UV flag are typed errors", () =>
      Effect.gen(function*() {
        const { authenticator, harbor } = yield* withPasskey("carol")
        const attempt = (tweaks: Parameters<SoftAuthenticator["authenticate"]>[1]) =>
          Effect.flatMap(
            harbor.beginPasskeyLogin(),
            (options) => Effect.flip(harbor.finishPasskeyLogin(authenticator.authenticate(options, tweaks)))
          )
        expect(yield* attempt({ origin: "https://evil.example.net" })).toMatchObject({
          _tag: "InvalidPasskey",
          reason: "origin"
        })
        expect(yield* attempt({ rpId: "evil.example.net" })).toMatchObject({ _tag: "InvalidPasskey", reason: "rp-id" })
        expect(yield* attempt({ userVerified: false })).toMatchObject({
          _tag: "InvalidPasskey",
          reason: "user-verification"
        })
      }))

    test("registration from a wrong origin or without UV is refused", () =>
      Effect.gen(function*() {
        const { harbor, token } = yield* signUp("dave")
        const authenticator = new SoftAuthenticator(origin)
        const register = (tweaks: Parameters<SoftAuthenticator["register"]>[1]) =>
          Effect.flatMap(harbor.beginPasskeyRegistration(token), (options) =>
            Effect.flip(
              harbor.finishPasskeyRegistration({
                sessionToken: token,
                response: authenticator.register(options, tweaks),
                name: "Key"
              })
            ))
        expect(yield* register({ origin: "http://localhost:3000" })).toMatchObject({ reason: "origin" })
        expect(yield* register({ rpId: "other.com" })).toMatchObject({ reason: "rp-id" })
        expect(yield* register({ userVerified: false })).toMatchObject({ reason: "user-verification" })
        expect(yield* harbor.listPasskeys(token)).toEqual([])
      }))

    test("a replayed or expired challenge is refused", () =>
      Effect.gen(function*() {
        const { authenticator, harbor } = yield* withPasskey("erin")
        const options = yield* harbor.beginPasskeyLogin()
        yield* harbor.finishPasskeyLogin(authenticator.authenticate(options))
        // The same challenge again, even with a fresh, valid signature: used.
        expect(yield* Effect.flip(harbor.finishPasskeyLogin(authenticator.authenticate(options)))).toMatchObject({
          _tag: "InvalidPasskeyChallenge",
          reason: "unknown"
        })
        const late = yield* harbor.beginPasskeyLogin()
        yield* TestClock.adjust("5 minutes")
        expect(yield* Effect.flip(harbor.finishPasskeyLogin(authenticator.authenticate(late)))).toMatchObject({
          _tag: "InvalidPasskeyChallenge",
          reason: "expired"
        })
        // A challenge never issued.
        const forged = yield* harbor.beginPasskeyLogin()
        const response = authenticator.authenticate(forged, { challenge: "A".repeat(43) })
        expect(yield* Effect.flip(harbor.finishPasskeyLogin(response))).toMatchObject({ reason: "unknown" })
      }))

    test("a cloned authenticator (counter not grown) and an unknown credential are refused", () =>
      Effect.gen(function*() {
        const { authenticator, harbor } = yield* withPasskey("frank")
        const clone = authenticator.clone()
        yield* harbor.finishPasskeyLogin(authenticator.authenticate(yield* harbor.beginPasskeyLogin()))
        // The clone still counts from where the copy was made: 1 again.
        const cloned = clone.authenticate(yield* harbor.beginPasskeyLogin())
        expect(yield* Effect.flip(harbor.finishPasskeyLogin(cloned))).toMatchObject({
          _tag: "InvalidPasskey",
          reason: "counter"
        })
        const stranger = new SoftAuthenticator(origin)
        stranger.register({ rp: { id: "example.com", name: "x" }, user: { id: "AAAA", name: "x" }, challenge: "c" })
        const unknown = stranger.authenticate(yield* harbor.beginPasskeyLogin())
        expect(yield* Effect.flip(harbor.finishPasskeyLogin(unknown))).toMatchObject({
          _tag: "InvalidPasskey",
          reason: "unknown-credential"
        })
      }))

    test("a bad signature is refused", () =>
      Effect.gen(function*() {
        const { authenticator, harbor } = yield* withPasskey("gina")
        const response = authenticator.authenticate(yield* harbor.beginPasskeyLogin())
        const signature = Buffer.from(response.response.signature, "base64url")
        signature[signature.length - 1] = (signature[signature.length - 1] ?? 0) ^ 1
        const tampered = { ...response, response: { ...response.response, signature: signature.toString("base64url") } }
        expect(yield* Effect.flip(harbor.finishPasskeyLogin(tampered))).toMatchObject({ reason: "invalid" })
      }))

    test("renames and removes passkeys, only the caller's", () =>
      Effect.gen(function*() {
        const { harbor, passkey, token } = yield* withPasskey("hank")
        yield* harbor.renamePasskey(token, passkey.id, "Work laptop")
        expect((yield* harbor.listPasskeys(token)).map((listed) => listed.name)).toEqual(["Work laptop"])
        expect(yield* Effect.flip(harbor.renamePasskey(token, passkey.id, "   "))).toMatchObject({
          _tag: "InvalidPasskeyName"
        })
        const other = yield* signUp("ivy")
        expect(yield* Effect.flip(other.harbor.removePasskey(other.token, passkey.id))).toMatchObject({
          _tag: "PasskeyNotFound"
        })
        expect(yield* Effect.flip(other.harbor.renamePasskey(other.token, passkey.id, "Mine"))).toMatchObject({
          _tag: "PasskeyNotFound"
        })
        yield* harbor.removePasskey(token, passkey.id)
        expect(yield* harbor.listPasskeys(token)).toEqual([])
        expect(yield* Effect.flip(harbor.removePasskey(token, passkey.id))).toMatchObject({ _tag: "PasskeyNotFound" })
      }))

    test("a passkey re-checks changePassword and deleteAccount in place of the password", () =>
      Effect.gen(function*() {
        const { authenticator, harbor, token } = yield* withPasskey("jack")
        const options = yield* harbor.beginPasskeyReauthentication(token)
        expect(options.allowCredentials).toHaveLength(1)
        const session = yield* harbor.changePassword({
          sessionToken: token,
          passkey: authenticator.authenticate(options),
          newPassword: "AnotherStrongPassword456!"
        })
        yield* harbor.login({ username: "jack", password: "AnotherStrongPassword456!" })
        // A sign-in challenge is not a re-check's.
        const signIn = yield* harbor.beginPasskeyLogin()
        expect(
          yield* Effect.flip(
            harbor.deleteAccount({ sessionToken: session.token, passkey: authenticator.authenticate(signIn) })
          )
        ).toMatchObject({ _tag: "InvalidPasskeyChallenge" })
        // Another user's passkey cannot re-check this one.
        const other = yield* withPasskey("kate")
        const foreign = yield* harbor.beginPasskeyReauthentication(session.token)
        const response = other.authenticator.authenticate({ ...foreign, allowCredentials: [] })
        expect(yield* Effect.flip(harbor.deleteAccount({ sessionToken: session.token, passkey: response })))
          .toMatchObject({ reason: "unknown-credential" })
        const recheck = yield* harbor.beginPasskeyReauthentication(session.token)
        yield* harbor.deleteAccount({ sessionToken: session.token, passkey: authenticator.authenticate(recheck) })
        expect(yield* Effect.flip(harbor.login({ username: "jack", password: "AnotherStrongPassword456!" })))
          .toMatchObject({ _tag: "InvalidCredentials" })
        // Its passkeys went with the account.
        const after = authenticator.authenticate(yield* harbor.beginPasskeyLogin())
        expect(yield* Effect.flip(harbor.finishPasskeyLogin(after))).toMatchObject({ reason: "unknown-credential" })
      }))

    test("password re-checks keep working beside passkeys", () =>
      Effect.gen(function*() {
        const { harbor, token } = yield* withPasskey("liam")
        expect(
          yield* Effect.flip(harbor.changePassword({ sessionToken: token, oldPassword: "wrong", newPassword: "x" }))
        )
          .toMatchObject({ _tag: "InvalidCredentials" })
        yield* harbor.deleteAccount({ sessionToken: token, password })
      }))
  })
