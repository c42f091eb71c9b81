import { describe, expect, it, layer } from "@effect/vitest"
import { Effect, Schedule } from "effect"
import { request as httpRequest } from "node:http"
import { throttleKey } from "../../examples/http-app/Handlers.js"
import * as Harness from "./HttpAppHarness.js"
import {
  cookieName,
  expectError,
  newUser,
  type Reply,
  request,
  sessionValue,
  signedUp,
  verifyAndSignIn
} from "./HttpClient.js"

/**
 * A POST through `node:http`, for what `fetch` does not do: a body without `Content-Length` (chunked), or a body
 * left unfinished (`end: false`) to see whether the server answers before reading it.
 */
const rawPost = (url: string, path: string, headers: Record<string, string>, body: string, end: boolean) =>
  Effect.async<{ readonly status: number; readonly body: unknown }>((resume) => {
    const outgoing = httpRequest(`${url}${path}`, { method: "POST", headers: { origin: url, ...headers } }, (res) => {
      let text = ""
      res.setEncoding("utf8")
      res.on("data", (chunk: string) => {
        text += chunk
      })
      res.on("end", () => {
        outgoing.destroy()
        resume(Effect.succeed({ status: res.statusCode ?? 0, body: text === "" ? undefined : JSON.parse(text) }))
      })
    })
    // Destroyed on purpose once answered, possibly mid-body.
    outgoing.on("error", () => {})
    outgoing.write(body)
    if (end) outgoing.end()
    return Effect.sync(() => outgoing.destroy())
  }).pipe(Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => new Error(`no answer from ${path}`) }))

const securityHeaderNames = [
  "content-security-policy",
  "cross-origin-opener-policy",
  "permissions-policy",
  "referrer-policy",
  "x-content-type-options",
  "cache-control"
]

layer(Harness.layer(), { excludeTestServices: true, timeout: "30 seconds" })("example http app", (it) => {
  it.effect("runs the whole account flow over HTTP", () =>
    Effect.gen(function*() {
      const app = yield* Harness.TestApp
      const { cookie, user } = yield* signedUp()

      const me = yield* request(app.url, "GET", "/api/accounts/me", { cookie })
      expect(me.status).toBe(200)
      expect(me.body).toMatchObject({ username: user.username, email: user.email, verified: true })

      const second = "second passphrase for the account"
      const changed = yield* request(app.url, "POST", "/api/accounts/me/password", {
        cookie,
        body: { oldPassword: user.password, newPassword: second }
      })
      expect(changed.status).toBe(200)
      const changedCookie = sessionValue(changed)
      expect(changedCookie).not.toBe(cookie)
      expectError(yield* request(app.url, "GET", "/api/accounts/me", { cookie }), 401, "InvalidSession")
      expect((yield* request(app.url, "GET", "/api/accounts/me", { cookie: changedCookie })).status).toBe(200)

      const logout = yield* request(app.url, "DELETE", "/api/sessions/current", { cookie: changedCookie })
      expect(logout.status).toBe(204)
      expect(logout.cookies.find((c) => c.startsWith(cookieName))).toMatch(/^__Host-session=; Max-Age=0;/)
      expectError(yield* request(app.url, "GET", "/api/accounts/me", { cookie: changedCookie }), 401, "InvalidSession")

      const reset = yield* request(app.url, "POST", "/api/accounts/password-reset", { body: { email: user.email } })
      expect(reset.status).toBe(202)
      const link = Harness.linkIn(yield* app.emails, user.email, "reset")
      const token = decodeURIComponent(new URL(link).hash.slice("#token=".length))
      const third = "third passphrase for the account"
      const confirmed = yield* request(app.url, "POST", "/api/accounts/password-reset/confirm", {
        body: { token, newPassword: third }
      })
      expect(confirmed.status).toBe(204)
      // Single use.
      expectError(
        yield* request(app.url, "POST", "/api/accounts/password-reset/confirm", {
          body: { token, newPassword: third }
        }),
        400,
        "InvalidToken"
      )
      expectError(
        yield* request(app.url, "POST", "/api/sessions", { body: { email: user.email, password: second } }),
        401,
        "InvalidCredentials"
      )
      const login = yield* request(app.url, "POST", "/api/sessions", {
        body: { username: user.username, password: third }
      })
      expect(login.status).toBe(200)

      const deleted = yield* request(app.url, "DELETE", "/api/accounts/me", {
        cookie: sessionValue(login),
        body: { password: third }
      })
      expect(deleted.status).toBe(204)
      expect(deleted.cookies.find((c) => c.startsWith(cookieName))).toMatch(/^__Host-session=; Max-Age=0;/)
      expectError(
        yield* request(app.url, "POST", "/api/sessions", { body: { email: user.email, password: third } }),
        401,
        "InvalidCredentials"
      )
      const subjects = (yield* app.emails).filter((email) => email.to === user.email).map((email) => email.subject)
      expect(subjects).toHaveLength(5)
    }))

  it.effect("sets the session cookie __Host-session, HttpOnly, Secure, SameSite=Lax, Path=/, no Domain", () =>
    Effect.gen(function*() {
      const { login } = yield* signedUp()
      expect(login.cookies).toHaveLength(1)
      const cookie = login.cookies.find((c) => c.startsWith("__Host-session="))
      const attributes = new Set(cookie?.split("; ").slice(1).map((part) => part.split("=")[0]?.toLowerCase()))
      expect(attributes).toEqual(new Set(["expires", "path", "httponly", "secure", "samesite"]))
      expect(cookie).toContain("; Path=/")
      expect(cookie).toContain("; SameSite=Lax")
      const expires = cookie?.match(/Expires=([^;]+)/)?.[1]
      const expiresAt = (login.body as { expiresAt: string }).expiresAt
      // Cookie dates have one-second resolution.
      expect(Math.abs(Date.parse(expires ?? "") - Date.parse(expiresAt))).toBeLessThan(1000)
      expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(29 * 24 * 3600 * 1000)
    }))

  it.effect("stops accepting a session at once after sign-out everywhere from another session", () =>
    Effect.gen(function*() {
      const app = yield* Harness.TestApp
      const { cookie: first, user } = yield* signedUp()
      const other = yield* request(app.url, "POST", "/api/sessions", {
        body: { email: user.email, password: user.password }
      })
      const second = sessionValue(other)
      expect((yield* request(app.url, "GET", "/api/accounts/me", { cookie: first })).status).toBe(200)
      expect((yield* request(app.url, "DELETE", "/api/sessions", { cookie: second })).status).toBe(204)
      expectError(yield* request(app.url, "GET", "/api/accounts/me", { cookie: first }), 401, "InvalidSession")
      expectError(yield* request(app.url, "GET", "/api/accounts/me", { cookie: second }), 401, "InvalidSession")
      expectError(
        yield* request(app.url, "POST", "/api/accounts/me/password", {
          cookie: first,
          body: { oldPassword: user.password, newPassword: "another good passphrase" }
        }),
        401,
        "InvalidSession"
      )
    }))

  it.effect("maps every domain error to its status and a { _tag, message } body", () =>
    Effect.gen(function*() {
      const app = yield* Harness.TestApp
      const { cookie, user } = yield* signedUp()
      const post = (path: string, body: unknown) => request(app.url, "POST", path, { body })
      const fresh = newUser()
      expectError(yield* post("/api/accounts", { ...fresh, username: "a" }), 422, "InvalidUsername")
      expectError(yield* post("/api/accounts", { ...fresh, email: "not-an-email" }), 422, "InvalidEmail")
      const weak = yield* post("/api/accounts", { ...fresh, password: "short" })
      expectError(weak, 422, "WeakPassword")
      expect(weak.body).toMatchObject({ reasons: ["too-short"] })
      expectError(yield* post("/api/accounts", { ...fresh, username: user.username }), 409, "UsernameTaken")
      expectError(
        yield* post("/api/sessions", { email: user.email, password: "wrong passphrase" }),
        401,
        "InvalidCredentials"
      )
      expect((yield* post("/api/accounts", fresh)).status).toBe(202)
      const unverified = yield* post("/api/sessions", { email: fresh.email, password: fresh.password })
      expectError(unverified, 403, "EmailNotVerified")
      // A locked account: 403 for the right password only (a wrong one reads as any wrong password), and the lock
      // ended its session at once.
      const locked = yield* signedUp()
      yield* app.lock(locked.user.email)
      expectError(yield* request(app.url, "GET", "/api/accounts/me", { cookie: locked.cookie }), 401, "InvalidSession")
      expectError(
        yield* post("/api/sessions", { email: locked.user.email, password: "wrong passphrase" }),
        401,
        "InvalidCredentials"
      )
      expectError(
        yield* post("/api/sessions", { email: locked.user.email, password: locked.user.password }),
        403,
        "AccountLocked"
      )
      expectError(yield* request(app.url, "GET", "/api/accounts/me"), 401, "InvalidSession")
      expectError(yield* request(app.url, "GET", "/api/accounts/me", { cookie: "forged" }), 401, "InvalidSession")
      const badToken = yield* post("/api/accounts/verify-email", { token: "no-such-token" })
      expectError(badToken, 400, "InvalidToken")
      expect(badToken.body).toMatchObject({ purpose: "verify-email", reason: "unknown" })
      expectError(
        yield* request(app.url, "DELETE", "/api/accounts/me", { cookie, body: { password: "wrong passphrase" } }),
        401,
        "InvalidCredentials"
      )
      expectError(yield* post("/api/sessions", { email: user.email }), 400, "HttpApiDecodeError")

      yield* app.setDeliveryFailing(true)
      const undelivered = yield* post("/api/accounts/password-reset", { email: user.email }).pipe(
        Effect.ensuring(app.setDeliveryFailing(false))
      )
      expectError(undelivered, 502, "EmailDeliveryError")

      yield* app.setStoreFailing(true)
      const broken = yield* post("/api/accounts/password-reset", { email: user.email }).pipe(
        Effect.ensuring(app.setStoreFailing(false))
      )
      expectError(broken, 503, "StoreError")
      expect(broken.body).toEqual({
        _tag: "StoreError",
        operation: "findUserByEmail",
        message: "User store failed during findUserByEmail"
      })
    }))

  it.effect("refuses state-changing requests from another origin (CSRF)", () =>
    Effect.gen(function*() {
      const app = yield* Harness.TestApp
      const { cookie, user } = yield* signedUp()
      const body = { password: user.password }
      expectError(
        yield* request(app.url, "DELETE", "/api/accounts/me", { cookie, body, origin: "https://evil.example" }),
        403,
        "CrossOriginRequest"
      )
      expectError(
        yield* request(app.url, "DELETE", "/api/sessions", {
          cookie,
          origin: null,
          headers: { "sec-fetch-site": "cross-site" }
        }),
        403,
        "CrossOriginRequest"
      )
      expectError(
        yield* request(app.url, "POST", "/api/sessions", {
          body: { email: user.email, password: user.password },
          origin: "null"
        }),
        403,
        "CrossOriginRequest"
      )
      // A plain HTML form can post here (HttpApi decodes form bodies too): only the origin check stops it.
      const form = (origin: string) =>
        Effect.promise(() =>
          fetch(`${app.url}/api/sessions`, {
            method: "POST",
            headers: { origin, "content-type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams({ email: user.email, password: user.password })
          })
        )
      expect((yield* form("https://evil.example")).status).toBe(403)
      expect((yield* form(app.url)).status).toBe(200)
      // The refused requests changed nothing.
      expect((yield* request(app.url, "GET", "/api/accounts/me", { cookie })).status).toBe(200)
      // Same-site fetch metadata without Origin, and a client that sends neither (not a browser), pass.
      const sameOrigin = yield* request(app.url, "DELETE", "/api/sessions/current", {
        cookie,
        origin: null,
        headers: { "sec-fetch-site": "same-origin" }
      })
      expect(sameOrigin.status).toBe(204)
      const { cookie: another } = yield* signedUp()
      expect((yield* request(app.url, "DELETE", "/api/sessions/current", { cookie: another, origin: null })).status)
        .toBe(204)
    }))

  it.effect("names each session's device from the sign-in's User-Agent, with the network of its address", () =>
    Effect.gen(function*() {
      const app = yield* Harness.TestApp
      const { cookie: first, user } = yield* signedUp()
      const firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
      const signedIn = yield* request(app.url, "POST", "/api/sessions", {
        body: { email: user.email, password: user.password },
        headers: { "user-agent": firefox }
      })
      expect(signedIn.status).toBe(200)
      const listed = yield* request(app.url, "GET", "/api/sessions", { cookie: first })
      const devices = (listed.body as ReadonlyArray<{ readonly current: boolean; readonly device: unknown }>)
        .find((entry) => !entry.current)?.device
      // The test server listens on the loopback: the network of 127.0.0.1 (or of ::1).
      expect(devices).toMatchObject({ label: "Firefox on Windows" })
      expect(["127.0.0.0/24", "::/48"]).toContain((devices as { readonly address: unknown }).address)
    }))

  it.effect("lists the sessions and revokes one or all the others; each ends at once", () =>
    Effect.gen(function*() {
      const app = yield* Harness.TestApp
      const { cookie: first, user } = yield* signedUp()
      const login = () =>
        Effect.map(
          request(app.url, "POST", "/api/sessions", { body: { email: user.email, password: user.password } }),
          sessionValue
        )
      const second = yield* login()
      const list = (cookie: string) =>
        Effect.map(request(app.url, "GET", "/api/sessions", { cookie }), (reply) => {
          expect(reply.status).toBe(200)
          return reply.body as ReadonlyArray<{ readonly id: string; readonly current: boolean }>
        })
      const me = (cookie: string) =>
        Effect.map(request(app.url, "GET", "/api/accounts/me", { cookie }), (reply) => reply.status)

      const seenByFirst = yield* list(first)
      expect(seenByFirst).toHaveLength(2)
      for (const entry of seenByFirst) {
        expect(Object.keys(entry).sort()).toEqual(["createdAt", "current", "device", "expiresAt", "id", "lastUsedAt"])
      }
      expect(JSON.stringify(seenByFirst)).not.toContain(first)
      expect(JSON.stringify(seenByFirst)).not.toContain(second)
      const firstId = seenByFirst.find((entry) => entry.current)?.id
      const secondId = seenByFirst.find((entry) => !entry.current)?.id
      expect(seenByFirst.filter((entry) => entry.current)).toHaveLength(1)
      // The other session sees the same two, with `current` on its own.
      const seenBySecond = yield* list(second)
      expect(seenBySecond.find((entry) => entry.current)?.id).toBe(secondId)
      expect(seenBySecond.map((entry) => entry.id).sort()).toEqual(seenByFirst.map((entry) => entry.id).sort())

      // Revoking another session leaves this one's cookie alone and ends the other at once.
      const revoked = yield* request(app.url, "DELETE", `/api/sessions/${firstId}`, { cookie: second })
      expect(revoked.status).toBe(204)
      expect(revoked.cookies).toEqual([])
      expectError(yield* request(app.url, "GET", "/api/accounts/me", { cookie: first }), 401, "InvalidSession")
      expect(yield* me(second)).toBe(200)
      expect((yield* list(second)).map((entry) => entry.id)).toEqual([secondId])

      // Already revoked, unknown, and another user's session: all the same 404, and nothing ends.
      const { cookie: stranger } = yield* signedUp()
      const strangerId = (yield* list(stranger))[0]?.id
      for (const id of [firstId, "no-such-session", strangerId]) {
        const reply = yield* request(app.url, "DELETE", `/api/sessions/${id}`, { cookie: second })
        expectError(reply, 404, "SessionNotFound")
        expect(reply.body).toEqual({ _tag: "SessionNotFound", message: "Session not found" })
      }
      expect(yield* me(stranger)).toBe(200)

      const third = yield* login()
      const fourth = yield* login()
      const others = yield* request(app.url, "DELETE", "/api/sessions/others", { cookie: second })
      expect({ status: others.status, body: others.body, cookies: others.cookies })
        .toEqual({ status: 200, body: { revoked: 2 }, cookies: [] })
      expect([yield* me(second), yield* me(third), yield* me(fourth)]).toEqual([200, 401, 401])
      expect((yield* list(second)).map((entry) => entry.id)).toEqual([secondId])
      expect((yield* request(app.url, "DELETE", "/api/sessions/others", { cookie: second })).body)
        .toEqual({ revoked: 0 })

      // Revoking the current session by its id signs out: the cookie is cleared.
      const own = yield* request(app.url, "DELETE", `/api/sessions/${secondId}`, { cookie: second })
      expect(own.status).toBe(204)
      expect(own.cookies.find((c) => c.startsWith(cookieName))).toMatch(/^__Host-session=; Max-Age=0;/)
      expect(yield* me(second)).toBe(401)
      expectError(yield* request(app.url, "GET", "/api/sessions", { cookie: second }), 401, "InvalidSession")
    }))

  it.effect("refuses cross-origin session revocation (CSRF)", () =>
    Effect.gen(function*() {
      const app = yield* Harness.TestApp
      const { cookie: first, user } = yield* signedUp()
      const second = sessionValue(
        yield* request(app.url, "POST", "/api/sessions", { body: { email: user.email, password: user.password } })
      )
      const sessions = (yield* request(app.url, "GET", "/api/sessions", { cookie: first })).body as ReadonlyArray<{
        readonly id: string
        readonly current: boolean
      }>
      const otherId = sessions.find((entry) => !entry.current)?.id
      const evil = { cookie: first, origin: "https://evil.example" }
      const crossSite = { cookie: first, origin: null, headers: { "sec-fetch-site": "cross-site" } }
      for (const options of [evil, crossSite]) {
        expectError(yield* request(app.url, "DELETE", `/api/sessions/${otherId}`, options), 403, "CrossOriginRequest")
        expectError(yield* request(app.url, "DELETE", "/api/sessions/others", options), 403, "CrossOriginRequest")
      }
      // Nothing was revoked.
      expect((yield* request(app.url, "GET", "/api/accounts/me", { cookie: second })).status).toBe(200)
      expect((yield* request(app.url, "GET", "/api/sessions", { cookie: first })).body).toHaveLength(2)
    }))

  it.effect("answers resend and reset requests the same for unknown and known addresses", () =>
    Effect.gen(function*() {
      const app = yield* Harness.TestApp
      const { user: verified } = yield* signedUp()
      const unverified = newUser()
      expect((yield* request(app.url, "POST", "/api/accounts", { body: unverified })).status).toBe(202)
      const unknown = newUser()
      const shape = (reply: Reply) => ({
        status: reply.status,
        body: reply.body,
        cookies: reply.cookies,
        headers: [...reply.headers.entries()].filter(([name]) => name !== "date")
      })
      for (const path of ["/api/accounts/verify-email/resend", "/api/accounts/password-reset"]) {
        const replies = []
        for (const email of [unknown.email, unverified.email, verified.email]) {
          replies.push(shape(yield* request(app.url, "POST", path, { body: { email } })))
        }
        expect(replies[0]?.status).toBe(202)
        expect(replies[1]).toEqual(replies[0])
        expect(replies[2]).toEqual(replies[0])
      }
      // Registering a taken address answers like a new one.
      const takenBody = { ...newUser(), email: verified.email }
      const taken = shape(yield* request(app.url, "POST", "/api/accounts", { body: takenBody }))
      const fresh = shape(yield* request(app.url, "POST", "/api/accounts", { body: newUser() }))
      expect(taken).toEqual(fresh)
      // The emails did go out where they should.
      const emails = yield* app.emails
      expect(emails.filter((email) => email.to === unknown.email)).toEqual([])
      expect(emails.filter((email) => email.to === verified.email).map((email) => email.subject)).toHaveLength(3)
    }))

  it.effect("has no session when the cookie comes twice (cookie tossing) or without its __Host- prefix", () =>
    Effect.gen(function*() {
      const app = yield* Harness.TestApp
      const { cookie: victim } = yield* signedUp()
      const { cookie: attacker } = yield* signedUp()
      const me = (cookieHeader: string) => request(app.url, "GET", "/api/accounts/me", { cookieHeader })
      for (
        const header of [
          `${cookieName}=${attacker}; ${cookieName}=${victim}`,
          `${cookieName}=${victim}; ${cookieName}=${victim}`,
          `${cookieName}=${victim};${cookieName}=`,
          `session=${victim}`,
          `__host-session=${victim}`
        ]
      ) {
        expectError(yield* me(header), 401, "InvalidSession")
      }
      // Other cookies beside it are no duplicate.
      const mixed = yield* me(`theme=dark; session=${attacker}; ${cookieName}=${victim}`)
      expect(mixed.status).toBe(200)
      expect((yield* me(`${cookieName}=${victim}`)).body).toEqual(mixed.body)
    }))

  it.effect("refuses a body over the limit with 413 before reading it, and a chunked body with 411", () =>
    Effect.gen(function*() {
      const app = yield* Harness.TestApp
      const limit = 64 * 1024
      // `{"token":"…"}` of exactly the limit reaches the handler; one byte more does not.
      const tokenOfSize = (size: number) => ({ token: "t".repeat(size - JSON.stringify({ token: "" }).length) })
      expectError(
        yield* request(app.url, "POST", "/api/accounts/verify-email", { body: tokenOfSize(limit) }),
        400,
        "InvalidToken"
      )
      const over = yield* request(app.url, "POST", "/api/accounts/verify-email", { body: tokenOfSize(limit + 1) })
      expectError(over, 413, "PayloadTooLarge")
      expect(over.body).toMatchObject({ maxBytes: limit })
      const megabyte = { email: `${"a".repeat(1024 * 1024)}@example.com` }
      for (const path of ["/api/accounts/password-reset", "/api/accounts", "/api/sessions"]) {
        expectError(yield* request(app.url, "POST", path, { body: megabyte }), 413, "PayloadTooLarge")
      }
      // The answer comes from the headers: the client has sent 4 KiB of the 64 MiB it announced and is still
      // sending.
      const announced = yield* rawPost(
        app.url,
        "/api/accounts/password-reset",
        { "content-type": "application/json", "content-length": String(64 * 1024 * 1024) },
        `{"email":"${"a".repeat(4096)}`,
        false
      )
      expect(announced).toMatchObject({ status: 413, body: { _tag: "PayloadTooLarge" } })
      const chunked = yield* rawPost(
        app.url,
        "/api/accounts/password-reset",
        { "content-type": "application/json", "transfer-encoding": "chunked" },
        JSON.stringify({ email: "someone@example.com" }),
        true
      )
      expect(chunked).toMatchObject({ status: 411, body: { _tag: "LengthRequired" } })
      // Before any other check: a cross-origin oversized request is refused for its size.
      const crossOrigin = yield* request(app.url, "POST", "/api/sessions", {
        body: megabyte,
        origin: "https://evil.example"
      })
      expectError(crossOrigin, 413, "PayloadTooLarge")
    }))

  it.effect("answers an invalid payload with 400 naming the fields, never echoing the input", () =>
    Effect.gen(function*() {
      const app = yield* Harness.TestApp
      const secret = "my secret passphrase 8b1f"
      const email = "echo-probe@example.com"
      const cases: ReadonlyArray<readonly [string, unknown, ReadonlyArray<string>]> = [
        ["/api/sessions", { username: 5, password: secret }, ["username"]],
        ["/api/sessions", { email, password: 73914862 }, ["password"]],
        ["/api/sessions", { email, pass: secret }, ["password"]],
        ["/api/accounts", { username: ["x"], email, password: secret }, ["username"]],
        ["/api/accounts/password-reset/confirm", { token: secret, newPassword: { secret } }, ["newPassword"]]
      ]
      for (const [path, body, fields] of cases) {
        const reply = yield* request(app.url, "POST", path, { body })
        expectError(reply, 400, "HttpApiDecodeError")
        const text = JSON.stringify(reply.body)
        for (const leaked of [secret, email, "73914862", "actual"]) expect(text).not.toContain(leaked)
        for (const field of fields) expect((reply.body as { message: string }).message).toContain(field)
      }
    }))

  it.effect("a new sign-in ends the browser's previous session; a failed one leaves it", () =>
    Effect.gen(function*() {
      const app = yield* Harness.TestApp
      const { cookie: first, user } = yield* signedUp()
      const credentials = { email: user.email, password: user.password }
      const me = (cookie: string) =>
        Effect.map(request(app.url, "GET", "/api/accounts/me", { cookie }), (reply) => reply.status)

      expectError(
        yield* request(app.url, "POST", "/api/sessions", {
          cookie: first,
          body: { ...credentials, password: "wrong passphrase" }
        }),
        401,
        "InvalidCredentials"
      )
      expect(yield* me(first)).toBe(200)

      const again = yield* request(app.url, "POST", "/api/sessions", { cookie: first, body: credentials })
      expect(again.status).toBe(200)
      const second = sessionValue(again)
      expect([yield* me(first), yield* me(second)]).toEqual([401, 200])
      expect((yield* request(app.url, "GET", "/api/sessions", { cookie: second })).body).toHaveLength(1)

      // An ended or made-up session in the cookie does not stand in the way.
      for (const stale of [first, "forged"]) {
        expect((yield* request(app.url, "POST", "/api/sessions", { cookie: stale, body: credentials })).status)
          .toBe(200)
      }
      // Switching accounts in the same browser ends the other account's session.
      const { cookie: other } = yield* signedUp()
      const switched = yield* request(app.url, "POST", "/api/sessions", { cookie: other, body: credentials })
      expect(switched.status).toBe(200)
      expect(yield* me(other)).toBe(401)
    }))

  it.effect("serves the pages with a strict CSP and no caching", () =>
    Effect.gen(function*() {
      const app = yield* Harness.TestApp
      for (const page of ["/sign-up", "/sign-in", "/account", "/verify", "/forgot-password", "/reset"]) {
        const response = yield* Effect.promise(() => fetch(`${app.url}${page}`))
        expect(response.status).toBe(200)
        expect(response.headers.get("content-type")).toContain("text/html")
        expect(response.headers.get("content-security-policy")).toContain("script-src 'self'")
        expect(response.headers.get("cache-control")).toBe("no-store")
      }
    }))

  it.effect("sends the security headers, HSTS included, on every response", () =>
    Effect.gen(function*() {
      const app = yield* Harness.TestApp
      const replies = [
        yield* request(app.url, "GET", "/sign-in"),
        yield* request(app.url, "POST", "/api/accounts/password-reset", { body: { email: "someone@example.com" } }),
        yield* request(app.url, "GET", "/api/accounts/me"),
        yield* request(app.url, "POST", "/api/sessions", { body: { email: "x@example.com" } }),
        yield* request(app.url, "POST", "/api/sessions", { body: { email: "x".repeat(100_000) } })
      ].map((reply) => ({ status: reply.status, headers: reply.headers }))
      expect(replies.map((reply) => reply.status)).toEqual([200, 202, 401, 400, 413])
      for (const { headers } of replies) {
        for (const name of securityHeaderNames) expect(headers.get(name), name).not.toBeNull()
        expect(headers.get("cross-origin-opener-policy")).toBe("same-origin")
        expect(headers.get("permissions-policy")).toContain("camera=()")
        expect(headers.get("strict-transport-security")).toBe("max-age=31536000; includeSubDomains")
        expect(headers.get("retry-after")).toBeNull()
      }
    }))
})

describe("without Secure (plain-http development on another host)", () => {
  layer(Harness.layer({}, "inline", { secureCookies: false }), { excludeTestServices: true, timeout: "30 seconds" })(
    (it) => {
      it.effect("names the cookie session, sends no HSTS, and still refuses a duplicated cookie", () =>
        Effect.gen(function*() {
          const app = yield* Harness.TestApp
          const { cookie: victim, login } = yield* signedUp(newUser(), "session")
          const { cookie: attacker } = yield* signedUp(newUser(), "session")
          const cookie = login.cookies.find((c) => c.startsWith("session="))
          expect(cookie?.split("; ").slice(1).map((part) => part.split("=")[0]?.toLowerCase()).sort())
            .toEqual(["expires", "httponly", "path", "samesite"])
          expect(login.headers.get("strict-transport-security")).toBeNull()
          const me = (cookieHeader: string) => request(app.url, "GET", "/api/accounts/me", { cookieHeader })
          expect((yield* me(`session=${victim}`)).status).toBe(200)
          // A sibling subdomain's `session=M; Domain=…; Path=/api` comes first: no session at all, not M's.
          expectError(yield* me(`session=${attacker}; session=${victim}`), 401, "InvalidSession")
          expectError(yield* me(`__Host-session=${victim}`), 401, "InvalidSession")
          const logout = yield* request(app.url, "DELETE", "/api/sessions/current", {
            cookieHeader: `session=${victim}`
          })
          expect(logout.cookies).toEqual([
            expect.stringMatching(/^session=; Max-Age=0; Path=\/; HttpOnly; SameSite=Lax$/)
          ])
        }))
    }
  )
})

describe("session renewal", () => {
  layer(Harness.layer({ sessionTtl: "2 seconds" }), { excludeTestServices: true })((it) => {
    it.effect("refreshes the cookie when validateSession renews the session", () =>
      Effect.gen(function*() {
        const app = yield* Harness.TestApp
        const { cookie, login } = yield* signedUp()
        const firstExpiry = Date.parse((login.body as { expiresAt: string }).expiresAt)
        const early = yield* request(app.url, "GET", "/api/accounts/me", { cookie })
        expect(early.cookies).toEqual([])
        yield* Effect.sleep("1200 millis")
        const renewed = yield* request(app.url, "GET", "/api/accounts/me", { cookie })
        expect(renewed.status).toBe(200)
        expect(sessionValue(renewed)).toBe(cookie)
        const newExpiry = Date.parse((renewed.body as { sessionExpiresAt: string }).sessionExpiresAt)
        expect(newExpiry).toBeGreaterThan(firstExpiry)
        expect(renewed.cookies[0]).toContain(new Date(newExpiry).toUTCString())
      }))
  })
})

describe("outbox delivery", () => {
  layer(Harness.layer({}, "outbox"), { excludeTestServices: true, timeout: "30 seconds" })((it) => {
    it.effect(
      "answers before the email is sent; the worker delivers the link, which verifies the account",
      () =>
        Effect.gen(function*() {
          const app = yield* Harness.TestApp
          const user = newUser()
          yield* app.setDeliveryFailing(true)
          // The mail server is down: the request still succeeds, the message waits in the outbox.
          expect((yield* request(app.url, "POST", "/api/accounts", { body: user })).status).toBe(202)
          // The worker (polling every 20 ms here) tries and fails a few times.
          yield* Effect.sleep("300 millis")
          expect((yield* app.emails).filter((email) => email.to === user.email)).toEqual([])
          yield* app.setDeliveryFailing(false)
          // Retried every 200 ms in this harness (exponential from 10 seconds by default).
          yield* app.emails.pipe(
            Effect.filterOrFail((emails) => emails.some((email) => email.to === user.email)),
            Effect.retry(Schedule.spaced("50 millis")),
            Effect.timeout("10 seconds")
          )
          yield* verifyAndSignIn(user)
        }),
      { timeout: 30_000 }
    )
  })
})

// Failed sign-ins from one client count across usernames: a client cannot spray passwords over many accounts.
const failLogin = (url: string, login: Record<string, string>, headers: Record<string, string> = {}) =>
  request(url, "POST", "/api/sessions", { body: { password: "wrong passphrase", ...login }, headers })

describe("login throttling by client address", () => {
  layer(Harness.layer({ throttle: { clientFreeFailures: 3 } }), { excludeTestServices: true, timeout: "30 seconds" })(
    (it) => {
      it.effect("locks the socket's address after the free failures; X-Forwarded-For is not trusted", () =>
        Effect.gen(function*() {
          const app = yield* Harness.TestApp
          const { user } = yield* signedUp()
          // A different username and a different claimed address each time: neither resets the client's count.
          for (let i = 0; i < 3; i++) {
            const reply = yield* failLogin(app.url, { username: `nobody${i}` }, { "x-forwarded-for": `10.0.0.${i}` })
            expectError(reply, 401, "InvalidCredentials")
          }
          const locked = yield* failLogin(app.url, { username: "nobody9" }, { "x-forwarded-for": "10.0.0.9" })
          expectError(locked, 429, "TooManyAttempts")
          // Whole seconds, rounded up, from the error's `retryAfter`.
          const { millis } = (locked.body as { retryAfter: { millis: number } }).retryAfter
          expect(millis).toBeGreaterThan(0)
          expect(locked.headers.get("retry-after")).toBe(String(Math.ceil(millis / 1000)))
          // Even the right password for an untouched account waits: the lock is on the client.
          const right = yield* request(app.url, "POST", "/api/sessions", {
            body: { email: user.email, password: user.password }
          })
          expectError(right, 429, "TooManyAttempts")
        }))
    }
  )
  layer(Harness.layer({ throttle: { clientFreeFailures: 3 } }, "inline", { trustedProxies: 1 }), {
    excludeTestServices: true,
    timeout: "30 seconds"
  })((it) => {
    it.effect("behind a trusted proxy, keys on the address the proxy appended, not on the client's claims", () =>
      Effect.gen(function*() {
        const app = yield* Harness.TestApp
        // The proxy appends the peer it saw (192.0.2.1); what the client put before it is its own claim.
        for (let i = 0; i < 3; i++) {
          const forwarded = { "x-forwarded-for": `10.9.9.${i}, 192.0.2.1` }
          expectError(yield* failLogin(app.url, { username: `ghost${i}` }, forwarded), 401, "InvalidCredentials")
        }
        expectError(
          yield* failLogin(app.url, { username: "ghost9" }, { "x-forwarded-for": "192.0.2.1" }),
          429,
          "TooManyAttempts"
        )
        // Another client behind the same proxy is not affected.
        expectError(
          yield* failLogin(app.url, { username: "ghost9" }, { "x-forwarded-for": "10.9.9.0, 192.0.2.2" }),
          401,
          "InvalidCredentials"
        )
      }))

    it.effect("keys IPv6 clients by their /64 and IPv4-mapped addresses as the IPv4 address", () =>
      Effect.gen(function*() {
        const app = yield* Harness.TestApp
        const from = (client: string, i: number) =>
          failLogin(app.url, { username: `spray${i}` }, { "x-forwarded-for": client })
        // Three addresses of one /64 share one allowance.
        const subnet = ["2001:db8:5:6::1", "2001:db8:5:6:ffff::2", "2001:DB8:5:6:abcd:1234:5678:9abc"]
        for (const [i, client] of subnet.entries()) expectError(yield* from(client, i), 401, "InvalidCredentials")
        expectError(yield* from("2001:db8:5:6::99", 9), 429, "TooManyAttempts")
        expectError(yield* from("2001:db8:5:7::1", 9), 401, "InvalidCredentials")
        // 198.51.100.7, written three ways.
        const mapped = ["::ffff:198.51.100.7", "198.51.100.7", "::ffff:c633:6407"]
        for (const [i, client] of mapped.entries()) expectError(yield* from(client, i), 401, "InvalidCredentials")
        expectError(yield* from("198.51.100.7", 9), 429, "TooManyAttempts")
      }))
  })
})

describe("throttleKey", () => {
  it("keeps IPv4, drops ports and zones, maps IPv4-mapped IPv6 to IPv4, cuts IPv6 to its /64", () => {
    expect([
      "192.0.2.1",
      "192.0.2.1:5678",
      " 192.0.2.1 ",
      "::ffff:192.0.2.1",
      "::FFFF:c000:201",
      "[::ffff:192.0.2.1]:443",
      "2001:db8::1",
      "2001:0DB8:0000:0000:ffff:ffff:ffff:ffff",
      "[2001:db8::1]:443",
      "fe80::1%eth0",
      "::1",
      "::",
      "64:ff9b::192.0.2.1",
      "2001:db8:1:2:3:4:5:6",
      "proxy-said-unknown"
    ].map(throttleKey)).toEqual([
      "192.0.2.1",
      "192.0.2.1",
      "192.0.2.1",
      "192.0.2.1",
      "192.0.2.1",
      "192.0.2.1",
      "2001:db8:0:0::/64",
      "2001:db8:0:0::/64",
      "2001:db8:0:0::/64",
      "fe80:0:0:0::/64",
      "0:0:0:0::/64",
      "0:0:0:0::/64",
      "64:ff9b:0:0::/64",
      "2001:db8:1:2::/64",
      "proxy-said-unknown"
    ])
  })
})
