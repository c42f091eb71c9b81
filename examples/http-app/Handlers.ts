/**
 * The implementation of `Api`: the two middlewares and the handlers of both groups. Each handler is one call to
 * `UserHarbor`; the only HTTP work is the session cookie.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import { UserHarbor } from "../../src/UserHarbor.js"
import { Api, Authentication, CrossOriginRequest, CurrentUser, OriginCheck, sessionCookie } from "./Api.js"
import { AppSettings } from "./AppSettings.js"

const cookieOptions = (secure: boolean) => ({ secure, httpOnly: true, sameSite: "lax", path: "/" }) as const

/**
 * Sets the session cookie on the response about to be sent (whatever the handler returns, even an error).
 */
const setSessionCookie = (token: Redacted.Redacted<string>, expires: Date) =>
  Effect.flatMap(
    AppSettings,
    (settings) =>
      HttpApiBuilder.securitySetCookie(sessionCookie, token, { ...cookieOptions(settings.secureCookies), expires })
  )

const clearSessionCookie = Effect.flatMap(
  AppSettings,
  (settings) =>
    HttpApp.appendPreResponseHandler((_request, response) =>
      Effect.succeed(
        HttpServerResponse.expireCookie(response, sessionCookie.key, cookieOptions(settings.secureCookies))
      )
    )
)

/**
 * The client's address, the key of `login`'s per-client throttling. Without trusted proxies it is the socket's
 * peer, and `X-Forwarded-For` is ignored: any client can send it, and would pick a fresh key per attempt. Behind
 * `trustedProxies` proxies, each appends the address it received from, so the client is the `trustedProxies`-th
 * entry from the right; the entries left of it are the client's own claims. A header with fewer entries means a
 * request that bypassed the proxies: no key (per-account throttling still applies), rather than sharing the
 * proxy's address with everyone.
 */
export const clientAddress = (
  request: HttpServerRequest.HttpServerRequest,
  trustedProxies: number
): Option.Option<string> => {
  if (trustedProxies === 0) return request.remoteAddress
  const forwarded = (request.headers["x-forwarded-for"] ?? "").split(",").map((entry) => entry.trim())
  return Option.fromNullable(forwarded[forwarded.length - trustedProxies]).pipe(
    Option.filter((address) => address !== "")
  )
}

const safeMethods = new Set(["GET", "HEAD", "OPTIONS"])

/**
 * Browsers send `Origin` with every POST, PUT, PATCH and DELETE, and `Sec-Fetch-Site` with every request; a
 * client that sends neither is not a browser, so it cannot be carrying a victim's cookie.
 */
export const OriginCheckLive = Layer.effect(
  OriginCheck,
  Effect.map(AppSettings, (settings) =>
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      if (safeMethods.has(request.method)) return
      const origin = request.headers["origin"]
      const site = request.headers["sec-fetch-site"]
      const sameOrigin = origin !== undefined
        ? origin === settings.origin
        : site === undefined || site === "same-origin"
      if (!sameOrigin) {
        return yield* new CrossOriginRequest({ message: "Cross-origin request refused" })
      }
    }))
)

export const AuthenticationLive = Layer.effect(
  Authentication,
  Effect.gen(function*() {
    const harbor = yield* UserHarbor
    const settings = yield* AppSettings
    return Authentication.of({
      session: (token) =>
        Effect.gen(function*() {
          const { session, user } = yield* harbor.validateSession(token)
          // A security middleware may add response headers through a pre-response handler, so the renewed expiry
          // reaches the browser on the same response.
          if (session.renewed) {
            yield* setSessionCookie(token, session.expiresAt).pipe(Effect.provideService(AppSettings, settings))
          }
          return CurrentUser.of({ user, session, token })
        })
    })
  })
)

export const AccountsLive = HttpApiBuilder.group(Api, "accounts", (handlers) =>
  Effect.gen(function*() {
    const harbor = yield* UserHarbor
    const settings = yield* AppSettings
    return handlers
      .handle("register", ({ payload, request }) =>
        harbor.register(Option.match(clientAddress(request, settings.trustedProxies), {
          onNone: () =>
            payload,
          onSome: (clientKey) => ({ ...payload, clientKey })
        })))
      .handle("verifyEmail", ({ payload }) =>
        harbor.verifyEmail(payload.token))
      .handle("resendVerification", ({ payload }) => harbor.resendVerification(payload.email))
      .handle("me", () =>
        Effect.map(CurrentUser, ({ session, user }) => ({ ...user, sessionExpiresAt: session.expiresAt })))
      .handle("changePassword", ({ payload }) =>
        Effect.gen(function*() {
          const { token } = yield* CurrentUser
          // Every session ends, this one included; the new one replaces the cookie.
          const session = yield* harbor.changePassword({ sessionToken: token, ...payload })
          yield* setSessionCookie(session.token, session.expiresAt)
          return { expiresAt: session.expiresAt }
        }))
      .handle("deleteAccount", ({ payload }) =>
        Effect.gen(function*() {
          const { token } = yield* CurrentUser
          yield* harbor.deleteAccount({ sessionToken: token, password: payload.password })
          yield* clearSessionCookie
        }))
      .handle("requestPasswordReset", ({ payload }) =>
        harbor.sendPasswordReset(payload.email))
      .handle("resetPassword", ({ payload }) =>
        harbor.resetPassword(payload))
  }))

export const SessionsLive = HttpApiBuilder.group(Api, "sessions", (handlers) =>
  Effect.gen(function*() {
    const harbor = yield* UserHarbor
    const settings = yield* AppSettings
    return handlers
      .handle("login", ({ payload, request }) =>
        Effect.gen(function*() {
          const session = yield* harbor.login(Option.match(clientAddress(request, settings.trustedProxies), {
            onNone: () => payload,
            onSome: (clientKey) => ({ ...payload, clientKey })
          }))
          yield* setSessionCookie(session.token, session.expiresAt)
          return { expiresAt: session.expiresAt }
        }))
      .handle("logout", () =>
        Effect.gen(function*() {
          yield* harbor.logout((yield* CurrentUser).token)
          yield* clearSessionCookie
        }))
      .handle("logoutEverywhere", () =>
        Effect.gen(function*() {
          yield* harbor.logoutAll((yield* CurrentUser).token)
          yield* clearSessionCookie
        }))
      .handle("listSessions", () => Effect.flatMap(CurrentUser, ({ token }) => harbor.listSessions(token)))
      .handle("revokeSession", ({ path }) =>
        Effect.gen(function*() {
          const { session, token } = yield* CurrentUser
          yield* harbor.revokeSession(token, path.id)
          if (path.id === session.id) yield* clearSessionCookie
        }))
      .handle("revokeOtherSessions", () =>
        Effect.map(
          Effect.flatMap(CurrentUser, ({ token }) => harbor.revokeOtherSessions(token)),
          (revoked) => ({ revoked })
        ))
  }))
