/**
 * UserHarbor's settings: the secret key that tokens are hashed under, token lifetimes, the session policy (idle
 * and absolute timeouts, an optional cap per user) and the password policy. Bad settings fail the layer with a
 * `ConfigError`, before any request is served.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as EffectTypes from "./EffectTypes.js"
import { toVariables } from "./internal/configNames.js"
import * as Durations from "./internal/durations.js"
import * as PasswordPolicy from "./PasswordPolicy.js"

/**
 * What an app passes to `layer`. Only `secretKey` is required.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** At least 32 bytes of high-entropy secret; tokens are stored as HMAC-SHA256 under it. */
  readonly secretKey: Redacted.Redacted<string>
  /** Default 24 hours. */
  readonly verificationTokenTtl?: EffectTypes.DurationInput
  /** Default 1 hour. */
  readonly resetTokenTtl?: EffectTypes.DurationInput
  /**
   * How long an account may stay unverified. Default 7 days: after it the account no longer holds its username
   * and address (a new registration takes them over, deleting it), and `PurgeSchedule` deletes it. Unverified
   * accounts must not live for ever: they squat names and addresses, and enumeration probes leave them behind.
   */
  readonly unverifiedAccountTtl?: EffectTypes.DurationInput
  /**
   * The idle timeout. Default 30 days: a session unused for this long expires. Sliding: each use once less than
   * half of it remains moves the expiry to now + `sessionTtl` (never past the absolute timeout). A session's
   * `lastUsedAt` is written on renewal and otherwise at most once an hour, so it is accurate to an hour without
   * costing every session check a database write.
   */
  readonly sessionTtl?: EffectTypes.DurationInput
  /**
   * The absolute timeout. Default 90 days: a session ends this long after login however often it is used, so a
   * stolen token cannot be kept alive for ever. NIST SP 800-63B asks AAL1 sessions to reauthenticate every 30
   * days; set `"30 days"` to follow it. When shorter than `sessionTtl`, it is the only limit that matters.
   */
  readonly sessionAbsoluteTtl?: EffectTypes.DurationInput
  /** At most this many live sessions per user; a login beyond it ends the oldest. Default: no cap. */
  readonly maxSessionsPerUser?: number
  /**
   * The policy to start from: `"default"` (at least 8 characters, for a password used with a second factor or
   * where 8 is acceptable) or `"nist-single-factor"` (at least 15, NIST SP 800-63B-4 for a password that is the
   * only factor). Default `"default"`; `passwordPolicy` overrides single fields on top of it.
   */
  readonly passwordPreset?: PasswordPolicy.Preset
  readonly passwordPolicy?: Partial<PasswordPolicy.PasswordPolicy>
  /** Brute-force throttling and mail send limits; see `ThrottleOptions`. */
  readonly throttle?: Partial<ThrottleOptions>
  /** How much the public operations may tell about which addresses have accounts; see `Enumeration`. */
  readonly enumeration?: Enumeration
  /** Passkeys (WebAuthn): off unless set. See `PasskeyOptions`. */
  readonly passkeys?: PasskeyOptions
  /** Second factors (TOTP) and the two-step login; see `SecondFactorOptions`. */
  readonly secondFactor?: Partial<SecondFactorOptions>
  /** The security-event trail; see `SecurityEventOptions`. */
  readonly securityEvents?: Partial<SecurityEventOptions>
}

/**
 * The security-event trail (docs/security-events.md).
 *
 * @since 0.3.0
 * @category models
 */
export interface SecurityEventOptions {
  /**
   * How long stored events are kept: `PurgeSchedule` removes older ones. Default 90 days; positive and finite.
   */
  readonly retention: EffectTypes.DurationInput
}

/**
 * `SecurityEventOptions` with every default filled in.
 *
 * @since 0.3.0
 * @category models
 */
export interface SecurityEventSettings {
  readonly retention: Duration.Duration
}

/**
 * Second factors (docs/second-factors.md).
 *
 * @since 0.3.0
 * @category models
 */
export interface SecondFactorOptions {
  /**
   * The name authenticator apps show next to the account (the `issuer` of the `otpauth://` URI): the app's name.
   * Default `"UserHarbor"`; at most 64 characters, none of them a colon.
   */
  readonly issuer: string
  /**
   * How long the challenge of `SecondFactorRequired` stays usable for `completeLogin`. Default 5 minutes: long
   * enough to open an authenticator app, short enough that a leaked challenge soon opens nothing.
   */
  readonly challengeTtl: EffectTypes.DurationInput
}

/**
 * `SecondFactorOptions` with every default filled in.
 *
 * @since 0.3.0
 * @category models
 */
export interface SecondFactorSettings {
  readonly issuer: string
  readonly challengeTtl: Duration.Duration
}

/**
 * How much the public operations may tell about which addresses have accounts (docs/security.md).
 *
 * - `"standard"` (default): `login`, `sendPasswordReset`, `resendVerification` and `register` answer the same for
 *   an address with and without an account, but a caller who registers with an address and then logs in with the
 *   password it chose learns whether the address was free (`EmailNotVerified`) or taken (`InvalidCredentials`).
 *   Registration is throttled per client key and per address, and the owner of a taken address is told, so such
 *   probing is slow and seen.
 * - `"strict"`: no sequence of public calls tells whether an address has an account. `login` never answers
 *   `EmailNotVerified` (an unverified account answers `InvalidCredentials`, even to its right password, and that
 *   counts as a failure), and a registration with a taken address still reserves the username, with an account
 *   that has no address and can never be used, so every later call answers as after a fresh registration. Users
 *   must confirm their address before their first login, and learn of it only from the mail.
 *
 * @since 0.1.0
 * @category models
 */
export type Enumeration = "standard" | "strict"

/**
 * The relying party that passkeys are bound to. `rpId` is the registrable domain (or a host) the credentials belong
 * to, such as `example.com`; `rpName` the name authenticators show; `origins` every origin pages that run the
 * ceremonies are served from (`https://example.com`, `https://app.example.com`; `http://localhost:PORT` in
 * development), each on `rpId` or a subdomain of it. `challengeTtl` (default 5 minutes) is how long a ceremony's
 * single-use challenge stays valid. Checked when the config is built: a value that cannot work fails the layer.
 *
 * @since 0.3.0
 * @category models
 */
export interface PasskeyOptions {
  readonly rpId: string
  readonly rpName: string
  readonly origins: ReadonlyArray<string>
  readonly challengeTtl?: EffectTypes.DurationInput
}

/**
 * `PasskeyOptions` checked, with the default filled in.
 *
 * @since 0.3.0
 * @category models
 */
export interface PasskeySettings {
  readonly rpId: string
  readonly rpName: string
  readonly origins: ReadonlyArray<string>
  readonly challengeTtl: Duration.Duration
}

/**
 * Throttling of password guessing and of mail a stranger can trigger.
 *
 * Each account has one budget of consecutive failures, whichever of its names is typed (NIST SP 800-63B-4
 * 3.2.2); each name typed (a username or an email address, with or without an account) also counts its own, so
 * that what one name answers never depends on another. From `freeFailures` on, password login is locked for
 * `baseLock`, doubling with each further failure up to `maxLock`; at `disableAfter` failures it stays disabled
 * until a password reset (NIST's limit of 100). A success or a reset clears the counts. A caller-supplied
 * `clientKey` (an IP address, say) also counts failures across all names: `clientFreeFailures` within
 * `clientWindow`, then locked until the window ends. `register` counts every call per `clientKey`
 * (`registerLimit`) and per address (`registerAddressLimit`) within `registerWindow`. `sendPasswordReset`,
 * `resendVerification` and the notice of a registration with a taken address each send at most `mailLimit`
 * messages per account within `mailWindow`, and `mailDailyLimit` within 24 hours.
 *
 * @since 0.1.0
 * @category models
 */
export interface ThrottleOptions {
  /** Default `true`; `false` turns off login throttling and the mail limits. */
  readonly enabled: boolean
  /** Default 5. */
  readonly freeFailures: number
  /** Default 30 seconds. */
  readonly baseLock: EffectTypes.DurationInput
  /** Default 1 hour. */
  readonly maxLock: EffectTypes.DurationInput
  /** Default 100. */
  readonly disableAfter: number
  /** Default 20. */
  readonly clientFreeFailures: number
  /** Default 1 hour. */
  readonly clientWindow: EffectTypes.DurationInput
  /** Default 3. */
  readonly mailLimit: number
  /** Default 1 hour. */
  readonly mailWindow: EffectTypes.DurationInput
  /** Default 10. */
  readonly mailDailyLimit: number
  /** Default 10. */
  readonly registerLimit: number
  /** Default 5. */
  readonly registerAddressLimit: number
  /** Default 1 hour. */
  readonly registerWindow: EffectTypes.DurationInput
}

/**
 * `ThrottleOptions` with every default filled in.
 *
 * @since 0.1.0
 * @category models
 */
export interface ThrottleSettings {
  readonly enabled: boolean
  readonly freeFailures: number
  readonly baseLock: Duration.Duration
  readonly maxLock: Duration.Duration
  readonly disableAfter: number
  readonly clientFreeFailures: number
  readonly clientWindow: Duration.Duration
  readonly mailLimit: number
  readonly mailWindow: Duration.Duration
  readonly mailDailyLimit: number
  readonly registerLimit: number
  readonly registerAddressLimit: number
  readonly registerWindow: Duration.Duration
}

/**
 * The settings with every default filled in.
 *
 * @since 0.1.0
 * @category models
 */
export interface Settings {
  readonly secretKey: Redacted.Redacted<string>
  readonly verificationTokenTtl: Duration.Duration
  readonly resetTokenTtl: Duration.Duration
  readonly unverifiedAccountTtl: Duration.Duration
  readonly sessionTtl: Duration.Duration
  readonly sessionAbsoluteTtl: Duration.Duration
  /** `undefined`: no cap. */
  readonly maxSessionsPerUser: number | undefined
  readonly passwordPolicy: PasswordPolicy.PasswordPolicy
  readonly throttle: ThrottleSettings
  readonly enumeration: Enumeration
  /** `undefined`: passkeys are off. */
  readonly passkeys: PasskeySettings | undefined
  readonly secondFactor: SecondFactorSettings
  readonly securityEvents: SecurityEventSettings
}

/**
 * @since 0.1.0
 * @category tags
 */
export class UserHarborConfig extends Context.Tag("userharbor/UserHarborConfig")<UserHarborConfig, Settings>() {}

/**
 * @since 0.1.0
 * @category constants
 */
export const minSecretKeyBytes = 32

const randomKeyAdvice = "a random value, e.g. from `openssl rand -base64 48`"

/**
 * @since 0.1.0
 * @category constants
 */
export const defaultUnverifiedAccountTtl: EffectTypes.DurationInput = "7 days"

/**
 * @since 0.3.0
 * @category constants
 */
export const defaultSecurityEventRetention: EffectTypes.DurationInput = "90 days"

const invalid = (path: string, message: string): Effect.Effect<never, EffectTypes.ConfigError> =>
  Effect.fail(ConfigError.InvalidData([path], message))

const positiveDuration = (path: string, input: EffectTypes.DurationInput) => Durations.positive([path], input)

const positiveInteger = (path: string, n: number): Effect.Effect<number, EffectTypes.ConfigError> =>
  Number.isSafeInteger(n) && n >= 1 ? Effect.succeed(n) : invalid(path, "must be a whole number >= 1")

const throttleSettings = Effect.fnUntraced(function*(options: Partial<ThrottleOptions> = {}) {
  const settings: ThrottleSettings = {
    enabled: options.enabled ?? true,
    freeFailures: yield* positiveInteger("throttle.freeFailures", options.freeFailures ?? 5),
    baseLock: yield* positiveDuration("throttle.baseLock", options.baseLock ?? "30 seconds"),
    maxLock: yield* positiveDuration("throttle.maxLock", options.maxLock ?? "1 hour"),
    disableAfter: yield* positiveInteger("throttle.disableAfter", options.disableAfter ?? 100),
    clientFreeFailures: yield* positiveInteger("throttle.clientFreeFailures", options.clientFreeFailures ?? 20),
    clientWindow: yield* positiveDuration("throttle.clientWindow", options.clientWindow ?? "1 hour"),
    mailLimit: yield* positiveInteger("throttle.mailLimit", options.mailLimit ?? 3),
    mailWindow: yield* positiveDuration("throttle.mailWindow", options.mailWindow ?? "1 hour"),
    mailDailyLimit: yield* positiveInteger("throttle.mailDailyLimit", options.mailDailyLimit ?? 10),
    registerLimit: yield* positiveInteger("throttle.registerLimit", options.registerLimit ?? 10),
    registerAddressLimit: yield* positiveInteger("throttle.registerAddressLimit", options.registerAddressLimit ?? 5),
    registerWindow: yield* positiveDuration("throttle.registerWindow", options.registerWindow ?? "1 hour")
  }
  if (settings.disableAfter < settings.freeFailures) {
    return yield* invalid("throttle.disableAfter", "must be at least freeFailures")
  }
  if (Duration.lessThan(settings.maxLock, settings.baseLock)) {
    return yield* invalid("throttle.maxLock", "must be at least baseLock")
  }
  return settings
})

// A lower-case DNS name (or `localhost`): what WebAuthn accepts as an rpId.
const rpIdShape = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/

const passkeySettings = Effect.fnUntraced(function*(options: PasskeyOptions) {
  const { origins, rpId, rpName } = options
  if (!rpIdShape.test(rpId)) {
    return yield* invalid("passkeys.rpId", "must be a lower-case domain name, like example.com")
  }
  if (rpName.trim().length === 0) return yield* invalid("passkeys.rpName", "must not be empty")
  if (origins.length === 0) return yield* invalid("passkeys.origins", "must name at least one origin")
  for (const origin of origins) {
    const url = URL.canParse(origin) ? new URL(origin) : undefined
    // Browsers report the origin exactly (scheme, host, port; no path): anything else could never match.
    if (url === undefined || url.origin !== origin) {
      return yield* invalid("passkeys.origins", `${origin} is not an origin like https://example.com`)
    }
    const secure = url.protocol === "https:" || (url.protocol === "http:" && url.hostname === "localhost")
    if (!secure) return yield* invalid("passkeys.origins", `${origin} must be https (http only on localhost)`)
    if (url.hostname !== rpId && !url.hostname.endsWith(`.${rpId}`)) {
      return yield* invalid("passkeys.origins", `${origin} is not on ${rpId} or a subdomain of it`)
    }
  }
  const settings: PasskeySettings = {
    rpId,
    rpName,
    origins: [...origins],
    challengeTtl: yield* positiveDuration("passkeys.challengeTtl", options.challengeTtl ?? "5 minutes")
  }
  return settings
})

const secondFactorSettings = Effect.fnUntraced(function*(options: Partial<SecondFactorOptions> = {}) {
  const issuer = options.issuer ?? "UserHarbor"
  if (issuer.trim().length === 0 || issuer.length > 64 || issuer.includes(":")) {
    return yield* invalid("secondFactor.issuer", "must be 1 to 64 characters, none of them a colon")
  }
  const settings: SecondFactorSettings = {
    issuer,
    challengeTtl: yield* positiveDuration("secondFactor.challengeTtl", options.challengeTtl ?? "5 minutes")
  }
  return settings
})

/**
 * Checks the options and fills in the defaults.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options: Options) => Effect.Effect<Settings, EffectTypes.ConfigError> = Effect.fnUntraced(
  function*(options: Options) {
    if (Buffer.byteLength(Redacted.value(options.secretKey), "utf8") < minSecretKeyBytes) {
      return yield* invalid(
        "secretKey",
        `must be at least ${minSecretKeyBytes} bytes; use ${randomKeyAdvice}`
      )
    }
    const preset = options.passwordPreset ?? "default"
    if (!Object.hasOwn(PasswordPolicy.presets, preset)) {
      return yield* invalid("passwordPreset", `must be one of ${Object.keys(PasswordPolicy.presets).join(", ")}`)
    }
    const passwordPolicy: PasswordPolicy.PasswordPolicy = {
      ...PasswordPolicy.presets[preset],
      ...options.passwordPolicy
    }
    if (
      !Number.isInteger(passwordPolicy.minLength) || !Number.isInteger(passwordPolicy.maxLength) ||
      passwordPolicy.minLength < 8 || passwordPolicy.maxLength > 256 ||
      passwordPolicy.minLength > passwordPolicy.maxLength
    ) {
      return yield* invalid("passwordPolicy", "lengths must be whole numbers with 8 <= minLength <= maxLength <= 256")
    }
    const { enumeration = "standard", maxSessionsPerUser } = options
    if (enumeration !== "standard" && enumeration !== "strict") {
      return yield* invalid("enumeration", "must be \"standard\" or \"strict\"")
    }
    if (maxSessionsPerUser !== undefined && !(Number.isSafeInteger(maxSessionsPerUser) && maxSessionsPerUser >= 1)) {
      return yield* invalid("maxSessionsPerUser", "must be a whole number of at least 1")
    }
    return UserHarborConfig.of({
      secretKey: options.secretKey,
      verificationTokenTtl: yield* positiveDuration("verificationTokenTtl", options.verificationTokenTtl ?? "24 hours"),
      resetTokenTtl: yield* positiveDuration("resetTokenTtl", options.resetTokenTtl ?? "1 hour"),
      unverifiedAccountTtl: yield* positiveDuration(
        "unverifiedAccountTtl",
        options.unverifiedAccountTtl ?? defaultUnverifiedAccountTtl
      ),
      sessionTtl: yield* positiveDuration("sessionTtl", options.sessionTtl ?? "30 days"),
      sessionAbsoluteTtl: yield* positiveDuration("sessionAbsoluteTtl", options.sessionAbsoluteTtl ?? "90 days"),
      maxSessionsPerUser,
      passwordPolicy,
      throttle: yield* throttleSettings(options.throttle),
      enumeration,
      passkeys: options.passkeys === undefined ? undefined : yield* passkeySettings(options.passkeys),
      secondFactor: yield* secondFactorSettings(options.secondFactor),
      securityEvents: {
        retention: yield* positiveDuration(
          "securityEvents.retention",
          options.securityEvents?.retention ?? defaultSecurityEventRetention
        )
      }
    })
  }
)

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<UserHarborConfig, EffectTypes.ConfigError> =>
  Layer.effect(UserHarborConfig, make(options))

const optional = <A>(config: Config.Config<A>): Config.Config<A | undefined> =>
  Config.option(config).pipe(Config.map((option) => option._tag === "Some" ? option.value : undefined))

/**
 * The options read from `USERHARBOR_*` environment variables: `USERHARBOR_SECRET_KEY` (required),
 * `USERHARBOR_VERIFICATION_TOKEN_TTL`, `USERHARBOR_RESET_TOKEN_TTL`, `USERHARBOR_UNVERIFIED_ACCOUNT_TTL`,
 * `USERHARBOR_SESSION_TTL`,
 * `USERHARBOR_SESSION_ABSOLUTE_TTL` (durations such as `"12 hours"`), `USERHARBOR_MAX_SESSIONS_PER_USER`,
 * `USERHARBOR_PASSWORD_PRESET` (`default` or `nist-single-factor`), `USERHARBOR_PASSWORD_MIN_LENGTH`,
 * `USERHARBOR_PASSWORD_APP_NAMES` (comma-separated), `USERHARBOR_PASSWORD_REQUIRE_CLASSES` (`true` requires a
 * lower-case letter, an upper-case letter, a digit and a symbol), `USERHARBOR_ENUMERATION` (`standard` or
 * `strict`), `USERHARBOR_TOTP_ISSUER`, `USERHARBOR_LOGIN_CHALLENGE_TTL` and `USERHARBOR_SECURITY_EVENT_RETENTION`.
 *
 * @since 0.1.0
 * @category config
 */
export const fromEnv: Config.Config<Options> = Config.all({
  // `Config.redacted` would report a missing key as "<redacted>": say what to set instead.
  secretKey: Config.option(Config.redacted("USERHARBOR_SECRET_KEY")).pipe(Config.mapOrFail(Option.match({
    onNone: () =>
      Either.left(ConfigError.MissingData(
        ["USERHARBOR_SECRET_KEY"],
        `not set; set it to at least ${minSecretKeyBytes} bytes: ${randomKeyAdvice}`
      )),
    onSome: Either.right
  }))),
  verificationTokenTtl: optional(Config.duration("USERHARBOR_VERIFICATION_TOKEN_TTL")),
  resetTokenTtl: optional(Config.duration("USERHARBOR_RESET_TOKEN_TTL")),
  unverifiedAccountTtl: optional(Config.duration("USERHARBOR_UNVERIFIED_ACCOUNT_TTL")),
  sessionTtl: optional(Config.duration("USERHARBOR_SESSION_TTL")),
  sessionAbsoluteTtl: optional(Config.duration("USERHARBOR_SESSION_ABSOLUTE_TTL")),
  maxSessionsPerUser: optional(Config.integer("USERHARBOR_MAX_SESSIONS_PER_USER")),
  passwordPreset: optional(Config.literal("default", "nist-single-factor")("USERHARBOR_PASSWORD_PRESET")),
  minLength: optional(Config.integer("USERHARBOR_PASSWORD_MIN_LENGTH")),
  appNames: optional(Config.array(Config.string(), "USERHARBOR_PASSWORD_APP_NAMES")),
  requireClasses: Config.boolean("USERHARBOR_PASSWORD_REQUIRE_CLASSES").pipe(Config.withDefault(false)),
  enumeration: Config.literal("standard", "strict")("USERHARBOR_ENUMERATION").pipe(Config.withDefault("standard")),
  totpIssuer: optional(Config.string("USERHARBOR_TOTP_ISSUER")),
  challengeTtl: optional(Config.duration("USERHARBOR_LOGIN_CHALLENGE_TTL")),
  eventRetention: optional(Config.duration("USERHARBOR_SECURITY_EVENT_RETENTION"))
}).pipe(
  Config.map((
    {
      appNames,
      challengeTtl,
      enumeration,
      eventRetention,
      minLength,
      passwordPreset,
      requireClasses,
      secretKey,
      totpIssuer,
      ...ttls
    }
  ): Options => {
    const classes = requireClasses
      ? { requireLowercase: true, requireUppercase: true, requireDigit: true, requireSymbol: true }
      : {}
    const names = appNames === undefined ? {} : { appNames: appNames.map((name) => name.trim()) }
    return {
      secretKey,
      ...(passwordPreset === undefined ? {} : { passwordPreset }),
      ...(ttls.verificationTokenTtl === undefined ? {} : { verificationTokenTtl: ttls.verificationTokenTtl }),
      ...(ttls.resetTokenTtl === undefined ? {} : { resetTokenTtl: ttls.resetTokenTtl }),
      ...(ttls.unverifiedAccountTtl === undefined ? {} : { unverifiedAccountTtl: ttls.unverifiedAccountTtl }),
      ...(ttls.sessionTtl === undefined ? {} : { sessionTtl: ttls.sessionTtl }),
      ...(ttls.sessionAbsoluteTtl === undefined ? {} : { sessionAbsoluteTtl: ttls.sessionAbsoluteTtl }),
      ...(ttls.maxSessionsPerUser === undefined ? {} : { maxSessionsPerUser: ttls.maxSessionsPerUser }),
      passwordPolicy: minLength === undefined ? { ...classes, ...names } : { ...classes, ...names, minLength },
      enumeration,
      secondFactor: {
        ...(totpIssuer === undefined ? {} : { issuer: totpIssuer }),
        ...(challengeTtl === undefined ? {} : { challengeTtl })
      },
      securityEvents: eventRetention === undefined ? {} : { retention: eventRetention }
    }
  })
)

/**
 * Reads the options from `Config` (by default `fromEnv`) and checks them like `layer`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config<Options> = fromEnv
): Layer.Layer<UserHarborConfig, EffectTypes.ConfigError> =>
  Layer.effect(
    UserHarborConfig,
    Effect.flatMap(config, (options) => config === fromEnv ? Effect.mapError(make(options), envNames) : make(options))
  )

// An invalid value read by `fromEnv` is reported under the variable it came from.
const envNames = toVariables({
  secretKey: "USERHARBOR_SECRET_KEY",
  verificationTokenTtl: "USERHARBOR_VERIFICATION_TOKEN_TTL",
  resetTokenTtl: "USERHARBOR_RESET_TOKEN_TTL",
  sessionTtl: "USERHARBOR_SESSION_TTL",
  sessionAbsoluteTtl: "USERHARBOR_SESSION_ABSOLUTE_TTL",
  maxSessionsPerUser: "USERHARBOR_MAX_SESSIONS_PER_USER",
  passwordPolicy: "USERHARBOR_PASSWORD_MIN_LENGTH",
  "secondFactor.issuer": "USERHARBOR_TOTP_ISSUER",
  "secondFactor.challengeTtl": "USERHARBOR_LOGIN_CHALLENGE_TTL",
  "securityEvents.retention": "USERHARBOR_SECURITY_EVENT_RETENTION"
})
