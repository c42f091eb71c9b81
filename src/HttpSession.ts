/**
 * Cookie sessions for `@effect/platform`'s `HttpApi` (`userharbor/http`, needs `@effect/platform`): the
 * `Authentication` middleware, which turns the session cookie into the signed-in `CurrentSession` with
 * `UserHarbor.validateSession` (and refreshes the cookie when the session was renewed), and the cookie's reading
 * and writing for the sign-in and sign-out handlers.
 *
 * ```ts
 * // The API: endpoints that need a signed-in user declare the middleware
 * HttpApiEndpoint.get("me", "/accounts/me").addSuccess(Account).middleware(HttpSession.Authentication)
 * // The handler reads what it provides
 * handlers.handle("me", () => Effect.map(HttpSession.CurrentSession, ({ user }) => user))
 * // The server: its implementation, on the app's `UserHarbor`
 * HttpApiBuilder.api(Api).pipe(Layer.provide(HttpSession.layer({ secure: true })))
 * ```
 *
 * Requests cost what they must: a session check is done per request, so the middleware is one step for the
 * fiber around `validateSession`, reads the one cookie without parsing the others, and adds nothing to the
 * request's context beyond `CurrentSession` (docs/performance.md, "HTTP load").
 *
 * Not an `HttpApiSecurity` scheme: a request carrying the cookie's name twice must have no session (two is what
 * cookie tossing looks like), where the platform's cookie parser keeps one of them.
 *
 * @since 0.3.0
 */
import * as HttpApiMiddleware from "@effect/platform/HttpApiMiddleware"
import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { InvalidSession, type StoreError } from "./Errors.js"
import { InvalidSessionBody, StoreErrorBody } from "./HttpErrors.js"
import type { SessionInfo, User } from "./User.js"
import { UserHarbor } from "./UserHarbor.js"

/**
 * @since 0.3.0
 * @category models
 */
export interface Options {
  /**
   * `Secure` on the cookie, which is then named `__Host-session`: browsers store a `__Host-` cookie only if it is
   * `Secure`, has `Path=/` and no `Domain`, so a sibling subdomain cannot plant one under this name. Without it
   * (plain-http development on a host other than localhost) the cookie is `session`.
   */
  readonly secure: boolean
  /** Another name for the cookie; with `secure`, keep the `__Host-` prefix. */
  readonly cookieName?: string | undefined
}

/**
 * The session cookie's name: `options.cookieName`, else `__Host-session` with `secure` and `session` without.
 *
 * @since 0.3.0
 * @category cookies
 */
export const cookieName = (options: Options): string =>
  options.cookieName ?? (options.secure ? "__Host-session" : "session")

// The cookie is `HttpOnly` (no script reads it) and `SameSite=Lax` (not sent on cross-site subrequests or POSTs).
const attributes = (secure: boolean) => ({ secure, httpOnly: true, sameSite: "lax", path: "/" }) as const

// A value as the platform's cookie parser reads it: quotes dropped, trimmed, URI-decoded when it holds a `%`.
const cookieValue = (header: string, from: number, to: number): string => {
  const value = header.charCodeAt(from) === 0x22 ? header.slice(from + 1, to - 1).trim() : header.slice(from, to).trim()
  if (!value.includes("%")) return value
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}

/**
 * The value of the one cookie named `name` in a `Cookie` header, or `undefined`: none, an empty one, or two or more
 * of that name. Two is what cookie tossing looks like (another host of the site set one with a `Domain` or a longer
 * `Path`, which the browser sends first): the request gets no session rather than whichever comes first. One pass
 * over the header, the other cookies are not parsed.
 *
 * @since 0.3.0
 * @category cookies
 */
export const tokenFromHeader = (header: string | undefined, name: string): string | undefined => {
  if (header === undefined) return undefined
  let found: string | undefined
  let seen = false
  for (let at = 0; at <= header.length;) {
    const semicolon = header.indexOf(";", at)
    const end = semicolon === -1 ? header.length : semicolon
    const equals = header.indexOf("=", at)
    const keyEnd = equals === -1 || equals > end ? end : equals
    if (header.slice(at, keyEnd).trim() === name) {
      if (seen) return undefined
      seen = true
      found = keyEnd < end ? cookieValue(header, keyEnd + 1, end) : undefined
    }
    at = end + 1
  }
  return found === "" ? undefined : found
}

/**
 * The session token `request` carries (see `tokenFromHeader`), for a handler that needs it without the middleware:
 * a sign-in that ends the browser's previous session.
 *
 * @since 0.3.0
 * @category cookies
 */
export const token = (
  request: HttpServerRequest.HttpServerRequest,
  options: Options
): Option.Option<Redacted.Redacted<string>> => {
  const value = tokenFromHeader(request.headers["cookie"], cookieName(options))
  return value === undefined ? Option.none() : Option.some(Redacted.make(value))
}

/**
 * Sets the session cookie (`HttpOnly`, `SameSite=Lax`, `Path=/`, `Secure` per `options`, expiring with the
 * session) on the response about to be sent, whatever the handler returns, even an error.
 *
 * @since 0.3.0
 * @category cookies
 */
export const setCookie = (options: Options, sessionToken: Redacted.Redacted<string>, expires: Date) => {
  const name = cookieName(options)
  const cookie = { ...attributes(options.secure), expires }
  return HttpApp.appendPreResponseHandler((_request, response) =>
    Effect.succeed(HttpServerResponse.unsafeSetCookie(response, name, Redacted.value(sessionToken), cookie))
  )
}

/**
 * Expires the session cookie on the response about to be sent (sign-out, account deletion).
 *
 * @since 0.3.0
 * @category cookies
 */
export const clearCookie = (options: Options) => {
  const name = cookieName(options)
  const cookie = attributes(options.secure)
  return HttpApp.appendPreResponseHandler((_request, response) =>
    Effect.succeed(HttpServerResponse.expireCookie(response, name, cookie))
  )
}

/**
 * The signed-in user and session, provided to the handlers of every endpoint that declares `Authentication`. The
 * token is there for the operations that take it (`logout`, `changePassword`, `deleteAccount`, ...).
 *
 * @since 0.3.0
 * @category models
 */
export class CurrentSession extends Context.Tag("userharbor/http/CurrentSession")<CurrentSession, {
  readonly user: User
  readonly session: SessionInfo
  readonly token: Redacted.Redacted<string>
}>() {}

/**
 * Resolves the session cookie to a `CurrentSession` with `UserHarbor.validateSession`; a request without a valid
 * one fails with `InvalidSession` (401), a store that cannot answer with `StoreError` (503), both as
 * `HttpErrors`' bodies. Declare it on the endpoints (or groups) that need a signed-in user; implement it with
 * `layer`.
 *
 * @since 0.3.0
 * @category middleware
 */
export class Authentication extends HttpApiMiddleware.Tag<Authentication>()("userharbor/http/Authentication", {
  provides: CurrentSession,
  failure: Schema.Union(InvalidSessionBody, StoreErrorBody)
}) {}

/**
 * `Authentication` on the app's `UserHarbor`, for the cookie `options` names. A renewed session's new expiry
 * reaches the browser on the same response (`setCookie`).
 *
 * @since 0.3.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<Authentication, never, UserHarbor> =>
  Layer.effect(
    Authentication,
    Effect.map(UserHarbor, (harbor) => {
      const name = cookieName(options)
      const noSession: Effect.Effect<never, InvalidSession> = Effect.fail(new InvalidSession({ reason: "unknown" }))
      // One `flatMap` per request around the check, nothing built per request that could be built here.
      return Effect.flatMap(
        HttpServerRequest.HttpServerRequest,
        (request): Effect.Effect<CurrentSession["Type"], InvalidSession | StoreError> => {
          const value = tokenFromHeader(request.headers["cookie"], name)
          if (value === undefined) return noSession
          // The plain string is what `validateSession` hashes; one `Redacted` for the handlers.
          return Effect.flatMap(harbor.validateSession(value), ({ session, user }) => {
            const current = { user, session, token: Redacted.make(value) }
            return session.renewed
              ? Effect.as(setCookie(options, current.token, session.expiresAt), current)
              : Effect.succeed(current)
          })
        }
      )
    })
  )
