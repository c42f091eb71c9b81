import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import * as Harness from "./HttpAppHarness.js"
import { expectError, request, signedUp } from "./HttpClient.js"

layer(Harness.layer(), { excludeTestServices: true, timeout: "30 seconds" })(
  "example http app: recent security activity",
  (it) => {
    it.effect("the account page lists the signed-in user's events, newest first, with no secret", () =>
      Effect.gen(function*() {
        const app = yield* Harness.TestApp
        const { cookie, user } = yield* signedUp()
        const wrong = yield* request(app.url, "POST", "/api/sessions", {
          body: { email: user.email, password: "not the passphrase at all" }
        })
        expectError(wrong, 401, "InvalidCredentials")

        const activity = yield* request(app.url, "GET", "/api/accounts/me/activity", { cookie })
        expect(activity.status).toBe(200)
        expect(activity.body).toMatchObject([
          { type: "LoginFailed", description: "Failed sign-in: wrong password", at: expect.any(String) },
          { type: "LoginSucceeded", description: "Signed in" },
          { type: "EmailVerified", description: "Email address confirmed" },
          { type: "Registered", description: "Account created" }
        ])
        expect(JSON.stringify(activity.body)).not.toContain(user.password)
        expect(JSON.stringify(activity.body)).not.toContain(cookie)

        expectError(yield* request(app.url, "GET", "/api/accounts/me/activity"), 401, "InvalidSession")
        const page = yield* request(app.url, "GET", "/account")
        expect(String(page.body)).toContain("Recent security activity")
      }))
  }
)
