/**
 * The account service's second factors: TOTP enrolment (begin, confirm with a first code, disable), recovery
 * codes, the challenge that `login` fails with for an account with an active factor, and `completeLogin`.
 *
 * The `FactorStore` is optional: without one (a third-party store written before 0.3.0) `login` behaves as it
 * always did and the factor operations die, naming the missing port (a wiring mistake, not a runtime outcome).
 *
 * Every code attempt (at `completeLogin`, at confirmation, at a disable by code) counts on the account's re-check
 * counter (`Throttle.beginReauth`, `reauth:<userId>`, on the login schedule), the one the password re-checks of
 * `changePassword` and `deleteAccount` use. Not the login budget: a successful password login clears that, so
 * someone who knows the password could buy fresh code guesses by logging in again. Only a right code, a right
 * password re-check or a password reset clears the re-check counter.
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import {
  type AccountLocked,
  InvalidChallenge,
  InvalidCode,
  type InvalidCredentials,
  SecondFactorRequired,
  type StoreError,
  TotpAlreadyEnabled,
  TotpNotEnabled
} from "../Errors.js"
import type { FactorStoreService, TotpFactorRecord } from "../FactorStore.js"
import type { SecureRandomService } from "../SecureRandom.js"
import type { Session, UserId } from "../User.js"
import type { FactorSummary } from "../UserHarbor.js"
import type { SecondFactorSettings } from "../UserHarborConfig.js"
import { TokenHash, type UserRecord, type UserStoreService } from "../UserStore.js"
import * as Sealing from "./sealing.js"
import { redact, type SecretInput } from "./secrets.js"
import type * as Throttle from "./throttle.js"
import type * as Tokens from "./tokens.js"
import * as Totp from "./totp.js"

export interface Deps {
  readonly store: UserStoreService
  readonly factors: Option.Option<FactorStoreService>
  readonly tokens: Tokens.Tokens
  readonly random: SecureRandomService
  readonly throttle: Throttle.Throttle
  readonly secretKey: Redacted.Redacted<string>
  readonly settings: SecondFactorSettings
  /** A new session for the user, only while its password is still at `passwordVersion` (`InvalidCredentials`). */
  readonly newSession: (
    userId: UserId,
    passwordVersion: number
  ) => Effect.Effect<Session, InvalidCredentials | AccountLocked | StoreError>
  /** Fails with `AccountLocked` (recording the refusal) when an administrator locked the account. */
  readonly refuseLocked: (userId: UserId) => Effect.Effect<void, AccountLocked | StoreError>
}

/** How many recovery codes an enrolment (or a regeneration) hands out. */
export const recoveryCodeCount = 10

// Crockford's base32 alphabet: no I, L, O or U, so a code read aloud or copied by hand survives.
const alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
const recoveryCodeLength = 10

/** A recovery code as typed, in its canonical form (lower case, no separators, Crockford's look-alikes mapped). */
const normalizeRecoveryCode = (code: string): string | undefined => {
  const canonical = code.toLowerCase().replace(/[\s-]+/g, "").replace(/[il]/g, "1").replace(/o/g, "0")
  return canonical.length === recoveryCodeLength && [...canonical].every((c) => alphabet.includes(c))
    ? canonical
    : undefined
}

const missingPort = Effect.dieMessage(
  "UserHarbor: second factors need a FactorStore (MemoryUserStore.layer and the SQL stores provide one)"
)

export const make = (deps: Deps) => {
  const { random, settings, store, throttle, tokens } = deps
  const sealer = Sealing.make(deps.secretKey, "userharbor totp v1")
  // The secret is bound to its user: a sealed secret copied to another user's row does not open.
  const associated = (userId: UserId) => `totp:${userId}`

  const factorStore: Effect.Effect<FactorStoreService> = Option.match(deps.factors, {
    onNone: () => missingPort,
    onSome: Effect.succeed
  })

  const recoveryHash = (canonical: string) => TokenHash.make(tokens.digest(`recovery-code:${canonical}`), true)

  /** Ten fresh codes, `xxxxx-xxxxx`, 50 bits each, and their hashes. */
  const newRecoveryCodes = Effect.forEach(
    Array.from({ length: recoveryCodeCount }),
    () =>
      Effect.map(random.nextBytes(recoveryCodeLength), (bytes) => {
        // 256 is a multiple of 32: every symbol is equally likely.
        const canonical = Array.from(bytes, (b) => alphabet[b % 32]).join("")
        return {
          code: Redacted.make(`${canonical.slice(0, 5)}-${canonical.slice(5)}`),
          hash: recoveryHash(canonical)
        }
      })
  )

  const replaceRecoveryCodes = (factors: FactorStoreService, userId: UserId, now: number) =>
    Effect.flatMap(newRecoveryCodes, (codes) =>
      Effect.as(
        factors.replaceRecoveryCodes({ userId, codeHashes: codes.map((c) => c.hash), createdAt: now }),
        codes.map((c) => c.code)
      ))

  // A sealed secret that does not open was not written by this key: the key changed, or the row was tampered with.
  const openSecret = (factor: TotpFactorRecord) => {
    const secret = sealer.open(associated(factor.userId), factor.secret)
    return secret === undefined
      ? Effect.dieMessage("UserHarbor: a TOTP secret does not open under the secret key (was the key changed?)")
      : Effect.succeed(secret)
  }

  const activeFactor = (factors: FactorStoreService, userId: UserId) =>
    Effect.map(factors.findTotp(userId), Option.filter((factor) => factor.active))

  /**
   * Whether `code` is a valid second factor of the user now: a TOTP code of the active factor at a step later than
   * the last accepted one (recorded, so it is never accepted again), or one of the user's recovery codes (used up).
   */
  const acceptCode = (factors: FactorStoreService, userId: UserId, code: string) =>
    Effect.gen(function*() {
      const totpCode = Totp.normalizeCode(code)
      if (totpCode === undefined) {
        const canonical = normalizeRecoveryCode(code)
        return canonical !== undefined && (yield* factors.consumeRecoveryCode(userId, recoveryHash(canonical)))
      }
      const factor = yield* activeFactor(factors, userId)
      if (Option.isNone(factor)) return false
      const step = yield* Totp.matchingStep(yield* openSecret(factor.value), totpCode, yield* Clock.currentTimeMillis)
      return step !== undefined && (yield* factors.acceptTotpStep({ userId, step }))
    })

  /**
   * Runs a code check on the user's re-check counter: `check` answers with what the right code gave, or `None` for
   * a wrong one, which counts as a failure and fails with `InvalidCode`; a right one clears the counter.
   */
  const throttledCode = <A, E>(user: UserRecord, check: Effect.Effect<Option.Option<A>, E>) =>
    Effect.gen(function*() {
      const attempt = yield* throttle.beginReauth(user.id)
      const result = yield* check.pipe(Effect.tapError(() => attempt.abandoned))
      if (Option.isNone(result)) {
        yield* attempt.failed
        return yield* new InvalidCode()
      }
      yield* attempt.succeeded(user)
      return result.value
    })

  const someIf = (ok: boolean): Option.Option<true> => ok ? Option.some(true) : Option.none()

  /**
   * For `login`, after the right password: `SecondFactorRequired` with a fresh challenge when the account has an
   * active factor; nothing (and no write) otherwise.
   */
  const challengeFor = (account: UserRecord): Effect.Effect<Option.Option<SecondFactorRequired>, StoreError> =>
    Option.match(deps.factors, {
      onNone: () => Effect.succeedNone,
      onSome: (factors) =>
        Effect.gen(function*() {
          if (Option.isNone(yield* activeFactor(factors, account.id))) return Option.none()
          const { token, tokenHash } = yield* tokens.issue
          const now = yield* Clock.currentTimeMillis
          const expiresAt = now + Duration.toMillis(settings.challengeTtl)
          yield* factors.insertLoginChallenge({
            tokenHash,
            userId: account.id,
            passwordVersion: account.passwordVersion,
            createdAt: now,
            expiresAt
          })
          return Option.some(new SecondFactorRequired({ challenge: token, expiresAt: new Date(expiresAt) }))
        })
    })

  const unknownChallenge = () => new InvalidChallenge({ reason: "unknown" })

  /** `completeLogin`: the challenge, then the code, then the session, the last two in one transaction. */
  const completeLogin = (input: { readonly challenge: SecretInput; readonly code: SecretInput }) =>
    Effect.gen(function*() {
      const factors = yield* factorStore
      const tokenHash = tokens.hashOf(input.challenge)
      if (tokenHash === undefined) return yield* unknownChallenge()
      const challenge = yield* factors.findLoginChallenge(tokenHash)
      if (Option.isNone(challenge)) return yield* unknownChallenge()
      const { passwordVersion, userId } = challenge.value
      if ((yield* Clock.currentTimeMillis) >= challenge.value.expiresAt) {
        yield* factors.consumeLoginChallenge(tokenHash)
        return yield* new InvalidChallenge({ reason: "expired" })
      }
      const user = yield* store.findUserById(userId)
      if (Option.isNone(user) || user.value.passwordVersion !== passwordVersion) {
        yield* factors.consumeLoginChallenge(tokenHash)
        return yield* unknownChallenge()
      }
      // Locked since the password step: the challenge proves the password, so the answer reveals nothing. A lock
      // committing later still refuses the session, in its insert's transaction (see accountLocks.ts).
      yield* deps.refuseLocked(userId)
      const code = Redacted.value(redact(input.code))
      // The challenge is consumed in the transaction that checks the code: a wrong code rolls the consumption back
      // (the user may try again, within the throttle), and of two racing completions only one gets a session.
      return yield* throttledCode(
        user.value,
        store.withTransaction(Effect.gen(function*() {
          if (Option.isNone(yield* factors.consumeLoginChallenge(tokenHash))) return yield* unknownChallenge()
          if (!(yield* acceptCode(factors, userId, code))) return yield* new InvalidCode()
          return Option.some(yield* newSessionOrVoid(userId, passwordVersion))
        })).pipe(Effect.catchTag("InvalidCode", () => Effect.succeedNone))
      )
    })

  // A password change that committed after the challenge was read voids it, as at `login`.
  const newSessionOrVoid = (userId: UserId, passwordVersion: number) =>
    deps.newSession(userId, passwordVersion).pipe(Effect.catchTag("InvalidCredentials", () => unknownChallenge()))

  /** Begins (or restarts) an enrolment: a fresh secret, stored sealed and pending. */
  const beginTotp = (user: UserRecord) =>
    Effect.gen(function*() {
      const factors = yield* factorStore
      if (Option.isSome(yield* activeFactor(factors, user.id))) return yield* new TotpAlreadyEnabled()
      const secret = yield* Totp.toBase32(yield* random.nextBytes(Totp.secretBytes))
      const stored = yield* factors.putPendingTotp({
        userId: user.id,
        secret: sealer.seal(associated(user.id), secret),
        createdAt: yield* Clock.currentTimeMillis
      })
      if (!stored) return yield* new TotpAlreadyEnabled()
      const uri = yield* Totp.uri({ issuer: settings.issuer, label: user.username, secret })
      return { secret: Redacted.make(secret), uri: Redacted.make(uri) }
    })

  /** Confirms the pending enrolment with its first code; then the ten recovery codes, once. */
  const confirmTotp = (user: UserRecord, input: SecretInput) =>
    Effect.gen(function*() {
      const factors = yield* factorStore
      const pending = Option.filter(yield* factors.findTotp(user.id), (factor) => !factor.active)
      if (Option.isNone(pending)) return yield* new TotpNotEnabled({ reason: "not-pending" })
      const secret = yield* openSecret(pending.value)
      const code = Totp.normalizeCode(Redacted.value(redact(input)))
      const now = yield* Clock.currentTimeMillis
      const step = yield* throttledCode(
        user,
        code === undefined
          ? Effect.succeedNone
          : Effect.map(Totp.matchingStep(secret, code, now), Option.fromNullable)
      )
      return yield* store.withTransaction(Effect.gen(function*() {
        const activated = yield* factors.activateTotp({
          userId: user.id,
          secret: pending.value.secret,
          step,
          now
        })
        // Restarted or confirmed meanwhile: this code belonged to a secret that is no longer pending.
        if (!activated) return yield* new TotpNotEnabled({ reason: "not-pending" })
        return yield* replaceRecoveryCodes(factors, user.id, now)
      }))
    })

  const requireActive = (factors: FactorStoreService, userId: UserId) =>
    Effect.flatMap(
      activeFactor(factors, userId),
      (factor) => Option.isNone(factor) ? Effect.fail(new TotpNotEnabled({ reason: "none" })) : Effect.void
    )

  /** Disables TOTP, after `recheck` (a password re-check, or `checkCode`): the factor and its recovery codes go. */
  const disableTotp = <E>(user: UserRecord, recheck: Effect.Effect<void, E>) =>
    Effect.gen(function*() {
      const factors = yield* factorStore
      yield* requireActive(factors, user.id)
      yield* recheck
      yield* store.withTransaction(Effect.zipRight(factors.deleteTotp(user.id), factors.deleteRecoveryCodes(user.id)))
    })

  /** A code (TOTP or recovery) as the re-check of a signed-in user, throttled. */
  const checkCode = (user: UserRecord, code: SecretInput) =>
    Effect.flatMap(
      factorStore,
      (factors) =>
        Effect.asVoid(
          throttledCode(user, Effect.map(acceptCode(factors, user.id, Redacted.value(redact(code))), someIf))
        )
    )

  /** New recovery codes replace all the old ones, after `recheck`. */
  const regenerateRecoveryCodes = <E>(user: UserRecord, recheck: Effect.Effect<void, E>) =>
    Effect.gen(function*() {
      const factors = yield* factorStore
      yield* requireActive(factors, user.id)
      yield* recheck
      return yield* replaceRecoveryCodes(factors, user.id, yield* Clock.currentTimeMillis)
    })

  /** The user's active factors, for a settings page. */
  const list = (userId: UserId): Effect.Effect<ReadonlyArray<FactorSummary>, StoreError> =>
    Option.match(deps.factors, {
      onNone: () => Effect.succeed([]),
      onSome: (factors) =>
        Effect.gen(function*() {
          const factor = yield* activeFactor(factors, userId)
          if (Option.isNone(factor)) return []
          const remaining = yield* factors.countRecoveryCodes(userId)
          const summaries: ReadonlyArray<FactorSummary> = [
            { kind: "totp", enabledAt: new Date(Option.getOrElse(factor.value.activatedAt, () => 0)) },
            { kind: "recovery-codes", remaining }
          ]
          return summaries
        })
    })

  return {
    challengeFor,
    completeLogin,
    beginTotp,
    confirmTotp,
    disableTotp,
    checkCode,
    regenerateRecoveryCodes,
    list
  }
}
