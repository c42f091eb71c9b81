/**
 * The example app's change-of-email endpoints over HTTP: each outcome's status, the same answer for a taken
 * address, and the revert clearing the session cookie.
 */
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import * as Harness from "./HttpAppHarness.js"
import { cookieName, expectError, request, signedUp } from "./HttpClient.js"

const tokenOf = (link: string) => decodeURIComponent(new URL(link).hash.slice("#token=".length))

layer(Harness.layer(), { excludeTestServices: true, timeout: "30 seconds" })(
  "example http app: change of email",
  (it) => {
    it.effect("maps every outcome to its status", () =>
      Effect.gen(function*() {
        const app = yield* Harness.TestApp
        const { cookie, user } = yield* signedUp()
        const { user: other } = yield* signedUp()
        const change = (newEmail: string, password = user.password) =>
          request(app.url, "POST", "/api/accounts/me/email-change", { cookie, body: { newEmail, password } })

        expectError(yield* change("nope"), 422, "InvalidEmail")
        expectError(yield* change(user.email.toUpperCase()), 422, "EmailUnchanged")
        expectError(yield* change(`new.${user.email}`, "wrong passphrase"), 401, "InvalidCredentials")
        expectError(
          yield* request(app.url, "POST", "/api/accounts/me/email-change", {
            body: { newEmail: "a@b.org", password: "x" }
          }),
          401,
          "InvalidSession"
        )
        // A taken address: the same 202, and nothing pending.
        expect((yield* change(other.email)).status).toBe(202)
        const none = yield* request(app.url, "GET", "/api/accounts/me/email-change", { cookie })
        expect([none.status, none.body]).toEqual([200, null])

        const newEmail = `moved.${user.email}`
        expect((yield* change(newEmail)).status).toBe(202)
        const pending = yield* request(app.url, "GET", "/api/accounts/me/email-change", { cookie })
        expect(pending.body).toMatchObject({ newEmail })
        const confirm = (token: string) =>
          request(app.url, "POST", "/api/accounts/email-change/confirm", { body: { token } })
        expectError(yield* confirm("garbage"), 400, "InvalidToken")
        const token = tokenOf(Harness.linkIn(yield* app.emails, newEmail, "confirm-email"))
        expect((yield* confirm(token)).status).toBe(204)
        expectError(yield* confirm(token), 400, "InvalidToken")
        const me = yield* request(app.url, "GET", "/api/accounts/me", { cookie })
        expect(me.body).toMatchObject({ email: newEmail })

        // The other account asks for the same address and confirms after it was taken: 409.
        const { cookie: otherCookie, user: third } = yield* signedUp()
        const contested = `contested.${third.email}`
        expect(
          (yield* request(app.url, "POST", "/api/accounts/me/email-change", {
            cookie: otherCookie,
            body: { newEmail: contested, password: third.password }
          })).status
        ).toBe(202)
        const contestedToken = tokenOf(Harness.linkIn(yield* app.emails, contested, "confirm-email"))
        expect((yield* change(contested)).status).toBe(202)
        expect((yield* confirm(tokenOf(Harness.linkIn(yield* app.emails, contested, "confirm-email")))).status).toBe(
          204
        )
        expectError(yield* confirm(contestedToken), 409, "EmailTaken")

        // The revert of the first change: 204, every session ended, the cookie cleared.
        const revertToken = tokenOf(Harness.linkIn(yield* app.emails, user.email, "revert-email"))
        const reverted = yield* request(app.url, "POST", "/api/accounts/email-change/revert", {
          cookie,
          body: { token: revertToken }
        })
        expect(reverted.status).toBe(204)
        expect(reverted.cookies.find((c) => c.startsWith(cookieName))).toMatch(/^__Host-session=; Max-Age=0;/)
        expectError(yield* request(app.url, "GET", "/api/accounts/me", { cookie }), 401, "InvalidSession")
        const login = yield* request(app.url, "POST", "/api/sessions", {
          body: { email: user.email, password: user.password }
        })
        expect(login.status).toBe(200)
      }))
  }
)
