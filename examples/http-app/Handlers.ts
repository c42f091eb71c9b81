/**
 * The implementation of `Api`: the middlewares and the handlers of both groups. Each handler is one call to
 * `UserHarbor`; the only HTTP work is the session cookie.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { HttpApiDecodeError } from "@effect/platform/HttpApiError"
import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { isIPv4, isIPv6 } from "node:net"
import { TooManyAttempts } from "../../src/Errors.js"
import { HttpSession } from "../../src/http.js"
import type { Session } from "../../src/User.js"
import { type ClientDetails, UserHarbor } from "../../src/UserHarbor.js"
import { Api, BodyLimit, CrossOriginRequest, LengthRequired, OriginCheck, PayloadTooLarge } from "./Api.js"
import { AppSettings } from "./AppSettings.js"

// ---------------------------------------------------------------------------------------------------------------
// The session cookie
// ---------------------------------------------------------------------------------------------------------------

// The cookie (`__Host-session`, or `session` without `Secure`), read and written by `userharbor/http`.
const cookie = (settings: AppSettings["Type"]): HttpSession.Options => ({ secure: settings.secureCookies })

/** Sets the session cookie on the response about to be sent (whatever the handler returns, even an error). */
const setSessionCookie = (token: Redacted.Redacted<string>, expires: Date) =>
  Effect.flatMap(AppSettings, (settings) => HttpSession.setCookie(cookie(settings), token, expires))

export const clearSessionCookie = Effect.flatMap(AppSettings, (settings) => HttpSession.clearCookie(cookie(settings)))

// ---------------------------------------------------------------------------------------------------------------
// The client's address
// ---------------------------------------------------------------------------------------------------------------

// The eight 16-bit groups of a valid IPv6 address.
const ipv6Groups = (address: string): ReadonlyArray<number> => {
  // A dotted IPv4 tail (`::ffff:192.0.2.1`) stands for the last two groups.
  const dotted = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address)
  let hex = address
  if (dotted !== null) {
    const [, prefix = "", a = "0", b = "0", c = "0", d = "0"] = dotted
    hex = `${prefix}${(Number(a) * 256 + Number(b)).toString(16)}:${(Number(c) * 256 + Number(d)).toString(16)}`
  }
  const [head = "", tail] = hex.split("::")
  const parse = (part: string) => part === "" ? [] : part.split(":").map((group) => parseInt(group, 16))
  const left = parse(head)
  const right = tail === undefined ? [] : parse(tail)
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right]
}

/**
 * The throttling key of a client address. An IPv6 subscriber is usually given a whole /64, so keying on the full
 * address would hand one client 2^64 allowances: the key is the /64 prefix. An IPv4 peer of a dual-stack socket is
 * reported as IPv4-mapped IPv6 (`::ffff:192.0.2.1`): the key is the IPv4 address, the same as over IPv4. A port
 * (`192.0.2.1:5678`, `[2001:db8::1]:443`, as some proxies write them) and an IPv6 zone are dropped. Anything that is
 * not an IP address is kept as it is.
 */
export const throttleKey = (address: string): string => {
  const trimmed = address.trim()
  const host = /^\[([^\]]+)\](?::\d+)?$/.exec(trimmed)?.[1] ?? /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(trimmed)?.[1] ??
    trimmed
  const unzoned = host.replace(/%.*$/, "")
  if (isIPv4(unzoned)) return unzoned
  if (!isIPv6(unzoned)) return trimmed
  const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, g = 0, h = 0] = ipv6Groups(unzoned.toLowerCase())
  if (a === 0 && b === 0 && c === 0 && d === 0 && e === 0 && f === 0xffff) {
    return `${g >> 8}.${g & 255}.${h >> 8}.${h & 255}`
  }
  return `${[a, b, c, d].map((group) => group.toString(16)).join(":")}::/64`
}

/**
 * The client's throttling key (see `throttleKey`) for `login`'s per-client throttling. Without trusted proxies the
 * address is the socket's peer, and `X-Forwarded-For` is ignored: any client can send it, and would pick a fresh key
 * per attempt. Behind `trustedProxies` proxies, each appends the address it received from, so the client is the
 * `trustedProxies`-th entry from the right; the entries left of it are the client's own claims. A header with fewer
 * entries means a request that bypassed the proxies: no key (per-account throttling still applies), rather than
 * sharing the proxy's address with everyone.
 */
export const clientAddress = (
  request: HttpServerRequest.HttpServerRequest,
  trustedProxies: number
): Option.Option<string> => Option.map(peerAddress(request, trustedProxies), throttleKey)

// The client's address as `clientAddress` picks it, before it becomes a throttling key.
const peerAddress = (request: HttpServerRequest.HttpServerRequest, trustedProxies: number): Option.Option<string> => {
  if (trustedProxies === 0) return request.remoteAddress
  const forwarded = (request.headers["x-forwarded-for"] ?? "").split(",").map((entry) => entry.trim())
  return Option.filter(Option.fromNullable(forwarded[forwarded.length - trustedProxies]), (address) => address !== "")
}

/**
 * What a sign-in tells UserHarbor about the client, so the account page can name each session's device ("Firefox
 * on Windows") and show its network: the `User-Agent` header and the address `clientAddress` picks. UserHarbor
 * keeps only the address's network (a /24 or /48).
 */
export const clientDetails = (request: HttpServerRequest.HttpServerRequest, trustedProxies: number): ClientDetails => ({
  userAgent: request.headers["user-agent"],
  address: Option.getOrUndefined(peerAddress(request, trustedProxies))
})

// ---------------------------------------------------------------------------------------------------------------
// Middlewares
// ---------------------------------------------------------------------------------------------------------------

/**
 * Node's parser never delivers more body than `Content-Length` says, so checking the header bounds what any
 * handler can read. A chunked body's size is known only once it has been read, so it is refused outright: browsers
 * send `Content-Length` with every `fetch` and form body.
 */
export const BodyLimitLive = Layer.effect(
  BodyLimit,
  Effect.map(AppSettings, (settings) =>
    // `flatMap` rather than a generator: this runs on every request.
    Effect.flatMap(
      HttpServerRequest.HttpServerRequest,
      (request): Effect.Effect<void, PayloadTooLarge | LengthRequired> => {
        const length = request.headers["content-length"]
        if (length === undefined) {
          return request.headers["transfer-encoding"] === undefined
            ? Effect.void
            : Effect.fail(new LengthRequired({ message: "A request body needs a Content-Length header" }))
        }
        // Written so that a malformed length is refused too.
        return Number(length) <= settings.maxBodyBytes ? Effect.void : Effect.fail(
          new PayloadTooLarge({
            message: `The request body is larger than ${settings.maxBodyBytes} bytes`,
            maxBytes: settings.maxBodyBytes
          })
        )
      }
    ))
)

/**
 * A decode failure's own message quotes the input (Schema's `actual`), password included, and so do the messages
 * of its issues ("Expected string, actual …"): the answer names the fields only.
 */
const withoutInput = (error: HttpApiDecodeError): HttpApiDecodeError => {
  const fields = new Set(error.issues.map((issue) => issue.path.map(String).join(".")).filter((path) => path !== ""))
  return new HttpApiDecodeError({
    issues: error.issues.map(({ _tag, path }) => ({
      _tag,
      path,
      message: _tag === "Missing" ? "is missing" : "is invalid"
    })),
    message: fields.size === 0 ? "The request body is not valid" : `Invalid or missing: ${[...fields].join(", ")}`
  })
}

/**
 * Between the handlers and the encoding of their errors: `Retry-After` (whole seconds, rounded up) on a throttled
 * request, and decode failures without the input they quote.
 */
export const ErrorResponsesLive = HttpApiBuilder.middleware(Api, (app) =>
  Effect.catchAllCause(app, (cause) => {
    const failure: Option.Option<unknown> = Cause.failureOption(cause)
    if (Option.isNone(failure)) return Effect.failCause(cause)
    const error = failure.value
    if (error instanceof HttpApiDecodeError) return Effect.fail(withoutInput(error))
    if (error instanceof TooManyAttempts && Duration.isFinite(error.retryAfter)) {
      const seconds = String(Math.ceil(Duration.toSeconds(error.retryAfter)))
      return Effect.zipRight(
        HttpApp.appendPreResponseHandler((_request, response) =>
          Effect.succeed(HttpServerResponse.setHeader(response, "retry-after", seconds))
        ),
        Effect.failCause(cause)
      )
    }
    return Effect.failCause(cause)
  }))

const safeMethods = new Set(["GET", "HEAD", "OPTIONS"])

/**
 * Browsers send `Origin` with every POST, PUT, PATCH and DELETE, and `Sec-Fetch-Site` with every request; a
 * client that sends neither is not a browser, so it cannot be carrying a victim's cookie.
 */
export const OriginCheckLive = Layer.effect(
  OriginCheck,
  Effect.map(AppSettings, (settings) =>
    Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
      if (safeMethods.has(request.method)) return Effect.void
      const origin = request.headers["origin"]
      const site = request.headers["sec-fetch-site"]
      const sameOrigin = origin !== undefined
        ? origin === settings.origin
        : site === undefined || site === "same-origin"
      return sameOrigin ? Effect.void : Effect.fail(new CrossOriginRequest({ message: "Cross-origin request refused" }))
    }))
)

/** The library's middleware, for the app's cookie. */
export const AuthenticationLive = Layer.unwrapEffect(
  Effect.map(AppSettings, (settings) => HttpSession.layer(cookie(settings)))
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
        Effect.map(
          HttpSession.CurrentSession,
          ({ session, user }) => ({ ...user, sessionExpiresAt: session.expiresAt })
        ))
      .handle("changePassword", ({ payload }) =>
        Effect.gen(function*() {
          const { token } = yield* HttpSession.CurrentSession
          // Every session ends, this one included; the new one replaces the cookie.
          const session = yield* harbor.changePassword({ sessionToken: token, ...payload })
          yield* setSessionCookie(session.token, session.expiresAt)
          return { expiresAt: session.expiresAt }
        }))
      .handle("deleteAccount", ({ payload }) =>
        Effect.gen(function*() {
          const { token } = yield* HttpSession.CurrentSession
          yield* harbor.deleteAccount({ sessionToken: token, password: payload.password })
          yield* clearSessionCookie
        }))
      .handle("requestPasswordReset", ({ payload }) => harbor.sendPasswordReset(payload.email))
      .handle("resetPassword", ({ payload }) => harbor.resetPassword(payload))
  }))

/**
 * A sign-in's last step, whichever way it went (password, password and code, passkey): the browser's previous
 * session ends with its cookie, so a session planted in the browser before sign-in (fixation), or another
 * account's, does not live on unseen; then the new session's cookie is set.
 */
export const startSession = (request: HttpServerRequest.HttpServerRequest, session: Session) =>
  Effect.gen(function*() {
    const harbor = yield* UserHarbor
    const settings = yield* AppSettings
    yield* Option.match(HttpSession.token(request, cookie(settings)), {
      onNone: () => Effect.void,
      onSome: (previous) => Effect.catchTag(harbor.logout(previous), "InvalidSession", () => Effect.void)
    })
    yield* setSessionCookie(session.token, session.expiresAt)
    return { expiresAt: session.expiresAt }
  })

export const SessionsLive = HttpApiBuilder.group(Api, "sessions", (handlers) =>
  Effect.gen(function*() {
    const harbor = yield* UserHarbor
    const settings = yield* AppSettings
    return handlers
      .handle("login", ({ payload, request }) =>
        Effect.gen(function*() {
          const client = clientDetails(request, settings.trustedProxies)
          const session = yield* harbor.login(Option.match(clientAddress(request, settings.trustedProxies), {
            onNone: () => ({ ...payload, client }),
            onSome: (clientKey) => ({ ...payload, clientKey, client })
          }))
          return yield* startSession(request, session)
        }))
      .handle("logout", () =>
        Effect.gen(function*() {
          yield* harbor.logout((yield* HttpSession.CurrentSession).token)
          yield* clearSessionCookie
        }))
      .handle("logoutEverywhere", () =>
        Effect.gen(function*() {
          yield* harbor.logoutAll((yield* HttpSession.CurrentSession).token)
          yield* clearSessionCookie
        }))
      .handle(
        "listSessions",
        () => Effect.flatMap(HttpSession.CurrentSession, ({ token }) => harbor.listSessions(token))
      )
      .handle("revokeSession", ({ path }) =>
        Effect.gen(function*() {
          const { session, token } = yield* HttpSession.CurrentSession
          yield* harbor.revokeSession(token, path.id)
          if (path.id === session.id) yield* clearSessionCookie
        }))
      .handle("revokeOtherSessions", () =>
        Effect.map(
          Effect.flatMap(HttpSession.CurrentSession, ({ token }) => harbor.revokeOtherSessions(token)),
          (revoked) => ({ revoked })
        ))
  }))
