/**
 * Probes for the shared session cache tests: what a cache serves from memory is told apart from what it reads by
 * removing the row behind its back.
 */
import { Effect, Option, Schedule } from "effect"
import type { DurationInput } from "effect/Duration"
import type { SessionRecord, UserStore } from "../../src/UserStore.js"

/** Polls `check` every 5 ms until it holds; dies after `timeout`. */
export const eventually = <E>(check: Effect.Effect<boolean, E>, timeout: DurationInput = "5 seconds") =>
  check.pipe(
    Effect.filterOrFail((ok) => ok, () => "not yet"),
    Effect.retry({ schedule: Schedule.spaced("5 millis") }),
    Effect.timeout(timeout),
    Effect.orDie
  )

/**
 * Whether `cached` serves `session` from memory: read through it, removed from `direct` behind its back, read
 * again. The row is put back afterwards.
 */
export const servesFromMemory = (cached: UserStore["Type"], direct: UserStore["Type"], session: SessionRecord) =>
  Effect.gen(function*() {
    yield* cached.findSession(session.tokenHash)
    yield* direct.deleteSession(session.tokenHash)
    const served = Option.isSome(yield* cached.findSession(session.tokenHash))
    yield* direct.insertSession(session)
    return served
  })
