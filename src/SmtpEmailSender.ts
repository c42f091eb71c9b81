/**
 * An `EmailSender` that delivers through an SMTP server with `nodemailer` (an optional peer dependency: only
 * `userharbor/smtp` imports it).
 *
 * Secure by default: STARTTLS is required (a server that does not offer it gets no message and no password) and
 * the server's certificate is verified. Implicit TLS (port 465) is an option. A plaintext connection, or TLS
 * without certificate checks, needs an option whose name says it is for local testing only; the layer logs a
 * warning when one is used.
 *
 * Every failure is an `EmailDeliveryError` whose `reason` says what broke and whose `detail` holds only
 * nodemailer's error code and the SMTP reply code: never the server's reply text (it can echo addresses), the
 * message, the token or the credentials.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import nodemailer from "nodemailer"
import type { SendMailOptions } from "nodemailer"
import type * as EffectTypes from "./EffectTypes.js"
import { type EmailMessage, EmailSender, type EmailSenderService } from "./EmailSender.js"
import * as EmailTemplates from "./EmailTemplates.js"
import { EmailDeliveryError } from "./Errors.js"
import { toVariables } from "./internal/configNames.js"
import * as Durations from "./internal/durations.js"

/**
 * How the connection is protected.
 *
 * - `"starttls"` (default, port 587): the connection must be upgraded with STARTTLS before anything is sent.
 * - `"tls"` (port 465): TLS from the first byte.
 * - `"insecure-plaintext-for-local-testing-only"` (port 25): no TLS at all, for a mail catcher on localhost.
 *
 * @since 0.1.0
 * @category models
 */
export type Security = "starttls" | "tls" | "insecure-plaintext-for-local-testing-only"

/**
 * @since 0.1.0
 * @category models
 */
export interface TlsOptions {
  /** PEM certificates to trust instead of the system's, for a server with a private CA or a self-signed one. */
  readonly ca?: string | ReadonlyArray<string>
  /** The name the certificate must match, when `host` is an IP address or another name. */
  readonly servername?: string
  /** Accepts any certificate, so anyone on the path can read the mail and the password. Local testing only. */
  readonly insecureSkipCertificateVerificationForLocalTestingOnly?: boolean
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Timeouts {
  /** Waiting for the TCP connection. Default 10 seconds. */
  readonly connection?: EffectTypes.DurationInput
  /** Waiting for the server's greeting once connected. Default 10 seconds. */
  readonly greeting?: EffectTypes.DurationInput
  /** Inactivity on an open connection. Default 30 seconds. */
  readonly socket?: EffectTypes.DurationInput
  /** The whole delivery of one message, whatever the server does. Default 60 seconds. */
  readonly send?: EffectTypes.DurationInput
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly host: string
  /** Default 587 for `"starttls"`, 465 for `"tls"`, 25 for plaintext. */
  readonly port?: number
  /** Default `"starttls"`. */
  readonly security?: Security
  readonly tls?: TlsOptions
  /** Omit for a server that takes mail without logging in. */
  readonly auth?: { readonly user: string; readonly password: Redacted.Redacted<string> }
  readonly from: { readonly name?: string; readonly address: string }
  /** The app name, link builders and replaced templates. */
  readonly templates?: EmailTemplates.Options
  readonly timeouts?: Timeouts
  /** Reuse connections, for high volume. `true` uses nodemailer's defaults (5 connections, 100 messages each). */
  readonly pool?: boolean | { readonly maxConnections?: number; readonly maxMessages?: number }
}

const defaultPorts: Record<Security, number> = {
  "starttls": 587,
  "tls": 465,
  "insecure-plaintext-for-local-testing-only": 25
}

const invalid = (path: ReadonlyArray<string>, message: string): Effect.Effect<never, EffectTypes.ConfigError> =>
  Effect.fail(ConfigError.InvalidData([...path], message))

// One address, nothing a header or the SMTP envelope could read as a separator or a second address. The core's
// `Email.validate` is stricter; this guards callers that build messages themselves.
const plainAddress = /^[^\s\p{Cc},;:<>"()[\]\\@]+@[^\s\p{Cc},;:<>"()[\]\\@]+$/u

const millis = (
  path: ReadonlyArray<string>,
  input: EffectTypes.DurationInput | undefined,
  fallback: EffectTypes.DurationInput
): Effect.Effect<number, EffectTypes.ConfigError> => Durations.positiveMillis(path, input ?? fallback)

// Error codes are copied into `detail` only when they look like codes, so a surprising value cannot carry text.
const codeOf = (error: unknown, key: "code" | "originalCode"): string | undefined => {
  if (!Predicate.hasProperty(error, key)) return undefined
  const value = error[key]
  return Predicate.isString(value) && /^[A-Z0-9_]{1,64}$/.test(value) ? value : undefined
}

const responseCodeOf = (error: unknown): number | undefined =>
  Predicate.hasProperty(error, "responseCode") && Number.isInteger(error.responseCode) &&
    Predicate.isNumber(error.responseCode) && error.responseCode >= 200 && error.responseCode < 600
    ? error.responseCode
    : undefined

// Node reports certificate and handshake problems with OpenSSL-style codes (DEPTH_ZERO_SELF_SIGNED_CERT,
// ERR_TLS_CERT_ALTNAME_INVALID, ERR_SSL_WRONG_VERSION_NUMBER, ...); nodemailer wraps them in ESOCKET and keeps
// them as `originalCode`.
const tlsCode = /CERT|SSL|TLS|SIGNATURE|ISSUER|HOSTNAME/
const connectCodes = new Set([
  "ECONNECTION",
  "ECONNREFUSED",
  "ECONNRESET",
  "EDNS",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "ESOCKET"
])

/**
 * Maps a nodemailer failure to an `EmailDeliveryError` by its codes, never by its message text.
 *
 * @since 0.1.0
 * @category errors
 */
export const toDeliveryError = (error: unknown): EmailDeliveryError => {
  const code = codeOf(error, "code")
  const originalCode = codeOf(error, "originalCode")
  const responseCode = responseCodeOf(error)
  const codes = [code, originalCode].filter(Predicate.isNotUndefined)
  const reason = codes.some((c) => c === "EAUTH" || c === "ENOAUTH")
    ? "auth" as const
    : codes.some((c) => c === "EREQUIRETLS" || tlsCode.test(c))
    ? "tls" as const
    : codes.includes("ETIMEDOUT")
    ? "timeout" as const
    : codes.some((c) => c === "EENVELOPE" || c === "EMESSAGE") || (responseCode !== undefined && responseCode >= 500)
    ? "rejected" as const
    : codes.some((c) => connectCodes.has(c))
    ? "connect" as const
    : "unknown" as const
  const detail = [
    code,
    originalCode === undefined ? undefined : `(${originalCode})`,
    responseCode === undefined ? undefined : `SMTP ${responseCode}`
  ].filter(Predicate.isNotUndefined).join(" ")
  return new EmailDeliveryError(detail === "" ? { reason } : { reason, detail })
}

// The two transports nodemailer returns (single and pooled) differ in their result types only.
interface Transport {
  readonly sendMail: (mail: SendMailOptions) => Promise<unknown>
  readonly close: () => void
}

/**
 * Builds the sender. The transport is closed when the scope closes. No connection is opened until the first
 * message, so an app starts even while its mail server is down.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options: Options) => Effect.Effect<EmailSenderService, EffectTypes.ConfigError, Scope.Scope> =
  Effect.fnUntraced(function*(options: Options) {
    const security = options.security ?? "starttls"
    const port = options.port ?? defaultPorts[security]
    if (options.host.trim() === "" || /[\s\p{Cc}]/u.test(options.host)) {
      return yield* invalid(["host"], "must be a host name or an IP address")
    }
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      return yield* invalid(["port"], "must be a whole number from 1 to 65535")
    }
    if (!plainAddress.test(options.from.address)) return yield* invalid(["from", "address"], "not an email address")
    const timeouts = options.timeouts ?? {}
    const connectionTimeout = yield* millis(["timeouts", "connection"], timeouts.connection, "10 seconds")
    const greetingTimeout = yield* millis(["timeouts", "greeting"], timeouts.greeting, "10 seconds")
    const socketTimeout = yield* millis(["timeouts", "socket"], timeouts.socket, "30 seconds")
    const sendTimeout = yield* millis(["timeouts", "send"], timeouts.send, "60 seconds")

    const tls = options.tls ?? {}
    const skipVerification = tls.insecureSkipCertificateVerificationForLocalTestingOnly === true
    if (security === "insecure-plaintext-for-local-testing-only") {
      yield* Effect.logWarning("SmtpEmailSender: mail and the SMTP password travel unencrypted (local testing only)")
    }
    if (skipVerification) {
      yield* Effect.logWarning("SmtpEmailSender: the server's certificate is not verified (local testing only)")
    }

    const common = {
      host: options.host,
      port,
      secure: security === "tls",
      requireTLS: security === "starttls",
      ignoreTLS: security === "insecure-plaintext-for-local-testing-only",
      tls: {
        // Spelled out so no default of any nodemailer version can turn verification off.
        rejectUnauthorized: !skipVerification,
        minVersion: "TLSv1.2" as const,
        ...(tls.ca === undefined ? {} : { ca: Predicate.isString(tls.ca) ? tls.ca : [...tls.ca] }),
        ...(tls.servername === undefined ? {} : { servername: tls.servername })
      },
      ...(options.auth === undefined
        ? {}
        : { auth: { user: options.auth.user, pass: Redacted.value(options.auth.password) } }),
      connectionTimeout,
      greetingTimeout,
      socketTimeout,
      logger: false,
      debug: false
    }
    const pool = options.pool ?? false
    const transport: Transport = yield* Effect.acquireRelease(
      Effect.sync((): Transport =>
        pool === false
          ? nodemailer.createTransport(common)
          : nodemailer.createTransport({ ...common, pool: true, ...(pool === true ? {} : pool) })
      ),
      (transport) => Effect.sync(() => transport.close())
    )

    const templates = EmailTemplates.make(options.templates ?? {})
    const fromName = options.from.name === undefined ? "" : EmailTemplates.singleLine(options.from.name)
    const from = fromName === "" ? options.from.address : { name: fromName, address: options.from.address }

    const send = Effect.fnUntraced(function*(message: EmailMessage) {
      const to = message.to.email
      if (!plainAddress.test(to)) {
        return yield* new EmailDeliveryError({ reason: "rejected", detail: "invalid recipient address" })
      }
      const rendered = templates.render(message)
      const toName = EmailTemplates.singleLine(message.to.username)
      const mail: SendMailOptions = {
        from,
        to: toName === "" ? to : { name: toName, address: to },
        // The envelope is given, not derived from the headers, so the message goes to this one address only.
        envelope: { from: options.from.address, to: [to] },
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
        // Template output is data: never let it make nodemailer read a file or fetch a URL.
        disableFileAccess: true,
        disableUrlAccess: true
      }
      yield* Effect.tryPromise({
        // The signal aborts the SMTP session when the fiber is interrupted (nodemailer 10 and later).
        try: (signal) => transport.sendMail({ ...mail, signal }),
        catch: toDeliveryError
      }).pipe(
        Effect.timeoutFail({
          duration: Duration.millis(sendTimeout),
          onTimeout: () => new EmailDeliveryError({ reason: "timeout", detail: `no answer within ${sendTimeout} ms` })
        })
      )
    })

    return EmailSender.of({ send })
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<EmailSender, EffectTypes.ConfigError> =>
  Layer.scoped(EmailSender, make(options))

const optional = <A>(config: Config.Config<A>): Config.Config<A | undefined> =>
  Config.option(config).pipe(Config.map(Option.getOrUndefined))

/**
 * The options read from environment variables: `USERHARBOR_SMTP_HOST` (required), `USERHARBOR_SMTP_PORT`,
 * `USERHARBOR_SMTP_SECURITY` (`starttls`, `tls` or `insecure-plaintext-for-local-testing-only`; default
 * `starttls`), `USERHARBOR_SMTP_USER` and `USERHARBOR_SMTP_PASSWORD` (both or neither), `USERHARBOR_SMTP_FROM`
 * (the sender address, required) and `USERHARBOR_SMTP_FROM_NAME`. Templates and TLS options come from code:
 * `Config.map(fromEnv, (options) => ({ ...options, templates }))`.
 *
 * @since 0.1.0
 * @category config
 */
export const fromEnv: Config.Config<Options> = Config.all({
  host: Config.nonEmptyString("USERHARBOR_SMTP_HOST"),
  port: optional(Config.port("USERHARBOR_SMTP_PORT")),
  security: Config.literal("starttls", "tls", "insecure-plaintext-for-local-testing-only")("USERHARBOR_SMTP_SECURITY")
    .pipe(Config.withDefault("starttls" as const)),
  user: optional(Config.nonEmptyString("USERHARBOR_SMTP_USER")),
  password: optional(Config.redacted("USERHARBOR_SMTP_PASSWORD")),
  address: Config.nonEmptyString("USERHARBOR_SMTP_FROM"),
  name: optional(Config.string("USERHARBOR_SMTP_FROM_NAME"))
}).pipe(Config.mapOrFail(({ address, name, password, port, user, ...rest }) => {
  if ((user === undefined) !== (password === undefined)) {
    return Either.left(ConfigError.InvalidData(
      ["USERHARBOR_SMTP_USER"],
      "USERHARBOR_SMTP_USER and USERHARBOR_SMTP_PASSWORD must be set together"
    ))
  }
  return Either.right<Options>({
    ...rest,
    ...(port === undefined ? {} : { port }),
    ...(user === undefined || password === undefined ? {} : { auth: { user, password } }),
    from: name === undefined ? { address } : { name, address }
  })
}))

/**
 * Reads the options from `Config` (by default `fromEnv`) and builds the sender like `layer`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config?: Config.Config.Wrap<Options>
): Layer.Layer<EmailSender, EffectTypes.ConfigError> =>
  config === undefined
    ? Layer.mapError(Layer.unwrapEffect(Effect.map(fromEnv, layer)), envNames)
    : Layer.unwrapEffect(Effect.map(Config.unwrap(config), layer))

// An invalid value read by `fromEnv` is reported under the variable it came from.
const envNames = toVariables({
  host: "USERHARBOR_SMTP_HOST",
  port: "USERHARBOR_SMTP_PORT",
  "from.address": "USERHARBOR_SMTP_FROM"
})
