/**
 * Brute-force throttling and mail send limits, on the store's atomic counters.
 *
 * Login counts per identifier: the canonical username or email address the caller typed, whether or not an
 * account has it, keyed by its HMAC (so the counter table holds no addresses, and unknown names behave exactly like
 * real ones). Keying by identifier rather than by account is deliberate: a shared `account:<id>` counter would let
 * someone who fails five times as `alice` and then sees `alice@example.com` locked learn that both exist and
 * belong together.
 *
 * An attempt reserves its place before the password is verified: it reads the counter (refusing at once when it
 * is locked), then increments it, and proceeds only if the increment is the one it expected or still within the
 * free failures. So N concurrent guesses against a locked-to-be identifier get exactly `freeFailures` argon2
 * verifications between them, never one per request. A success deletes the counters; a failure just keeps its
 * reservation. The lock is derived from (count, last update), never stored.
 *
 * The password re-checks of `changePassword` and `deleteAccount` count per account instead (`reauth:<userId>`), on
 * the login schedule: their caller holds a session, so the account is known and a per-account key reveals nothing.
 * It is a counter of its own rather than the account's login-name counters, so that someone failing logins as
 * `alice` cannot stop the real Alice, signed in, from changing her password, and a thief holding her session
 * cannot lock her out of logging in. A success or a password reset clears it.
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import { type StoreError, type TokenPurpose, TooManyAttempts } from "../Errors.js"
import * as Metrics from "../Metrics.js"
import type { UserId } from "../User.js"
import type { ThrottleSettings } from "../UserHarborConfig.js"
import type { CounterRecord, UserStore } from "../UserStore.js"

/** A window that never ends: login failures are consecutive, not per period (NIST SP 800-63B 5.2.2). */
const forever = Number.MAX_SAFE_INTEGER

/** Which form of login name a counter is about. */
export type IdentifierKind = "username" | "email"

/** An admitted login attempt: report its outcome exactly once. */
export interface Attempt {
  readonly failed: Effect.Effect<void, StoreError>
  readonly succeeded: (identifiers: ReadonlyArray<string>) => Effect.Effect<void, StoreError>
}

export interface Throttle {
  /** The counter key of a login name (a canonical key when the name is valid, else the input as typed). */
  readonly identifier: (kind: IdentifierKind, name: string) => string
  /**
   * Admits an attempt or fails with `TooManyAttempts` (before any hashing). `clientKey` is the caller's optional
   * client identity, such as an IP address.
   */
  readonly begin: (identifier: string, clientKey: string | undefined) => Effect.Effect<
    Attempt,
    TooManyAttempts | StoreError
  >
  /**
   * Admits a re-check of the signed-in user's password (before any hashing) or fails with `TooManyAttempts`. Its
   * `succeeded` clears the user's re-check counter.
   */
  readonly beginReauth: (userId: UserId) => Effect.Effect<Attempt, TooManyAttempts | StoreError>
  /** The counter key of a user's password re-checks (cleared with the login counters by a password reset). */
  readonly reauthIdentifier: (userId: UserId) => string
  /** Clears the login counters of these identifiers (after a password reset). */
  readonly clear: (identifiers: ReadonlyArray<string>) => Effect.Effect<void, StoreError>
  /** Counts a message of `purpose` to the user; `false` once the limit for the window is reached. */
  readonly mailAllowed: (purpose: TokenPurpose, userId: UserId) => Effect.Effect<boolean, StoreError>
}

const tooMany = (retryAfterMillis: number) =>
  Effect.zipRight(
    Metric.increment(Metrics.throttled),
    Effect.fail(
      new TooManyAttempts({
        retryAfter: Number.isFinite(retryAfterMillis) ? Duration.millis(Math.ceil(retryAfterMillis)) : Duration.infinity
      })
    )
  )

/** Milliseconds until the identifier may try again at `now`, or 0 when it may try now. */
export const identifierWait = (settings: ThrottleSettings, counter: CounterRecord, now: number): number => {
  if (counter.count >= settings.disableAfter) return Infinity
  if (counter.count < settings.freeFailures) return 0
  const lock = Math.min(
    Duration.toMillis(settings.baseLock) * 2 ** (counter.count - settings.freeFailures),
    Duration.toMillis(settings.maxLock)
  )
  return Math.max(0, counter.updatedAt + lock - now)
}

/** Milliseconds until the client may try again at `now`: its failures count in fixed windows. */
export const clientWait = (settings: ThrottleSettings, counter: CounterRecord, now: number): number => {
  const end = counter.windowStart + Duration.toMillis(settings.clientWindow)
  return counter.count >= settings.clientFreeFailures && now < end ? end - now : 0
}

const wait = (counter: Option.Option<CounterRecord>, f: (counter: CounterRecord) => number) =>
  Option.match(counter, { onNone: () => 0, onSome: f })

export const make = (
  store: UserStore["Type"],
  settings: ThrottleSettings,
  digest: (value: string) => string
): Throttle => {
  const clientCounter = (clientKey: string) => `client:${digest(`client:${clientKey}`)}`
  const clear = (identifiers: ReadonlyArray<string>) =>
    Effect.forEach(identifiers, store.deleteCounter, { discard: true })
  const open: Attempt = { failed: Effect.void, succeeded: () => Effect.void }

  // `what` names the counter in the warnings logged when it locks and when it disables.
  const admit = (what: { readonly locked: string; readonly disabled: string }) =>
    Effect.fnUntraced(function*(identifier: string, clientKey: string | undefined) {
      if (!settings.enabled) return open
      const now = yield* Clock.currentTimeMillis
      const client = clientKey === undefined ? undefined : clientCounter(clientKey)
      const before = yield* store.getCounter(identifier)
      const clientBefore = client === undefined ? Option.none() : yield* store.getCounter(client)
      const waitFor = Math.max(
        wait(before, (c) => identifierWait(settings, c, now)),
        wait(clientBefore, (c) => clientWait(settings, c, now))
      )
      if (waitFor > 0) return yield* tooMany(waitFor)
      const count = yield* store.incrementCounter(identifier, now, forever)
      const expected = Option.match(before, { onNone: () => 1, onSome: (c) => c.count + 1 })
      // Someone else's attempt landed between our read and our increment, past the free failures: theirs took the
      // single guess this lock period allows. Ours stays counted, as the guess it would have been.
      if (count > settings.freeFailures && count !== expected) {
        return yield* tooMany(identifierWait(settings, { count, windowStart: now, updatedAt: now }, now))
      }
      const attempt: Attempt = {
        failed: Effect.gen(function*() {
          // Exactly one attempt holds each count, so each transition is reported once, however many race.
          if (count === settings.freeFailures) {
            yield* Effect.logWarning(`UserHarbor: ${what.locked} locked`).pipe(Effect.annotateLogs("failures", count))
          }
          if (count === settings.disableAfter) {
            yield* Effect.logWarning(`UserHarbor: ${what.disabled} disabled until reset`).pipe(
              Effect.annotateLogs("failures", count)
            )
          }
          if (client === undefined) return
          const clientCount = yield* store.incrementCounter(client, now, Duration.toMillis(settings.clientWindow))
          if (clientCount === settings.clientFreeFailures) yield* Effect.logWarning("UserHarbor: client locked")
        }),
        succeeded: (identifiers) => clear(identifiers.includes(identifier) ? identifiers : [identifier, ...identifiers])
      }
      return attempt
    })

  const mailAllowed = Effect.fnUntraced(function*(purpose: TokenPurpose, userId: UserId) {
    if (!settings.enabled) return true
    const now = yield* Clock.currentTimeMillis
    const sent = yield* store.incrementCounter(`mail:${purpose}:${userId}`, now, Duration.toMillis(settings.mailWindow))
    if (sent <= settings.mailLimit) return true
    yield* Metric.increment(Metrics.throttled)
    return false
  })

  // The user id is no secret (the mail counters carry it too), so the key needs no HMAC.
  const reauthIdentifier = (userId: UserId) => `reauth:${userId}`
  const reauth = admit({ locked: "password re-check", disabled: "password re-check" })

  return {
    identifier: (kind, name) => `login:${digest(`${kind}:${name}`)}`,
    begin: admit({ locked: "login", disabled: "password login" }),
    beginReauth: (userId) => reauth(reauthIdentifier(userId), undefined),
    reauthIdentifier,
    clear: (identifiers) => settings.enabled ? clear(identifiers) : Effect.void,
    mailAllowed
  }
}
