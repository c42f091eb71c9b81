/**
 * The one place where a duration option is checked and converted. Options that the library's own logic relies on
 * must be positive and finite (a zero TTL would expire every token at once, an infinite one never); a refusal is a
 * `ConfigError` at the option's path, with the same two messages everywhere. Driver settings (SQL timeouts) are
 * passed through as whole milliseconds, unchecked, as they always were.
 */
import * as EffectConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type { ConfigError, DurationInput } from "../EffectTypes.js"

const invalid = (path: ReadonlyArray<string>, message: string): Effect.Effect<never, ConfigError> =>
  Effect.fail(EffectConfigError.InvalidData([...path], message))

/** The decoded duration, or a `ConfigError` at `path`: "not a duration", "must be a positive, finite duration". */
export const positive = (
  path: ReadonlyArray<string>,
  input: DurationInput
): Effect.Effect<Duration.Duration, ConfigError> =>
  Duration.decodeUnknown(input).pipe(
    Effect.catchAll(() => invalid(path, "not a duration")),
    Effect.filterOrElse(
      (duration) => Duration.greaterThan(duration, Duration.zero) && Duration.isFinite(duration),
      () => invalid(path, "must be a positive, finite duration")
    )
  )

/**
 * `positive` for an option of a constructor whose error type is `never` (`SessionCache`, `PurgeSchedule`, whose
 * signatures predate the rule): a refusal is a defect, the same `ConfigError` with the same message.
 */
export const positiveOrDie = (path: ReadonlyArray<string>, input: DurationInput): Effect.Effect<Duration.Duration> =>
  Effect.orDie(positive(path, input))

/** `positive`, in milliseconds (possibly fractional). */
export const positiveMillis = (path: ReadonlyArray<string>, input: DurationInput): Effect.Effect<number, ConfigError> =>
  Effect.map(positive(path, input), Duration.toMillis)

/** Whole milliseconds, at least 0, for a driver's timeout setting. */
export const wholeMillis = (input: DurationInput): number => Math.max(0, Math.round(Duration.toMillis(input)))
