import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberRefs from "effect/FiberRefs"
import * as Runtime from "effect/Runtime"
import * as Scheduler from "effect/Scheduler"
import * as Tracer from "effect/Tracer"
import type { InvalidSession, StoreError } from "../Errors.js"
import type { ValidatedSession } from "../User.js"
import type { SessionCheck, SessionChecker } from "../UserHarbor.js"
import type { SecretInput } from "./secrets.js"
import * as Tracing from "./tracing.js"

type Validate = (sessionToken: SecretInput) => Effect.Effect<ValidatedSession, InvalidSession | StoreError>

// A defect or an interruption is thrown (or rejected), as `Runtime.runSync` and `runPromise` do.
const settle = (exit: Exit.Exit<ValidatedSession, InvalidSession | StoreError>): SessionCheck => {
  if (Exit.isSuccess(exit)) return { ok: true, value: exit.value }
  const failure = Cause.failureOption(exit.cause)
  if (failure._tag === "Some") return { ok: false, error: failure.value }
  throw Runtime.makeFiberFailure(exit.cause)
}

/**
 * `validateSession`'s answer computed without running it, or `undefined` when only running it can give it (an
 * expired session to delete, a renewal to write, a failing read). Registered by the service for its own
 * `validateSession` when its store reads synchronously; must agree with it exactly.
 */
export type Shortcut = (sessionToken: SecretInput, now: number) => SessionCheck | undefined

// Keyed by the service's `validateSession`: a service wrapped or replaced by the app gets no shortcut.
const shortcuts = new WeakMap<Validate, Shortcut>()

export const registerShortcut = (validate: Validate, shortcut: Shortcut): void => {
  shortcuts.set(validate, shortcut)
}

/**
 * `validate` with `shortcut` taken first inside the fiber, on the fiber's clock, where `appliesIn` says the
 * synchronous look-up is what the store's `findSession` would do (outside transactions): one fiber step instead of the
 * look-up's, the clock's and their continuations. Whatever the shortcut cannot answer runs `validate`.
 */
export const shortcutFirst = (
  validate: Validate,
  shortcut: Shortcut,
  appliesIn: (fiber: Fiber.RuntimeFiber<unknown, unknown>) => boolean
): Validate =>
(sessionToken) =>
  Effect.withFiberRuntime((fiber) => {
    if (!appliesIn(fiber)) return validate(sessionToken)
    let answer: SessionCheck | undefined
    try {
      answer = shortcut(sessionToken, Context.get(fiber.currentDefaultServices, Clock.Clock).unsafeCurrentTimeMillis())
    } catch {
      // A failing read: `validate` reads again and reports it as it does.
    }
    return answer === undefined
      ? validate(sessionToken)
      : answer.ok
      ? Effect.succeed(answer.value)
      : Effect.fail(answer.error)
  })

/**
 * `validateSession` as a plain function, on `runtime`. Without a tracer (nothing would record the span) and with a
 * registered shortcut, the common case is answered by the shortcut on the runtime's clock, with no fiber. Otherwise
 * the effect runs synchronously, so a store that answers at once answers without a promise or a scheduler turn;
 * when it has to wait (PostgreSQL, a renewal write queued behind a transaction on SQLite's single writer
 * connection), it goes on running and the result comes as a promise.
 */
export const checker = <R>(runtime: Runtime.Runtime<R>, validate: Validate): SessionChecker => {
  const fork = Runtime.runFork(runtime)
  const run = (sessionToken: SecretInput): SessionCheck | Promise<SessionCheck> => {
    // What `Runtime.runSyncExit` does, keeping the fiber (typed) for when the effect has to wait.
    const scheduler = new Scheduler.SyncScheduler()
    const fiber = fork(validate(sessionToken), { scheduler })
    scheduler.flush()
    const exit = fiber.unsafePoll()
    if (exit !== null) return settle(exit)
    return new Promise((resolve, reject) => {
      fiber.addObserver((exit) => {
        try {
          resolve(settle(exit))
        } catch (error) {
          reject(error)
        }
      })
    })
  }
  const shortcut = shortcuts.get(validate)
  const services = FiberRefs.getOrDefault(runtime.fiberRefs, DefaultServices.currentServices)
  if (shortcut === undefined || Tracing.isInstalled(Context.get(services, Tracer.Tracer))) return run
  const clock = Context.get(services, Clock.Clock)
  return (sessionToken) => {
    let answer: SessionCheck | undefined
    try {
      answer = shortcut(sessionToken, clock.unsafeCurrentTimeMillis())
    } catch {
      // A failing read: `validateSession` reads again and reports it as it does.
    }
    return answer ?? run(sessionToken)
  }
}
