/**
 * A client for the example app's tests: `fetch` against its socket, the session cookie, error bodies, and a user
 * signed up, verified and signed in.
 */
import { expect } from "@effect/vitest"
import { Effect } from "effect"
import { Secret, TOTP } from "otpauth"
import * as Harness from "./HttpAppHarness.js"

export interface Reply {
  readonly status: number
  readonly body: unknown
  readonly cookies: ReadonlyArray<string>
  readonly headers: Headers
}

export interface RequestOptions {
  /** The session cookie's value, sent as `__Host-session`. */
  readonly cookie?: string | undefined
  /** A whole `Cookie` header, instead of `cookie`. */
  readonly cookieHeader?: string | undefined
  readonly body?: unknown
  readonly origin?: string | null
  readonly headers?: Record<string, string>
}

export const cookieName = "__Host-session"

// A real HTTP client: `fetch` against the listening socket. Browsers send `Origin` on every non-GET request, so
// the helper does too unless told otherwise (`origin: null`).
export const request = (url: string, method: string, path: string, options: RequestOptions = {}) =>
  Effect.promise(async (): Promise<Reply> => {
    const headers: Record<string, string> = { ...options.headers }
    if (options.origin !== null && method !== "GET") headers["origin"] = options.origin ?? url
    if (options.cookie !== undefined) headers["cookie"] = `${cookieName}=${options.cookie}`
    if (options.cookieHeader !== undefined) headers["cookie"] = options.cookieHeader
    if (options.body !== undefined) headers["content-type"] = "application/json"
    const init: RequestInit = options.body === undefined
      ? { method, headers }
      : { method, headers, body: JSON.stringify(options.body) }
    const response = await fetch(`${url}${path}`, init)
    const text = await response.text()
    return {
      status: response.status,
      body: text === "" ? undefined : response.headers.get("content-type")?.includes("json") ? JSON.parse(text) : text,
      cookies: response.headers.getSetCookie(),
      headers: response.headers
    }
  })

export const sessionValue = (reply: Reply, name = cookieName): string => {
  const cookie = reply.cookies.find((cookie) => cookie.startsWith(`${name}=`))
  const value = cookie?.slice(`${name}=`.length).split(";")[0]
  if (value === undefined || value === "") throw new Error(`no session cookie in ${JSON.stringify(reply.cookies)}`)
  return value
}

export const expectError = (reply: Reply, status: number, tag: string) => {
  expect({ status: reply.status, tag: (reply.body as { _tag?: unknown })?._tag }).toEqual({ status, tag })
  expect(reply.body).toMatchObject({ _tag: tag, message: expect.any(String) })
}

let counter = 0
export const newUser = () => {
  counter += 1
  const name = `user${counter}${Date.now().toString(36)}`
  return { username: name, email: `${name}@example.com`, password: `first quiet passphrase ${counter}` }
}

// Follows the newest verification link sent to `user`, then signs in with the password.
export const verifyAndSignIn = (user: { readonly email: string; readonly password: string }) =>
  Effect.gen(function*() {
    const app = yield* Harness.TestApp
    const link = Harness.linkIn(yield* app.emails, user.email, "verify")
    const token = decodeURIComponent(new URL(link).hash.slice("#token=".length))
    expect((yield* request(app.url, "POST", "/api/accounts/verify-email", { body: { token } })).status).toBe(204)
    const login = yield* request(app.url, "POST", "/api/sessions", {
      body: { email: user.email, password: user.password }
    })
    expect(login.status).toBe(200)
    return login
  })

// Registers and verifies through the API and the captured email, then signs in.
export const signedUp = (user = newUser(), name = cookieName) =>
  Effect.gen(function*() {
    const app = yield* Harness.TestApp
    expect((yield* request(app.url, "POST", "/api/accounts", { body: user })).status).toBe(202)
    const login = yield* verifyAndSignIn(user)
    return { user, cookie: sessionValue(login, name), login }
  })

/** The code an authenticator app shows for `secret` (base32) at `at`, as the library computes it (`otpauth`). */
export const totpCode = (secret: string, at: number = Date.now()): string =>
  TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: at })
