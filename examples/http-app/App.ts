/**
 * The app as one layer: the API, the pages and the UserHarbor service, on whatever `HttpServer` the caller
 * provides. The store and the email sender are parameters, so `main.ts` and the tests choose their own.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Headers from "@effect/platform/Headers"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Tracer from "effect/Tracer"
import type { CounterStore } from "../../src/CounterStore.js"
import type { EmailChangeStore } from "../../src/EmailChangeStore.js"
import type { EmailSender } from "../../src/EmailSender.js"
import type { FactorStore } from "../../src/FactorStore.js"
import type { OutboxStore } from "../../src/OutboxStore.js"
import * as OutboxWorker from "../../src/OutboxWorker.js"
import type { PasswordHasher } from "../../src/PasswordHasher.js"
import * as SecureRandom from "../../src/SecureRandom.js"
import * as UserHarbor from "../../src/UserHarbor.js"
import type { UserHarborConfig } from "../../src/UserHarborConfig.js"
import type { UserStore } from "../../src/UserStore.js"
import { ActivityLive } from "./ActivityHandlers.js"
import { Api } from "./Api.js"
import { AppSettings } from "./AppSettings.js"
import { EmailChangeLive } from "./EmailChangeHandlers.js"
import { FactorsLive, PasskeysLive } from "./FactorHandlers.js"
import {
  AccountsLive,
  AuthenticationLive,
  BodyLimitLive,
  ErrorResponsesLive,
  OriginCheckLive,
  SessionsLive
} from "./Handlers.js"
import { PagesLive } from "./Pages.js"

// One error type per layer, so each keeps its own (`StoreError`, `ConfigError`) in the app layer's type.
export interface Options<StoreE, SenderE, HasherE, ConfigE> {
  /**
   * The store's ports (the SQL and memory stores provide them all); `FactorStore` for TOTP and passkeys,
   * `EmailChangeStore` for the change of email address.
   */
  readonly store: Layer.Layer<UserStore | CounterStore | OutboxStore | FactorStore | EmailChangeStore, StoreE>
  /** May use `AppSettings` (for links in emails). */
  readonly sender: Layer.Layer<EmailSender, SenderE, AppSettings>
  readonly hasher: Layer.Layer<PasswordHasher, HasherE>
  readonly config: Layer.Layer<UserHarborConfig, ConfigE>
  /**
   * `outbox`: each email is written (sealed) in the same transaction as its data and a background worker sends it,
   * with retries; requests never wait for, or fail on, the mail server, and take the same time whether or not an
   * address has an account. `inline`: sent during the request, after the commit. Default `outbox`.
   */
  readonly delivery?: "inline" | "outbox" | undefined
  /** The outbox worker's settings (poll interval, retry schedule, ...); it polls every second by default. */
  readonly outbox?: OutboxWorker.Options | undefined
  /** Defaults to the address the server listens on, `http://127.0.0.1:<port>`. */
  readonly origin?: string | undefined
  /**
   * `Secure` on the session cookie, named `__Host-session` then, and an HSTS header on every response. Turn it off
   * only for plain-http development on a host other than localhost (browsers accept `Secure` cookies from
   * `http://localhost` and `http://127.0.0.1`): the cookie is then named `session`, since browsers refuse a
   * `__Host-` cookie without `Secure`.
   */
  readonly secureCookies: boolean
  /**
   * The largest request body accepted, in bytes (default 64 KiB, far above any of the API's payloads). A larger
   * `Content-Length` gets 413 before the body is read, and a body without one (chunked) 411.
   */
  readonly maxBodyBytes?: number | undefined
  /**
   * The number of reverse proxies in front of the app, each appending the address it received from to
   * `X-Forwarded-For`; login throttling then takes the client's address from that header. Default 0: the header
   * is ignored (anyone can send it) and the client is the socket's peer.
   */
  readonly trustedProxies?: number | undefined
  /**
   * Which requests are logged (`HttpMiddleware.logger`'s line, at `Info`): `"failures"` (default), those answered
   * with a status of 400 or more, or `"all"`.
   */
  readonly logRequests?: "all" | "failures" | undefined
}

// Pages are tiny and answers are personal: nothing is cached. The CSP allows only this origin's script and styles,
// and no framing (clickjacking); `Permissions-Policy` turns off the powerful features no page here uses, and
// `Cross-Origin-Opener-Policy` keeps pages of other sites that open this one (or that it opens) out of its window.
// HSTS is sent only with `Secure` cookies: browsers ignore it over plain http, and it pins https for a year once
// seen over https. Server middleware runs around the response already being written, so headers are added with
// a pre-response handler.
/**
 * The headers every response carries (`secure`: with HSTS).
 */
export const securityHeaderValues = (secure: boolean): Readonly<Record<string, string>> => ({
  "cache-control": "no-store",
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "permissions-policy": "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), " +
    "microphone=(), payment=(), usb=()",
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
  ...(secure ? { "strict-transport-security": "max-age=31536000; includeSubDomains" } : {})
})

/**
 * `response` with `headers` added (replacing any of the same names), as `HttpServerResponse.setHeaders` does but
 * at a tenth of its cost: `setHeaders` merges with an object spread of two sources, which V8 runs on its slow path
 * (7-10 µs for these eight headers, measured; docs/performance.md, "HTTP load"). Here the headers are merged with
 * `Headers.merge` and the response rebuilt around the same body, status and cookies (1.3 µs). A response without a
 * body keeps `setHeaders`: rebuilding it would drop a `Content-Type` it was given.
 */
const withHeaders = (
  response: HttpServerResponse.HttpServerResponse,
  headers: Headers.Headers
): HttpServerResponse.HttpServerResponse =>
  response.body._tag === "Empty" ? HttpServerResponse.setHeaders(response, headers) : HttpServerResponse.setBody(
    HttpServerResponse.empty({
      status: response.status,
      statusText: response.statusText,
      headers: Headers.merge(response.headers, headers),
      cookies: response.cookies
    }),
    response.body
  )

// The handler is installed once, in the fiber that starts the server: every request's fiber starts from that
// fiber's `FiberRef`s, so each response gets the headers with no per-request step to install them (a handler the
// request adds, the session cookie's, runs after it).
const withSecurityHeaders = (secure: boolean) => {
  const headers = Headers.fromInput(securityHeaderValues(secure))
  return Layer.locally(
    HttpApp.currentPreResponseHandlers,
    Option.some((_request, response) => Effect.succeed(withHeaders(response, headers)))
  )
}

// Effect's built-in tracer: what the server runs with unless the app installed one (`Layer.setTracer`, an
// OpenTelemetry layer, ...).
const builtInTracer = Context.get(DefaultServices.liveServices, Tracer.Tracer)

/**
 * The server's span per request (`HttpMiddleware.tracer`: the method, the URL, every request and response header as
 * attributes) only when the app installed a tracer, like the library's own spans. With the built-in one the span
 * goes nowhere, yet building it costs as much as the session check (17-25 µs per request, measured;
 * docs/performance.md, "HTTP load"). Decided once, when the server starts: its requests run with its tracer.
 */
const withRequestSpans = <A, E, R>(server: Layer.Layer<A, E, R>): Layer.Layer<A, E, R> =>
  Layer.unwrapEffect(Effect.map(
    Effect.tracer,
    (tracer) => tracer === builtInTracer ? HttpMiddleware.withTracerDisabledWhen(server, () => true) : server
  ))

const logResponse = (request: HttpServerRequest.HttpServerRequest, status: number, message: unknown) =>
  Effect.annotateLogs(Effect.log(message), {
    "http.method": request.method,
    "http.url": request.url,
    "http.status": status
  })

/**
 * `HttpMiddleware.logger`'s line (same message and annotations, at `Info`) for the requests answered with a status
 * of 400 or more (refused sessions, cross-origin requests, throttling, errors), or for every request with `"all"`.
 * A log line per successful request costs more CPU than the request itself (docs/performance.md, "HTTP load"), and
 * a proxy in front usually keeps an access log; this checks the outcome first and logs only then.
 */
const requestLogger = (log: "all" | "failures") =>
  log === "all" ?
    HttpMiddleware.logger :
    HttpMiddleware.make((app) =>
      Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
        Effect.matchCauseEffect(app, {
          onSuccess: (response) =>
            response.status < 400
              ? Effect.succeed(response)
              : Effect.as(logResponse(request, response.status, "Sent HTTP response"), response),
          onFailure: (cause) => {
            const [response, stripped] = HttpServerError.causeResponseStripped(cause)
            return Effect.zipRight(
              logResponse(request, response.status, Option.getOrElse(stripped, () => "Sent HTTP response")),
              Effect.failCause(cause)
            )
          }
        }))
    )

const defaultMaxBodyBytes = 64 * 1024

const settingsLayer = (options: {
  readonly origin?: string | undefined
  readonly secureCookies: boolean
  readonly trustedProxies?: number | undefined
  readonly maxBodyBytes?: number | undefined
}) =>
  Layer.effect(
    AppSettings,
    Effect.gen(function*() {
      const origin = options.origin ?? (yield* HttpServer.addressWith((address) =>
        Effect.succeed(
          address._tag === "TcpAddress" ? `http://${address.hostname}:${address.port}` : "http://localhost"
        )
      ))
      return AppSettings.of({
        origin,
        secureCookies: options.secureCookies,
        trustedProxies: options.trustedProxies ?? 0,
        maxBodyBytes: options.maxBodyBytes ?? defaultMaxBodyBytes
      })
    })
  )

/**
 * Everything but the server itself: provide an `HttpServer` (`NodeHttpServer.layer`) and launch it.
 */
export const layer = <StoreE, SenderE, HasherE, ConfigE>(options: Options<StoreE, SenderE, HasherE, ConfigE>) => {
  const settings = settingsLayer(options)
  // One build of the services for the service and the worker: they must share the store.
  const services = Layer.mergeAll(
    options.store,
    options.sender.pipe(Layer.provide(settings)),
    options.hasher,
    options.config,
    SecureRandom.layer
  )
  const userHarbor = options.delivery === "inline"
    ? UserHarbor.layer.pipe(Layer.provide(services))
    : Layer.merge(
      UserHarbor.layerOutbox,
      OutboxWorker.layer({ pollInterval: "1 second", ...options.outbox })
    ).pipe(Layer.provide(services))
  const api = HttpApiBuilder.api(Api).pipe(
    Layer.provide([
      AccountsLive,
      SessionsLive,
      FactorsLive,
      PasskeysLive,
      EmailChangeLive,
      ActivityLive,
      OriginCheckLive,
      BodyLimitLive
    ]),
    Layer.provide(AuthenticationLive)
  )
  // `BodyLimit` refuses oversized bodies by their length before reading; the platform's reading limit is a second
  // bound should a body ever be read without that check. It is a service the requests' context inherits from the
  // server's, rather than one provided per request.
  const bodyReadLimit = Layer.succeed(
    HttpIncomingMessage.MaxBodySize,
    Option.some(FileSystem.Size(options.maxBodyBytes ?? defaultMaxBodyBytes))
  )
  return HttpApiBuilder.serve(requestLogger(options.logRequests ?? "failures")).pipe(
    withSecurityHeaders(options.secureCookies),
    withRequestSpans,
    Layer.provide([api, PagesLive, ErrorResponsesLive, bodyReadLimit]),
    // The config again (the same layer, so built once) for the passkey handlers: `PasskeysOff` without passkeys.
    Layer.provide([userHarbor, settings, options.config])
  )
}
