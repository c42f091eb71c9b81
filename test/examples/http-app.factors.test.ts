import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { SoftAuthenticator } from "../support/SoftAuthenticator.js"
import * as Harness from "./HttpAppHarness.js"
import { expectError, type Reply, request, sessionValue, signedUp, totpCode } from "./HttpClient.js"

interface Enrollment {
  readonly secret: string
  readonly uri: string
  readonly qrSvg: string
}

const body = <A>(reply: Reply): A => reply.body as A

// The step after `at`: the code of the step that confirmed an enrolment is spent (replay refusal), and one step of
// drift is accepted.
const nextStep = () => Date.now() + 30_000

layer(Harness.layer({}, "inline", { passkeys: true }), { excludeTestServices: true, timeout: "30 seconds" })(
  "example http app: second factors and passkeys",
  (it) => {
    it.effect("enrols TOTP; login then asks for a code, which completeLogin takes (or a recovery code)", () =>
      Effect.gen(function*() {
        const app = yield* Harness.TestApp
        const { cookie, user } = yield* signedUp()
        const post = (path: string, payload: unknown) => request(app.url, "POST", path, { cookie, body: payload })
        // Without the cookie: a sign-in ends the browser's previous session.
        const login = () =>
          request(app.url, "POST", "/api/sessions", { body: { email: user.email, password: user.password } })

        expectError(yield* post("/api/accounts/me/totp", { password: "wrong passphrase" }), 401, "InvalidCredentials")
        expectError(
          yield* request(app.url, "POST", "/api/accounts/me/totp", {
            cookie: "forged",
            body: { password: user.password }
          }),
          401,
          "InvalidSession"
        )
        const begun = yield* post("/api/accounts/me/totp", { password: user.password })
        expect(begun.status).toBe(200)
        expect(begun.headers.get("cache-control")).toBe("no-store")
        const { qrSvg, secret, uri } = body<Enrollment>(begun)
        expect(uri).toMatch(/^otpauth:\/\/totp\/UserHarbor:user/)
        expect(uri).toContain(`secret=${secret}`)
        expect(qrSvg).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/)
        expect(qrSvg).not.toContain("<script")
        // Pending: the password alone still signs in.
        expect((yield* login()).status).toBe(200)

        expectError(yield* post("/api/accounts/me/totp/confirm", { code: "000000" }), 401, "InvalidCode")
        const confirmed = yield* post("/api/accounts/me/totp/confirm", { code: totpCode(secret) })
        expect(confirmed.status).toBe(200)
        const { recoveryCodes } = body<{ recoveryCodes: ReadonlyArray<string> }>(confirmed)
        expect(recoveryCodes).toHaveLength(10)
        expect(new Set(recoveryCodes).size).toBe(10)
        expectError(yield* post("/api/accounts/me/totp", { password: user.password }), 409, "TotpAlreadyEnabled")
        expectError(yield* post("/api/accounts/me/totp/confirm", { code: totpCode(secret) }), 409, "TotpNotEnabled")
        const factors = yield* request(app.url, "GET", "/api/accounts/me/factors", { cookie })
        expect(factors.body).toEqual([
          { kind: "totp", enabledAt: expect.any(String) },
          { kind: "recovery-codes", remaining: 10 }
        ])

        // The password step: 401 with the challenge, and no session cookie.
        const required = yield* login()
        expectError(required, 401, "SecondFactorRequired")
        expect(required.cookies).toEqual([])
        const { challenge, expiresAt } = body<{ challenge: string; expiresAt: number }>(required)
        expect(challenge.length).toBeGreaterThan(20)
        expect(expiresAt - Date.now()).toBeGreaterThan(4 * 60_000)
        const complete = (code: string, theChallenge = challenge) =>
          request(app.url, "POST", "/api/sessions/second-factor", { body: { challenge: theChallenge, code } })
        expectError(yield* complete("000000"), 401, "InvalidCode")
        expectError(yield* complete(totpCode(secret), "no-such-challenge"), 401, "InvalidChallenge")
        const completed = yield* complete(totpCode(secret, nextStep()))
        expect(completed.status).toBe(200)
        const second = sessionValue(completed)
        expect((yield* request(app.url, "GET", "/api/accounts/me", { cookie: second })).status).toBe(200)
        // Single use.
        expectError(yield* complete(totpCode(secret, nextStep())), 401, "InvalidChallenge")

        // A recovery code stands in for the app, once.
        const again = body<{ challenge: string }>(yield* login()).challenge
        const [recovery = ""] = recoveryCodes
        expect((yield* complete(recovery, again)).status).toBe(200)
        const third = body<{ challenge: string }>(yield* login()).challenge
        expectError(yield* complete(recovery, third), 401, "InvalidCode")
        expect((yield* request(app.url, "GET", "/api/accounts/me/factors", { cookie })).body)
          .toContainEqual({ kind: "recovery-codes", remaining: 9 })

        const regenerated = yield* post("/api/accounts/me/recovery-codes", { password: user.password })
        expect(body<{ recoveryCodes: ReadonlyArray<string> }>(regenerated).recoveryCodes).toHaveLength(10)
        expect(body<{ recoveryCodes: ReadonlyArray<string> }>(regenerated).recoveryCodes).not.toContain(
          recoveryCodes[1]
        )

        const disable = (payload: unknown) =>
          request(app.url, "DELETE", "/api/accounts/me/totp", { cookie, body: payload })
        expectError(yield* disable({ password: "wrong passphrase" }), 401, "InvalidCredentials")
        expect((yield* disable({ password: user.password })).status).toBe(204)
        expectError(yield* disable({ password: user.password }), 409, "TotpNotEnabled")
        expect((yield* request(app.url, "GET", "/api/accounts/me/factors", { cookie })).body).toEqual([])
        expect((yield* login()).status).toBe(200)
      }))

    it.effect("registers, lists, renames and removes a passkey; signs in with it alone", () =>
      Effect.gen(function*() {
        const app = yield* Harness.TestApp
        const { cookie, user } = yield* signedUp()
        const authenticator = new SoftAuthenticator(app.url)
        const passkeys = () => request(app.url, "GET", "/api/accounts/me/passkeys", { cookie })

        expectError(yield* request(app.url, "POST", "/api/accounts/me/passkeys/options"), 401, "InvalidSession")
        const creation = yield* request(app.url, "POST", "/api/accounts/me/passkeys/options", { cookie })
        expect(creation.status).toBe(200)
        const options = body<
          { rp: { id: string; name: string }; user: { id: string; name: string }; challenge: string }
        >(
          creation
        )
        expect(options.rp.id).toBe("localhost")
        expect(options.user.id).not.toContain(user.username)
        const response = authenticator.register(options)
        const added = yield* request(app.url, "POST", "/api/accounts/me/passkeys", {
          cookie,
          body: { name: "Laptop", response }
        })
        expect(added.status).toBe(201)
        expect(added.body).toMatchObject({ id: response.id, name: "Laptop", transports: ["internal", "hybrid"] })
        // The challenge was spent.
        expectError(
          yield* request(app.url, "POST", "/api/accounts/me/passkeys", { cookie, body: { name: "Again", response } }),
          401,
          "InvalidPasskeyChallenge"
        )
        expectError(
          yield* request(app.url, "POST", "/api/accounts/me/passkeys", { cookie, body: { name: "Bad", response: {} } }),
          400,
          "HttpApiDecodeError"
        )

        const path = `/api/accounts/me/passkeys/${response.id}`
        expect((yield* request(app.url, "PATCH", path, { cookie, body: { name: "Work laptop" } })).status).toBe(204)
        expectError(yield* request(app.url, "PATCH", path, { cookie, body: { name: " " } }), 422, "InvalidPasskeyName")
        expect((yield* passkeys()).body).toEqual([expect.objectContaining({ id: response.id, name: "Work laptop" })])
        // Another user's passkey id answers like an unknown one.
        const { cookie: stranger } = yield* signedUp()
        expectError(yield* request(app.url, "DELETE", path, { cookie: stranger }), 404, "PasskeyNotFound")
        expectError(
          yield* request(app.url, "PATCH", path, { cookie: stranger, body: { name: "Mine" } }),
          404,
          "PasskeyNotFound"
        )

        // Usernameless sign-in: no cookie, no name, just the passkey.
        const signIn = (tweaks = {}) =>
          Effect.gen(function*() {
            const requested = yield* request(app.url, "POST", "/api/sessions/passkey/options")
            expect(requested.status).toBe(200)
            const assertion = authenticator.authenticate(body(requested), tweaks)
            return {
              assertion,
              reply: yield* request(app.url, "POST", "/api/sessions/passkey", { body: { response: assertion } })
            }
          })
        const { assertion, reply } = yield* signIn()
        expect(reply.status).toBe(200)
        const viaPasskey = sessionValue(reply)
        expect(body(yield* request(app.url, "GET", "/api/accounts/me", { cookie: viaPasskey }))).toMatchObject({
          username: user.username
        })
        expectError(
          yield* request(app.url, "POST", "/api/sessions/passkey", { body: { response: assertion } }),
          401,
          "InvalidPasskeyChallenge"
        )
        const phished = (yield* signIn({ origin: "https://evil.example" })).reply
        expectError(phished, 401, "InvalidPasskey")
        expect(phished.body).toMatchObject({ reason: "origin" })
        expect(phished.cookies).toEqual([])
        expect((yield* passkeys()).body).toEqual([expect.objectContaining({ lastUsedAt: expect.any(String) })])

        expect((yield* request(app.url, "DELETE", path, { cookie })).status).toBe(204)
        expect((yield* passkeys()).body).toEqual([])
        const removed = (yield* signIn()).reply
        expectError(removed, 401, "InvalidPasskey")
        expect(removed.body).toMatchObject({ reason: "unknown-credential" })
      }))

    it.effect("refuses every new state-changing endpoint from another origin (CSRF)", () =>
      Effect.gen(function*() {
        const app = yield* Harness.TestApp
        const { cookie, user } = yield* signedUp()
        const cases: ReadonlyArray<readonly [string, string, unknown]> = [
          ["POST", "/api/accounts/me/totp", { password: user.password }],
          ["POST", "/api/accounts/me/totp/confirm", { code: "123456" }],
          ["DELETE", "/api/accounts/me/totp", { password: user.password }],
          ["POST", "/api/accounts/me/recovery-codes", { password: user.password }],
          ["POST", "/api/sessions/second-factor", { challenge: "c", code: "123456" }],
          ["POST", "/api/accounts/me/passkeys/options", undefined],
          ["POST", "/api/accounts/me/passkeys", { name: "x" }],
          ["PATCH", "/api/accounts/me/passkeys/some-id", { name: "x" }],
          ["DELETE", "/api/accounts/me/passkeys/some-id", undefined],
          ["POST", "/api/sessions/passkey/options", undefined],
          ["POST", "/api/sessions/passkey", { response: {} }]
        ]
        for (const [method, path, payload] of cases) {
          for (
            const options of [{ origin: "https://evil.example" }, {
              origin: null,
              headers: { "sec-fetch-site": "cross-site" }
            }]
          ) {
            const reply = yield* request(app.url, method, path, { cookie, body: payload, ...options })
            expectError(reply, 403, "CrossOriginRequest")
          }
        }
        // Nothing was started: TOTP can still be set up.
        expect((yield* request(app.url, "GET", "/api/accounts/me/factors", { cookie })).body).toEqual([])
        // Oversized bodies are refused before anything else, here too.
        const huge = { name: "x".repeat(100_000) }
        expectError(
          yield* request(app.url, "POST", "/api/accounts/me/passkeys", { cookie, body: huge }),
          413,
          "PayloadTooLarge"
        )
      }))

    it.effect("serves the settings page and the WebAuthn script with the strict CSP", () =>
      Effect.gen(function*() {
        const app = yield* Harness.TestApp
        for (const page of ["/settings", "/webauthn.js"]) {
          const response = yield* Effect.promise(() => fetch(`${app.url}${page}`))
          expect(response.status).toBe(200)
          expect(response.headers.get("content-security-policy")).toContain("script-src 'self'")
          expect(response.headers.get("cache-control")).toBe("no-store")
        }
      }))
  }
)

// On 127.0.0.1 (the default) there is no passkey config: WebAuthn refuses an IP address as relying party.
layer(Harness.layer(), { excludeTestServices: true, timeout: "30 seconds" })(
  "example http app without passkeys",
  (it) => {
    it.effect("answers every passkey endpoint with 404 PasskeysOff, signed in or not", () =>
      Effect.gen(function*() {
        const app = yield* Harness.TestApp
        const { cookie } = yield* signedUp()
        const replies = [
          yield* request(app.url, "POST", "/api/sessions/passkey/options"),
          yield* request(app.url, "POST", "/api/accounts/me/passkeys/options", { cookie }),
          yield* request(app.url, "GET", "/api/accounts/me/passkeys", { cookie }),
          yield* request(app.url, "DELETE", "/api/accounts/me/passkeys/some-id", { cookie })
        ]
        for (const reply of replies) expectError(reply, 404, "PasskeysOff")
        // Signed out, the session check comes first.
        expectError(yield* request(app.url, "GET", "/api/accounts/me/passkeys"), 401, "InvalidSession")
      }))
  }
)
