/**
 * UserHarbor's metrics, as `effect/Metric` values. They live in Effect's global registry, so an app exports them
 * with whatever it already uses for Effect metrics (`Metric.snapshot`, `@effect/opentelemetry`'s metrics layer).
 *
 * No metric carries a user-controlled tag: outcomes are error tags from a closed set, so cardinality stays small
 * and no username, address or token can reach a metrics backend.
 *
 * @since 0.1.0
 */
import * as Metric from "effect/Metric"

/**
 * Login attempts, tagged `outcome`: `ok`, or the error's `_tag` (`InvalidCredentials`, `EmailNotVerified`,
 * `StoreError`, ...), `defect` or `interrupted`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const logins = Metric.counter("userharbor_logins_total", {
  description: "Login attempts by outcome",
  incremental: true
})

/**
 * Logins refused for a wrong password or an unknown account (the `InvalidCredentials` outcome): the signal of
 * password guessing.
 *
 * @since 0.1.0
 * @category metrics
 */
export const loginFailures = Metric.counter("userharbor_login_failures_total", {
  description: "Logins refused for a wrong password or an unknown account",
  incremental: true
})

/**
 * Attempts refused by brute-force or mail throttling, before any password was checked or mail sent.
 *
 * @since 0.1.0
 * @category metrics
 */
export const throttled = Metric.counter("userharbor_throttled_total", {
  description: "Attempts refused by throttling",
  incremental: true
})

/**
 * How long each argon2 hash or verification took, in milliseconds, tagged `operation`: `hash` or `verify`. It
 * includes any wait for a free hashing slot, which is what a caller experiences.
 *
 * @since 0.1.0
 * @category metrics
 */
export const hashDuration = Metric.timerWithBoundaries(
  "userharbor_password_hash_duration",
  [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
  "Password hash and verify time, waiting included"
)

/**
 * How many hash or verify calls are waiting for a hashing slot right now.
 *
 * @since 0.1.0
 * @category metrics
 */
export const hashQueueDepth = Metric.gauge("userharbor_password_hash_queue_depth", {
  description: "Password hash and verify calls waiting for a slot"
})
