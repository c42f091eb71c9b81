import * as Cause from "effect/Cause"
import type * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Runtime from "effect/Runtime"
import * as Scheduler from "effect/Scheduler"
import type { InvalidSession, StoreError } from "../Errors.js"
import type { ValidatedSession } from "../User.js"
import type { SessionCheck, SessionChecker } from "../UserHarbor.js"
import type { SecretInput } from "./secrets.js"

type Validate = (sessionToken: SecretInput) => Effect.Effect<ValidatedSession, InvalidSession | StoreError>

// A defect or an interruption is thrown (or rejected), as `Runtime.runSync` and `runPromise` do.
const settle = (exit: Exit.Exit<ValidatedSession, InvalidSession | StoreError>): SessionCheck => {
  if (Exit.isSuccess(exit)) return { ok: true, value: exit.value }
  const failure = Cause.failureOption(exit.cause)
  if (failure._tag === "Some") return { ok: false, error: failure.value }
  throw Runtime.makeFiberFailure(exit.cause)
}

/**
 * `validateSession` as a plain function, on `runtime`: run synchronously, so a store that answers at once (the
 * SQLite fast path, the memory store) answers without a promise or a scheduler turn. When the effect has to wait
 * (PostgreSQL, a renewal write queued behind a transaction on SQLite's single writer connection), it goes on
 * running and the result comes as a promise. Either way it is exactly `validateSession`: the same reads, writes,
 * errors, spans and metrics.
 */
export const checker = <R>(runtime: Runtime.Runtime<R>, validate: Validate): SessionChecker => {
  const fork = Runtime.runFork(runtime)
  return (sessionToken) => {
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
}
