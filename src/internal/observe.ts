/**
 * Observability applied once for every operation: the outcome attribute on each `UserHarbor.<op>` span, the login
 * counters and the hashing timer. Only closed sets of values are recorded (error tags, `ok`), never an argument.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Metrics from "../Metrics.js"
import { PasswordHasher, type PasswordHasherService } from "../PasswordHasher.js"

/** The span attribute that holds an operation's outcome. */
export const outcomeAttribute = "userharbor.outcome"

const tagOf = (error: unknown): string =>
  Predicate.hasProperty(error, "_tag") && Predicate.isString(error._tag) ? error._tag : "failure"

/** `ok`, the typed error's `_tag`, `interrupted` or `defect`. */
export const outcomeOf = <A, E>(exit: Exit.Exit<A, E>): string =>
  Exit.match(exit, {
    onSuccess: () => "ok",
    onFailure: (cause) =>
      Option.match(Cause.failureOption(cause), {
        onSome: tagOf,
        onNone: () => Cause.isInterruptedOnly(cause) ? "interrupted" : "defect"
      })
  })

/**
 * Records the outcome on the current span. Pass it as an `Effect.fn` pipeable: those run inside the function's
 * span, so the attribute lands on `UserHarbor.<op>` itself.
 */
export const withOutcome = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.onExit(self, (exit) => Effect.annotateCurrentSpan(outcomeAttribute, outcomeOf(exit)))

/** Counts a login attempt by outcome, and a refused password in `loginFailures` too. */
export const countLogin = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.onExit(self, (exit) => {
    const outcome = outcomeOf(exit)
    return Effect.zipRight(
      Metric.increment(Metric.tagged(Metrics.logins, "outcome", outcome)),
      outcome === "InvalidCredentials" ? Metric.increment(Metrics.loginFailures) : Effect.void
    )
  })

const hashTimer = Metric.tagged(Metrics.hashDuration, "operation", "hash")
const verifyTimer = Metric.tagged(Metrics.hashDuration, "operation", "verify")

/** The hasher with every `hash` and `verify` timed, whichever implementation the app provides. */
export const timedHasher = (hasher: PasswordHasherService): PasswordHasherService =>
  PasswordHasher.of({
    ...hasher,
    hash: (password) => Metric.trackDuration(hasher.hash(password), hashTimer),
    verify: (password, hash) => Metric.trackDuration(hasher.verify(password, hash), verifyTimer)
  })
