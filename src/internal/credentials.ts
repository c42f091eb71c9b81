/**
 * The account service's password checks: the dummy hash that unknown and malformed passwords are checked against
 * (so they cost what a real check costs), the login look-up, the throttled re-check before a sensitive change, and
 * the opportunistic upgrade of an outdated hash.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Email from "../Email.js"
import { type Busy, EmailNotVerified, InvalidCredentials, type StoreError } from "../Errors.js"
import type { PasswordHasherService } from "../PasswordHasher.js"
import * as PasswordPolicy from "../PasswordPolicy.js"
import * as SecurityEvent from "../SecurityEvent.js"
import type { LoginInput } from "../UserHarbor.js"
import * as Username from "../Username.js"
import type { UserRecord, UserStoreService } from "../UserStore.js"
import { redact, type SecretInput } from "./secrets.js"
import type * as SecurityEvents from "./securityEvents.js"
import type * as Throttle from "./throttle.js"
import type * as Tokens from "./tokens.js"

export interface Deps {
  readonly store: UserStoreService
  /** The hasher as the service uses it (timed, see `Observe.timedHasher`). */
  readonly hasher: PasswordHasherService
  readonly throttle: Throttle.Throttle
  readonly tokens: Tokens.Tokens
  readonly strict: boolean
  readonly policy: PasswordPolicy.PasswordPolicy
  readonly recorder: SecurityEvents.Recorder
}

export const make = Effect.fnUntraced(function*({ hasher, policy, recorder, store, strict, throttle, tokens }: Deps) {
  // A bounded hasher shared with running traffic may be busy; building waits for it rather than failing.
  const dummyHash = yield* Effect.eventually(
    Effect.flatMap(tokens.newId, (id) => hasher.hash(Redacted.make(id))).pipe(
      Effect.tapError(() => Effect.sleep("50 millis"))
    )
  )

  // Taken before any store round trip, so a flood is refused as `Busy` without touching the database, and a
  // refused call has counted nothing (see `PasswordHasher.admit`).
  const admit = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | Busy, R> =>
    hasher.admit === undefined ? self : hasher.admit(self)

  // A password that cannot be valid is still checked against the dummy hash, so it costs the same as a real one.
  const verifyPassword = (password: SecretInput, hash: string) => {
    const normalized = PasswordPolicy.normalize(redact(password))
    return normalized === undefined
      ? Effect.as(hasher.verify(Redacted.make(""), dummyHash), false)
      : hasher.verify(normalized, hash)
  }

  // The signed-in user's password, re-checked before a sensitive change, on the user's own throttling counter: a
  // stolen session must not become an unlimited password oracle. Throttled before any hashing.
  const reauthenticate = Effect.fnUntraced(function*(password: SecretInput, user: UserRecord) {
    const attempt = yield* throttle.beginReauth(user.id).pipe(
      Effect.tapErrorTag("TooManyAttempts", () => recorder.throttled(Option.some(user.id), "reauthenticate", {}))
    )
    const matches = yield* verifyPassword(password, user.passwordHash).pipe(
      Effect.tapErrorTag("Busy", () => attempt.abandoned)
    )
    if (!matches) {
      yield* attempt.failed
      return yield* new InvalidCredentials()
    }
    yield* attempt.succeeded(user)
  })

  // The user, and the login name as typed (canonical when valid, so `ALICE` is `alice`) for its counters.
  const findForLogin = (
    input: LoginInput
  ): Effect.Effect<{ readonly name: Throttle.LoginName; readonly user: Option.Option<UserRecord> }, StoreError> => {
    const found = (
      kind: Throttle.IdentifierKind,
      key: string,
      user: Effect.Effect<Option.Option<UserRecord>, StoreError>
    ) =>
      Effect.map(user, (user) => ({
        name: { kind, name: key, account: Option.map(user, (found) => found.id) },
        user
      }))
    const unknown = (kind: Throttle.IdentifierKind, name: string) =>
      Effect.succeed({ name: { kind, name, account: Option.none() }, user: Option.none<UserRecord>() })
    if ("username" in input) {
      return Username.validate(input.username).pipe(
        Effect.flatMap((valid) => found("username", valid.key, store.findUserByUsername(valid.key))),
        Effect.catchTag("InvalidUsername", () => unknown("username", input.username))
      )
    }
    return Email.validate(input.email).pipe(
      Effect.flatMap((valid) => found("email", valid.key, store.findUserByEmail(valid.key))),
      Effect.catchTag("InvalidEmail", () => unknown("email", input.email))
    )
  }

  // Stored for a known account; for none, published only (at the cost of a stored one, see the recorder).
  const loginFailed = (
    account: Option.Option<UserRecord>,
    reason: "wrong-password" | "unverified",
    details: SecurityEvents.Details
  ) =>
    Option.match(account, {
      onNone: () =>
        recorder.publish(details, (common) =>
          new SecurityEvent.AnonymousLoginFailed({ ...common, reason: "unknown-account" })),
      onSome: (found) =>
        recorder.record(found.id, details, (common) =>
          new SecurityEvent.LoginFailed({ ...common, reason }))
    })

  // A login's password check, throttled; the account it opens, whose session is the caller's to create.
  const checkLogin = (input: LoginInput) =>
    Effect.gen(function*() {
      const { name, user } = yield* findForLogin(input)
      const details = { clientKey: input.clientKey }
      // Before any hashing: a throttled attempt costs no argon2 work.
      const attempt = yield* throttle.begin(name, input.clientKey).pipe(
        Effect.tapErrorTag("TooManyAttempts", () => recorder.throttled(name.account, "login", details))
      )
      // An account whose budget is spent under its other name is not asked (see internal/throttle.ts).
      const account = attempt.verifies ? user : Option.none<UserRecord>()
      const matches = yield* verifyPassword(
        input.password,
        Option.isSome(account) ? account.value.passwordHash : dummyHash
      ).pipe(Effect.tapErrorTag("Busy", () => attempt.abandoned))
      // Strict: an unverified account answers and counts as a wrong password, like one that does not exist
      // (whoever registered with a taken address knows the password of the account that was not created).
      if (Option.isNone(account) || !matches || (strict && !account.value.verified)) {
        const reason = matches ? "unverified" : "wrong-password"
        yield* recorder.transaction(Effect.zipRight(attempt.failed, loginFailed(account, reason, details)))
        return yield* new InvalidCredentials()
      }
      yield* attempt.succeeded(account.value)
      // Only after the right password, so this answer reveals nothing to someone who does not know it.
      if (!account.value.verified) {
        yield* recorder.recordAlone(account.value.id, details, (common) =>
          new SecurityEvent.LoginFailed({ ...common, reason: "unverified" }))
        return yield* new EmailNotVerified()
      }
      return account.value
    })

  // A replacement password: checked against the policy and the account's names, then hashed (slow: before any
  // transaction, so it never holds a connection).
  const hashNewPassword = (password: SecretInput, user: UserRecord) =>
    Effect.flatMap(PasswordPolicy.check(policy, redact(password), user), hasher.hash)

  // Opportunistic: a login that could not upgrade its hash (busy, store down, password changed meanwhile) still
  // succeeds, and the next one tries again. Conditional on the version, so a concurrent change always wins.
  const upgradeHash = (password: SecretInput, user: UserRecord) => {
    const normalized = PasswordPolicy.normalize(redact(password))
    if (normalized === undefined || !hasher.needsRehash(user.passwordHash)) return Effect.void
    return hasher.hash(normalized).pipe(
      Effect.flatMap((passwordHash) =>
        store.updatePassword({ userId: user.id, passwordHash, expectedVersion: user.passwordVersion, rehash: true })
      ),
      Effect.catchAll((error) =>
        Effect.logWarning("UserHarbor: password hash not upgraded").pipe(Effect.annotateLogs("reason", error._tag))
      ),
      Effect.asVoid
    )
  }

  return { admit, checkLogin, reauthenticate, hashNewPassword, upgradeHash }
})
