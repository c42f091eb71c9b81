/**
 * UserHarbor's names for the Effect types its public options and signatures use. They are aliases (the same
 * types, nothing to convert): an app may write either name. When UserHarbor moves to a new Effect major version,
 * these lines change and the signatures that use them follow.
 *
 * @since 0.3.0
 */
import type * as EffectConfigError from "effect/ConfigError"
import type * as Duration from "effect/Duration"

/**
 * A duration as the options take it: a `Duration`, a number of milliseconds, a `bigint` of nanoseconds, a
 * `[seconds, nanos]` pair, or a string such as `"30 seconds"` or `"5 minutes"`.
 *
 * @since 0.3.0
 * @category models
 */
export type DurationInput = Duration.DurationInput

/**
 * The error of a constructor or layer that refuses its options (`UserHarborConfig.layer`, `SmtpEmailSender.layer`,
 * `OutboxWorker.layer`, `Argon2Hasher.layer`, ...): the option's path and what is wrong with it.
 *
 * @since 0.3.0
 * @category models
 */
export type ConfigError = EffectConfigError.ConfigError
