/**
 * Brute-force throttling and send limits, on the store's atomic counters.
 *
 * **One failure budget per account** (NIST SP 800-63B-4 3.2.2): an account's failures count on one counter,
 * `budget:<hmac of its id>`, whichever of its names (username or email) is typed, so it gets `disableAfter`
 * verified guesses in all, never one allowance per name.
 *
 * **Every name typed has a counter of its own too**, and only that counter decides what the caller sees
 * (`TooManyAttempts` and its `retryAfter`). A shared per-account lock would be visible across names: someone who
 * fails five times as `alice` and then sees `alice@example.com` locked learns that both exist and belong
 * together. So when the account's budget is locked by failures under its other name, this name still answers as
 * its own counter says, but its guess is checked against the dummy hash instead of the account's, and fails:
 * the caller gets `InvalidCredentials` after the same work, and no guess reaches the account (the price: while the
 * account is locked, even its right password typed under the other name is refused as wrong). A name without an
 * account gets a budget counter of its own (keyed by the name), in lockstep with its name counter, so an unknown
 * name behaves and costs exactly like a known one typed under one name; a login that cannot use the account's
 * budget increments a decoy counter instead, so every login makes the same store calls.
 *
 * **Counters of names without an account never reach an account registered later**: in the standard mode a name
 * counter of an existing account is keyed by the name *and* the account id, and its budget by the id, so failures
 * against `newbie` before that account exists leave it untouched. In the strict enumeration mode the name counters
 * are keyed by the name alone: a lock that disappeared when an address got an account would tell that it had
 * (register with it, then see whether its lock is still there). There, a new account starts with a fresh budget
 * but its names keep the locks they had (at most `maxLock`, or until a password reset).
 *
 * **Reservations before hashing.** An attempt reads its counters (refusing at once when one is locked), then
 * increments them, and proceeds only if each increment is the one it expected or still within the free failures.
 * So N concurrent guesses get exactly `freeFailures` argon2 verifications between them, never one per request. The
 * client counter is reserved the same way (an increment, checked against the limit) and given back on success or
 * when the attempt stops before checking a password, so a client's concurrent guesses cannot overrun its limit
 * either. A success deletes the account's counters; a failure keeps its reservations. Locks are derived from
 * (count, last update), never stored.
 *
 * The password re-checks of `changePassword` and `deleteAccount` count per account instead (`reauth:<userId>`), on
 * the login schedule: their caller holds a session, so the account is known and a per-account key reveals nothing.
 * It is a counter of its own rather than the account's login budget, so that someone failing logins as `alice`
 * cannot stop the real Alice, signed in, from changing her password, and a thief holding her session cannot lock
 * her out of logging in. A success or a password reset clears it.
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import type { CounterRecord, CounterStoreService } from "../CounterStore.js"
import { type StoreError, type TokenPurpose, TooManyAttempts } from "../Errors.js"
import * as Metrics from "../Metrics.js"
import type { UserId } from "../User.js"
import type { Enumeration, ThrottleSettings } from "../UserHarborConfig.js"
import type { UserStoreService } from "../UserStore.js"

/** A window that never ends: login failures are consecutive, not per period (NIST SP 800-63B 5.2.2). */
const forever = Number.MAX_SAFE_INTEGER

const day = Duration.toMillis(Duration.hours(24))

/** Which form of login name a counter is about. */
export type IdentifierKind = "username" | "email"

/** A login name as typed (canonical when valid), and the account it names, if any. */
export interface LoginName {
  readonly kind: IdentifierKind
  readonly name: string
  readonly account: Option.Option<UserId>
}

/** The names and id of an account, for clearing its counters. */
export interface AccountNames {
  readonly id: UserId
  readonly usernameKey: string
  readonly emailKey: string
}

/** An admitted login attempt: report its outcome exactly once. */
export interface Attempt {
  /** `false`: the account's budget is spent; check the dummy hash and fail, as for an unknown name. */
  readonly verifies: boolean
  readonly failed: Effect.Effect<void, StoreError>
  readonly succeeded: (account: AccountNames) => Effect.Effect<void, StoreError>
  /** No password was checked (the hasher was busy): gives every reservation back. */
  readonly abandoned: Effect.Effect<void, StoreError>
}

/** Mail that a stranger can make the library send to an account. */
export type MailPurpose = TokenPurpose | "registration-attempt" | "change-email" | "change-email-attempt"

export interface Throttle {
  /**
   * Admits a login attempt or fails with `TooManyAttempts` (before any hashing). `clientKey` is the caller's
   * optional client identity, such as an IP address.
   */
  readonly begin: (name: LoginName, clientKey: string | undefined) => Effect.Effect<
    Attempt,
    TooManyAttempts | StoreError
  >
  /**
   * Admits a re-check of the signed-in user's password (before any hashing) or fails with `TooManyAttempts`. Its
   * `succeeded` clears the user's re-check counter.
   */
  readonly beginReauth: (userId: UserId) => Effect.Effect<Attempt, TooManyAttempts | StoreError>
  /** Counts a registration per client and per address (by its key); `TooManyAttempts` over either limit. */
  readonly register: (emailKey: string, clientKey: string | undefined) => Effect.Effect<
    void,
    TooManyAttempts | StoreError
  >
  /** Clears the login and re-check counters of an account (after a password reset or a verification). */
  readonly clear: (account: AccountNames) => Effect.Effect<void, StoreError>
  /**
   * Counts a message of `purpose` to `recipient` (a user id); `false` once the hourly or daily limit is reached.
   * Always makes two store calls, whatever the outcome.
   */
  readonly mailAllowed: (purpose: MailPurpose, recipient: string) => Effect.Effect<boolean, StoreError>
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

/** Milliseconds until a fixed-window counter allows more at `now`, given its limit. */
const windowWait = (limit: number, window: Duration.Duration, counter: CounterRecord, now: number): number => {
  const end = counter.windowStart + Duration.toMillis(window)
  return counter.count >= limit && now < end ? end - now : 0
}

/** Milliseconds until the client may try again at `now`: its failures count in fixed windows. */
export const clientWait = (settings: ThrottleSettings, counter: CounterRecord, now: number): number =>
  windowWait(settings.clientFreeFailures, settings.clientWindow, counter, now)

const wait = (counter: Option.Option<CounterRecord>, f: (counter: CounterRecord) => number) =>
  Option.match(counter, { onNone: () => 0, onSome: f })

const countOf = (counter: Option.Option<CounterRecord>) =>
  Option.match(counter, { onNone: () => 0, onSome: (c) => c.count })

/**
 * `counters` keeps the counts; `store` is only for its `withTransaction`, which the counter writes of the same
 * backend join.
 */
export const make = (
  counters: CounterStoreService,
  store: Pick<UserStoreService, "withTransaction">,
  settings: ThrottleSettings,
  digest: (value: string) => string,
  enumeration: Enumeration
): Throttle => {
  const hmac = (prefix: string, value: string) => `${prefix}:${digest(value)}`
  const clientCounter = (clientKey: string) => hmac("client", `client:${clientKey}`)
  // Unknown names keep the key format of 0.1 (`kind:name`); names of an account are keyed by the account too
  // (a prefix no `kind:` key can have), except in strict mode (see the module comment).
  const nameCounter = (kind: IdentifierKind, name: string, account: Option.Option<UserId>) =>
    Option.isSome(account) && enumeration === "standard"
      ? hmac("login", `account:${account.value}:${kind}:${name}`)
      : hmac("login", `${kind}:${name}`)
  const budgetCounter = (name: LoginName) =>
    Option.match(name.account, {
      onNone: () => hmac("budget", `${name.kind}:${name.name}`),
      onSome: (id) => hmac("budget", `account:${id}`)
    })
  // Written instead of the budget when the account's budget is locked: a counter no one reads.
  const decoyBudget = hmac("budget", "decoy")
  const accountCounters = (account: AccountNames) => [
    nameCounter("username", account.usernameKey, Option.some(account.id)),
    nameCounter("email", account.emailKey, Option.some(account.id)),
    hmac("budget", `account:${account.id}`)
  ]
  const deleteAll = (keys: ReadonlyArray<string>) => Effect.forEach(keys, counters.deleteCounter, { discard: true })
  const open: Attempt = {
    verifies: true,
    failed: Effect.void,
    succeeded: () => Effect.void,
    abandoned: Effect.void
  }

  /**
   * Increments a consecutive-failure counter read as `before`: `true` when the increment is this attempt's to
   * use. Someone else's attempt that landed between the read and the increment, past the free failures, took the
   * single guess this lock period allows; ours stays counted, as the guess it would have been.
   */
  const reserve = Effect.fnUntraced(function*(key: string, before: Option.Option<CounterRecord>, now: number) {
    const count = yield* counters.incrementCounter({ key, now, windowMs: forever })
    return { count, usable: count <= settings.freeFailures || count === countOf(before) + 1 }
  })

  const transitions = (what: string, count: number) =>
    Effect.gen(function*() {
      // Exactly one attempt holds each count, so each transition is reported once, however many race.
      if (count === settings.freeFailures) {
        yield* Effect.logWarning(`UserHarbor: ${what} locked`).pipe(Effect.annotateLogs("failures", count))
      }
      if (count === settings.disableAfter) {
        yield* Effect.logWarning(`UserHarbor: ${what === "login" ? "password login" : what} disabled until reset`)
          .pipe(Effect.annotateLogs("failures", count))
      }
    })

  // Counts one in a fixed window; 0 when within `limit`, else the milliseconds until the window ends. Refused
  // calls count too (they cannot make the wait longer).
  const countIn = Effect.fnUntraced(function*(
    key: string,
    limit: number,
    window: Duration.Duration,
    now: number,
    what?: string
  ) {
    const count = yield* counters.incrementCounter({ key, now, windowMs: Duration.toMillis(window) })
    if (count === limit && what !== undefined) yield* Effect.logWarning(`UserHarbor: ${what} locked`)
    if (count <= limit) return 0
    const counter = yield* counters.getCounter(key)
    return Math.max(1, wait(counter, (c) => windowWait(limit, window, c, now)))
  })

  const begin = Effect.fnUntraced(function*(name: LoginName, clientKey: string | undefined) {
    if (!settings.enabled) return open
    const now = yield* Clock.currentTimeMillis
    const nameKey = nameCounter(name.kind, name.name, name.account)
    const budgetKey = budgetCounter(name)
    const client = clientKey === undefined ? undefined : clientCounter(clientKey)
    const nameBefore = yield* counters.getCounter(nameKey)
    const budgetBefore = yield* counters.getCounter(budgetKey)
    const clientBefore = client === undefined ? Option.none() : yield* counters.getCounter(client)
    const waitFor = Math.max(
      wait(nameBefore, (c) => identifierWait(settings, c, now)),
      wait(clientBefore, (c) => clientWait(settings, c, now))
    )
    if (waitFor > 0) return yield* tooMany(waitFor)
    // The client's slot first, atomically: of N concurrent attempts, only the remaining allowance gets one.
    if (client !== undefined) {
      const refusedFor = yield* countIn(client, settings.clientFreeFailures, settings.clientWindow, now, "client")
      if (refusedFor > 0) return yield* tooMany(refusedFor)
    }
    const releaseClient = client === undefined ? Effect.void : counters.releaseCounter({ key: client, since: now })
    const named = yield* reserve(nameKey, nameBefore, now)
    if (!named.usable) {
      yield* releaseClient
      return yield* tooMany(identifierWait(settings, { count: named.count, windowStart: now, updatedAt: now }, now))
    }
    // The account's budget decides whether the guess is checked against the account at all; the answer is the
    // same either way.
    const budgetOpen = wait(budgetBefore, (c) => identifierWait(settings, c, now)) === 0
    const budget = budgetOpen
      ? yield* reserve(budgetKey, budgetBefore, now)
      : yield* Effect.as(counters.incrementCounter({ key: decoyBudget, now, windowMs: forever }), {
        count: 0,
        usable: false
      })
    const attempt: Attempt = {
      verifies: budget.usable,
      failed: Effect.gen(function*() {
        if (budgetOpen) yield* transitions("login", budget.count)
      }),
      // One transaction: one commit (one WAL sync) for the four counter writes instead of four.
      succeeded: (account) =>
        store.withTransaction(Effect.zipRight(releaseClient, deleteAll(accountCounters(account)))),
      abandoned: Effect.all([
        releaseClient,
        counters.releaseCounter({ key: nameKey, since: now }),
        counters.releaseCounter({ key: budgetOpen ? budgetKey : decoyBudget, since: now })
      ], { discard: true })
    }
    return attempt
  })

  // The user id is no secret (the mail counters carry it too), so the key needs no HMAC.
  const reauthIdentifier = (userId: UserId) => `reauth:${userId}`

  const beginReauth = Effect.fnUntraced(function*(userId: UserId) {
    if (!settings.enabled) return open
    const now = yield* Clock.currentTimeMillis
    const key = reauthIdentifier(userId)
    const before = yield* counters.getCounter(key)
    const waitFor = wait(before, (c) => identifierWait(settings, c, now))
    if (waitFor > 0) return yield* tooMany(waitFor)
    const reserved = yield* reserve(key, before, now)
    if (!reserved.usable) {
      return yield* tooMany(identifierWait(settings, { count: reserved.count, windowStart: now, updatedAt: now }, now))
    }
    const attempt: Attempt = {
      verifies: true,
      failed: transitions("password re-check", reserved.count),
      succeeded: () => counters.deleteCounter(key),
      abandoned: counters.releaseCounter({ key, since: now })
    }
    return attempt
  })

  const register = Effect.fnUntraced(function*(emailKey: string, clientKey: string | undefined) {
    if (!settings.enabled) return
    const now = yield* Clock.currentTimeMillis
    const { registerAddressLimit, registerLimit, registerWindow } = settings
    const byClient = clientKey === undefined
      ? 0
      : yield* countIn(hmac("register", `client:${clientKey}`), registerLimit, registerWindow, now)
    // Every registration naming the address counts, whether or not it has an account: a limit that only taken
    // addresses could reach would tell which ones are.
    const byAddress = yield* countIn(hmac("register", `email:${emailKey}`), registerAddressLimit, registerWindow, now)
    const waitFor = Math.max(byClient, byAddress)
    if (waitFor > 0) return yield* tooMany(waitFor)
  })

  const mailAllowed = Effect.fnUntraced(function*(purpose: MailPurpose, recipient: string) {
    if (!settings.enabled) return true
    const now = yield* Clock.currentTimeMillis
    const hourly = yield* counters.incrementCounter({
      key: `mail:${purpose}:${recipient}`,
      now,
      windowMs: Duration.toMillis(settings.mailWindow)
    })
    // The daily window counts only what the hourly one let through (so a burst of refused requests does not use
    // up the day); over the hourly limit it is read instead, so both outcomes make the same two store calls.
    const dailyKey = `mail-day:${purpose}:${recipient}`
    if (hourly > settings.mailLimit) {
      yield* counters.getCounter(dailyKey)
    } else if ((yield* counters.incrementCounter({ key: dailyKey, now, windowMs: day })) <= settings.mailDailyLimit) {
      return true
    }
    yield* Metric.increment(Metrics.throttled)
    return false
  })

  return {
    begin,
    beginReauth,
    register,
    clear: (account) =>
      settings.enabled ? deleteAll([...accountCounters(account), reauthIdentifier(account.id)]) : Effect.void,
    mailAllowed
  }
}
