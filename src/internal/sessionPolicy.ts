/**
 * The session lifetime rules, as pure arithmetic on epoch milliseconds, so they are easy to test and the service
 * only decides what to write.
 *
 * A session has two limits: the idle timeout (`sessionTtl`, sliding) and the absolute timeout
 * (`sessionAbsoluteTtl`, counted from `createdAt`, never moved). It is dead once `now >= deadline`.
 */
import * as Duration from "effect/Duration"
import type { Settings } from "../UserHarborConfig.js"
import type { SessionRecord } from "../UserStore.js"

export interface Policy {
  readonly idle: number
  readonly absolute: number
  readonly maxPerUser: number | undefined
}

export const fromSettings = (settings: Settings): Policy => ({
  idle: Duration.toMillis(settings.sessionTtl),
  absolute: Duration.toMillis(settings.sessionAbsoluteTtl),
  maxPerUser: settings.maxSessionsPerUser
})

/**
 * `lastUsedAt` is written at most once per hour per session (or on renewal): a write per request would cost every
 * session check a database write, and an hour is precise enough to tell a user which device was active.
 */
export const lastUsedGranularity = 3_600_000

/** The expiry of a session created, or last renewed, at `now`. */
export const expiryFrom = (policy: Policy, createdAt: number, now: number): number =>
  Math.min(now + policy.idle, createdAt + policy.absolute)

/**
 * When the session dies. The stored expiry already respects the absolute timeout it was written under; taking the
 * minimum again makes a shortened `sessionAbsoluteTtl` apply to sessions issued before the change.
 */
export const deadline = (policy: Policy, session: SessionRecord): number =>
  Math.min(session.expiresAt, session.createdAt + policy.absolute)

/** What one use of a live session at `now` changes. */
export interface Use {
  readonly expiresAt: number
  /** The expiry moved later (an HTTP layer refreshes its cookie). */
  readonly renewed: boolean
  /** `expiresAt` and `lastUsedAt = now` must be written. */
  readonly write: boolean
}

/**
 * Sliding renewal: once less than half the idle timeout remains, the expiry moves to `now + idle`, but never past
 * the absolute timeout; when it cannot move, nothing is renewed.
 */
export const use = (policy: Policy, session: SessionRecord, now: number): Use => {
  const current = deadline(policy, session)
  const candidate = expiryFrom(policy, session.createdAt, now)
  const renewed = current - now < policy.idle / 2 && candidate > current
  return {
    expiresAt: renewed ? candidate : current,
    renewed,
    write: renewed || now - session.lastUsedAt >= lastUsedGranularity
  }
}
