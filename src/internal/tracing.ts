import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Effect from "effect/Effect"
import { identity } from "effect/Function"
import * as Tracer from "effect/Tracer"

// Effect's built-in tracer: what a fiber runs with until the app installs one (`Layer.setTracer`, an OpenTelemetry
// layer, ...). Its spans go nowhere, yet each costs about as much as a session look-up (random hex ids, a captured
// call site, a parent-span context); see docs/performance.md.
const builtIn = Context.get(DefaultServices.liveServices, Tracer.Tracer)

/** Whether `tracer` is one the app installed, rather than Effect's built-in one. */
export const isInstalled = (tracer: Tracer.Tracer): boolean => tracer !== builtIn

/**
 * `Effect.fn(name)(body, inSpan)` for the operations that run on every request (session checks): the span is opened
 * only when the app installed a tracer, so an app that exports traces sees `UserHarbor.<name>` as before, and one
 * that does not pays nothing for spans no one reads. `inSpan` wraps the body inside the span and only when there is
 * one, so it is for span concerns only (the outcome attribute), never for metrics or logic. `body` returns an
 * `Effect` (not a generator): without a tracer it is called as it is, with nothing around it.
 */
export const fn = <Args extends Array<unknown>, A, E, R>(
  name: string,
  body: (...args: Args) => Effect.Effect<A, E, R>,
  inSpan: (self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R> = identity
): (...args: Args) => Effect.Effect<A, E, R> => {
  const traced = Effect.fn(name)((...args: Args) => inSpan(body(...args)))
  return (...args) => Effect.tracerWith((tracer) => tracer === builtIn ? body(...args) : traced(...args))
}
