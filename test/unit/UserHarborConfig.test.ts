import { describe, expect, it } from "@effect/vitest"
import { ConfigError, ConfigProvider, Duration, Effect, Layer, Redacted } from "effect"
import * as PasswordPolicy from "../../src/PasswordPolicy.js"
import * as UserHarborConfig from "../../src/UserHarborConfig.js"

const key = "k".repeat(32)
const build = (layer: Layer.Layer<UserHarborConfig.UserHarborConfig, ConfigError.ConfigError>) =>
  Effect.scoped(
    Effect.flatMap(Layer.build(layer), (context) => Effect.succeed(context.unsafeMap.values().next().value))
  )
const settings = (layer: Layer.Layer<UserHarborConfig.UserHarborConfig, ConfigError.ConfigError>) =>
  Effect.provide(UserHarborConfig.UserHarborConfig, layer)
const fromMap = (entries: ReadonlyArray<readonly [string, string]>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(entries)))

describe("UserHarborConfig", () => {
  it.effect("fails the layer with a ConfigError for a secret key under 32 bytes, without quoting it", () =>
    Effect.gen(function*() {
      for (const secret of ["", "short", "k".repeat(31), "é".repeat(15)]) {
        const error = yield* Effect.flip(build(UserHarborConfig.layer({ secretKey: Redacted.make(secret) })))
        expect(ConfigError.isInvalidData(error)).toBe(true)
        expect(ConfigError.isInvalidData(error) && error.path).toEqual(["secretKey"])
        if (secret.length > 0) expect(String(error)).not.toContain(secret)
      }
      // bytes, not characters: 16 two-byte characters are enough
      yield* build(UserHarborConfig.layer({ secretKey: Redacted.make("é".repeat(16)) }))
      yield* build(UserHarborConfig.layer({ secretKey: Redacted.make(key) }))
    }))

  it.effect("fills in the defaults", () =>
    Effect.gen(function*() {
      const config = yield* settings(UserHarborConfig.layer({ secretKey: Redacted.make(key) }))
      expect(Duration.toMillis(config.verificationTokenTtl)).toBe(Duration.toMillis("24 hours"))
      expect(Duration.toMillis(config.resetTokenTtl)).toBe(Duration.toMillis("1 hour"))
      expect(Duration.toMillis(config.sessionTtl)).toBe(Duration.toMillis("30 days"))
      expect(config.passwordPolicy).toEqual(PasswordPolicy.defaultPolicy)
      expect(Redacted.value(config.secretKey)).toBe(key)
    }))

  it.effect("refuses zero, negative and infinite lifetimes and a policy below the floor", () =>
    Effect.gen(function*() {
      const secretKey = Redacted.make(key)
      const bad: ReadonlyArray<UserHarborConfig.Options> = [
        { secretKey, sessionTtl: 0 },
        { secretKey, resetTokenTtl: -5 },
        { secretKey, verificationTokenTtl: Duration.infinity },
        { secretKey, passwordPolicy: { minLength: 7 } },
        { secretKey, passwordPolicy: { maxLength: 257 } },
        { secretKey, passwordPolicy: { minLength: 20, maxLength: 12 } },
        { secretKey, passwordPolicy: { minLength: 8.5 } }
      ]
      for (const options of bad) {
        expect(ConfigError.isInvalidData(yield* Effect.flip(build(UserHarborConfig.layer(options))))).toBe(true)
      }
      const custom = yield* settings(
        UserHarborConfig.layer({ secretKey, sessionTtl: "2 hours", passwordPolicy: { minLength: 12 } })
      )
      expect(Duration.toMillis(custom.sessionTtl)).toBe(2 * 3_600_000)
      expect(custom.passwordPolicy.minLength).toBe(12)
      expect(custom.passwordPolicy.rejectCommon).toBe(true)
    }))

  it.effect("layerConfig reads USERHARBOR_* variables", () =>
    Effect.gen(function*() {
      const config = yield* settings(UserHarborConfig.layerConfig()).pipe(fromMap([
        ["USERHARBOR_SECRET_KEY", key],
        ["USERHARBOR_VERIFICATION_TOKEN_TTL", "12 hours"],
        ["USERHARBOR_RESET_TOKEN_TTL", "15 minutes"],
        ["USERHARBOR_SESSION_TTL", "7 days"],
        ["USERHARBOR_PASSWORD_MIN_LENGTH", "10"],
        ["USERHARBOR_PASSWORD_REQUIRE_CLASSES", "true"]
      ]))
      expect(Redacted.value(config.secretKey)).toBe(key)
      expect(Duration.toMillis(config.verificationTokenTtl)).toBe(12 * 3_600_000)
      expect(Duration.toMillis(config.resetTokenTtl)).toBe(15 * 60_000)
      expect(Duration.toMillis(config.sessionTtl)).toBe(7 * 86_400_000)
      expect(config.passwordPolicy).toEqual({
        ...PasswordPolicy.defaultPolicy,
        minLength: 10,
        requireLowercase: true,
        requireUppercase: true,
        requireDigit: true,
        requireSymbol: true
      })
    }))

  it.effect("passwordPreset nist-single-factor asks for 15 characters; passwordPolicy overrides on top", () =>
    Effect.gen(function*() {
      const secretKey = Redacted.make(key)
      const nist = yield* settings(UserHarborConfig.layer({ secretKey, passwordPreset: "nist-single-factor" }))
      expect(nist.passwordPolicy).toEqual({ ...PasswordPolicy.defaultPolicy, minLength: 15 })
      const both = yield* settings(UserHarborConfig.layer({
        secretKey,
        passwordPreset: "nist-single-factor",
        passwordPolicy: { appNames: ["Harbor"] }
      }))
      expect(both.passwordPolicy).toEqual({ ...PasswordPolicy.defaultPolicy, minLength: 15, appNames: ["Harbor"] })
      const fromEnv = yield* settings(UserHarborConfig.layerConfig()).pipe(fromMap([
        ["USERHARBOR_SECRET_KEY", key],
        ["USERHARBOR_PASSWORD_PRESET", "nist-single-factor"],
        ["USERHARBOR_PASSWORD_APP_NAMES", "UserHarbor, Example Corp"]
      ]))
      expect(fromEnv.passwordPolicy).toEqual({
        ...PasswordPolicy.nistSingleFactor,
        appNames: ["UserHarbor", "Example Corp"]
      })
      const unknown = yield* Effect.flip(
        build(UserHarborConfig.layerConfig()).pipe(
          fromMap([["USERHARBOR_SECRET_KEY", key], ["USERHARBOR_PASSWORD_PRESET", "lax"]])
        )
      )
      expect(ConfigError.isConfigError(unknown)).toBe(true)
    }))

  it.effect("layerConfig uses the defaults for unset variables and fails without a good secret", () =>
    Effect.gen(function*() {
      const config = yield* settings(UserHarborConfig.layerConfig()).pipe(fromMap([["USERHARBOR_SECRET_KEY", key]]))
      expect(Duration.toMillis(config.sessionTtl)).toBe(Duration.toMillis("30 days"))
      expect(config.passwordPolicy).toEqual(PasswordPolicy.defaultPolicy)
      const missing = yield* Effect.flip(build(UserHarborConfig.layerConfig()).pipe(fromMap([])))
      expect(ConfigError.isMissingData(missing)).toBe(true)
      const short = yield* Effect.flip(
        build(UserHarborConfig.layerConfig()).pipe(fromMap([["USERHARBOR_SECRET_KEY", "too-short"]]))
      )
      expect(ConfigError.isInvalidData(short)).toBe(true)
      const badTtl = yield* Effect.flip(
        build(UserHarborConfig.layerConfig()).pipe(
          fromMap([["USERHARBOR_SECRET_KEY", key], ["USERHARBOR_SESSION_TTL", "soon"]])
        )
      )
      expect(ConfigError.isConfigError(badTtl)).toBe(true)
    }))

  it.effect("enumeration: standard by default, strict from options or USERHARBOR_ENUMERATION, nothing else", () =>
    Effect.gen(function*() {
      const secretKey = Redacted.make(key)
      expect((yield* settings(UserHarborConfig.layer({ secretKey }))).enumeration).toBe("standard")
      expect((yield* settings(UserHarborConfig.layer({ secretKey, enumeration: "strict" }))).enumeration).toBe("strict")
      const fromEnv = (value: string) =>
        settings(UserHarborConfig.layerConfig()).pipe(
          fromMap([["USERHARBOR_SECRET_KEY", key], ["USERHARBOR_ENUMERATION", value]])
        )
      expect((yield* fromEnv("strict")).enumeration).toBe("strict")
      expect((yield* fromEnv("standard")).enumeration).toBe("standard")
      expect(ConfigError.isConfigError(yield* Effect.flip(fromEnv("paranoid")))).toBe(true)
      const untyped: UserHarborConfig.Options = JSON.parse(`{"enumeration":"loose"}`)
      const error = yield* Effect.flip(build(UserHarborConfig.layer({ ...untyped, secretKey })))
      expect(ConfigError.isInvalidData(error) && error.path).toEqual(["enumeration"])
    }))

  it.effect("fills in the throttle defaults and refuses impossible throttle settings", () =>
    Effect.gen(function*() {
      const secretKey = Redacted.make(key)
      const { throttle } = yield* settings(UserHarborConfig.layer({ secretKey }))
      expect({
        ...throttle,
        baseLock: Duration.toMillis(throttle.baseLock),
        maxLock: Duration.toMillis(throttle.maxLock),
        clientWindow: Duration.toMillis(throttle.clientWindow),
        mailWindow: Duration.toMillis(throttle.mailWindow),
        registerWindow: Duration.toMillis(throttle.registerWindow)
      }).toEqual({
        enabled: true,
        freeFailures: 5,
        baseLock: 30_000,
        maxLock: 3_600_000,
        disableAfter: 100,
        clientFreeFailures: 20,
        clientWindow: 3_600_000,
        mailLimit: 3,
        mailWindow: 3_600_000,
        mailDailyLimit: 10,
        registerLimit: 10,
        registerAddressLimit: 5,
        registerWindow: 3_600_000
      })
      const refused: ReadonlyArray<readonly [Partial<UserHarborConfig.ThrottleOptions>, string]> = [
        [{ freeFailures: 0 }, "throttle.freeFailures"],
        [{ freeFailures: 2.5 }, "throttle.freeFailures"],
        [{ disableAfter: 4 }, "throttle.disableAfter"],
        [{ baseLock: "0 seconds" }, "throttle.baseLock"],
        [{ baseLock: "2 hours" }, "throttle.maxLock"],
        [{ clientWindow: Duration.infinity }, "throttle.clientWindow"],
        [{ mailLimit: -1 }, "throttle.mailLimit"],
        [{ mailDailyLimit: 0 }, "throttle.mailDailyLimit"],
        [{ registerLimit: 0.5 }, "throttle.registerLimit"],
        [{ registerAddressLimit: 0 }, "throttle.registerAddressLimit"],
        [{ registerWindow: "0 seconds" }, "throttle.registerWindow"]
      ]
      for (const [throttleOptions, path] of refused) {
        const error = yield* Effect.flip(build(UserHarborConfig.layer({ secretKey, throttle: throttleOptions })))
        expect(ConfigError.isInvalidData(error) && error.path).toEqual([path])
      }
    }))
})
