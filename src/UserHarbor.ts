/**
 * The account service: registration, email verification, login, sessions, password change and reset, and
 * account deletion, and the management of a user's sessions. Every operation is an `Effect` whose error channel
 * lists exactly what can go wrong, and a span named `UserHarbor.<operation>` whose `userharbor.outcome` attribute
 * is `ok` or the error's `_tag` (no secret is ever recorded on it). Logins and hashing are counted in `Metrics`.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import { AccountAdminStore } from "./AccountAdminStore.js"
import { CounterStore } from "./CounterStore.js"
import * as Email from "./Email.js"
import { AccountDeletedEmail, type EmailSender, PasswordResetEmail, VerificationEmail } from "./EmailSender.js"
import {
  type AccountLocked,
  type Busy,
  type EmailDeliveryError,
  type EmailNotVerified,
  type InvalidChallenge,
  type InvalidCode,
  type InvalidCredentials,
  type InvalidEmail,
  type InvalidPasskey,
  type InvalidPasskeyChallenge,
  type InvalidPasskeyName,
  InvalidSession,
  type InvalidToken,
  type InvalidUsername,
  type PasskeyNotFound,
  type SecondFactorRequired,
  SessionNotFound,
  type StoreError,
  type TooManyAttempts,
  type TotpAlreadyEnabled,
  type TotpNotEnabled,
  type UsernameTaken,
  type WeakPassword
} from "./Errors.js"
import { FactorStore } from "./FactorStore.js"
import * as AccountLocks from "./internal/accountLocks.js"
import * as Credentials from "./internal/credentials.js"
import * as Delivery from "./internal/delivery.js"
import * as Observe from "./internal/observe.js"
import * as Passkeys from "./internal/passkeys.js"
import * as Passwords from "./internal/passwords.js"
import * as Registration from "./internal/registration.js"
import * as SecondFactors from "./internal/secondFactors.js"
import { redact, type SecretInput } from "./internal/secrets.js"
import * as EventRecorder from "./internal/securityEvents.js"
import * as SessionChecks from "./internal/sessionCheck.js"
import * as SessionPolicy from "./internal/sessionPolicy.js"
import * as Sessions from "./internal/sessions.js"
import * as Throttle from "./internal/throttle.js"
import * as TokenMail from "./internal/tokenMail.js"
import * as Tokens from "./internal/tokens.js"
import * as Tracing from "./internal/tracing.js"
import type { OutboxStore } from "./OutboxStore.js"
import type * as Passkey from "./Passkey.js"
import { PasswordHasher } from "./PasswordHasher.js"
import * as PasswordPolicy from "./PasswordPolicy.js"
import { SecureRandom } from "./SecureRandom.js"
import { type Session, type SessionSummary, type User, UserId, type ValidatedSession } from "./User.js"
import { UserHarborConfig } from "./UserHarborConfig.js"
import * as Username from "./Username.js"
import { type UserRecord, UserStore } from "./UserStore.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface RegisterInput {
  readonly username: string
  readonly email: string
  readonly password: SecretInput
  /** The caller's client (an IP address, say): registrations count against it (`throttle.registerLimit`). */
  readonly clientKey?: string
}

/**
 * Log in by username or by email. `clientKey` optionally identifies the caller's client (an IP address, say):
 * failures then also count against it across all accounts, so one client cannot spray many of them.
 *
 * @since 0.1.0
 * @category models
 */
export type LoginInput =
  | { readonly username: string; readonly password: SecretInput; readonly clientKey?: string }
  | { readonly email: string; readonly password: SecretInput; readonly clientKey?: string }

/**
 * The re-check of a sensitive change by passkey instead of password: an assertion answering the options of
 * `beginPasskeyReauthentication`, signed by one of the signed-in user's passkeys.
 *
 * @since 0.3.0
 * @category models
 */
export interface PasskeyReauthentication {
  readonly passkey: Passkey.AuthenticationResponse
}

/**
 * The current password (`oldPassword`) or, for an account with passkeys, a passkey assertion (`passkey`).
 *
 * @since 0.1.0
 * @category models
 */
export type ChangePasswordInput = ChangePasswordWithPassword | ChangePasswordWithPasskey

/**
 * @since 0.3.0
 * @category models
 */
export interface ChangePasswordWithPassword {
  readonly sessionToken: SecretInput
  readonly oldPassword: SecretInput
  readonly newPassword: SecretInput
  readonly passkey?: never
}

/**
 * @since 0.3.0
 * @category models
 */
export interface ChangePasswordWithPasskey extends PasskeyReauthentication {
  readonly sessionToken: SecretInput
  readonly newPassword: SecretInput
  readonly oldPassword?: never
}

/**
 * @since 0.1.0
 * @category models
 */
export interface ResetPasswordInput {
  readonly token: SecretInput
  readonly newPassword: SecretInput
}

/**
 * The password (`password`) or, for an account with passkeys, a passkey assertion (`passkey`).
 *
 * @since 0.1.0
 * @category models
 */
export type DeleteAccountInput = DeleteAccountWithPassword | DeleteAccountWithPasskey

/**
 * @since 0.3.0
 * @category models
 */
export interface DeleteAccountWithPassword {
  readonly sessionToken: SecretInput
  readonly password: SecretInput
  readonly passkey?: never
}

/**
 * @since 0.3.0
 * @category models
 */
export interface DeleteAccountWithPasskey extends PasskeyReauthentication {
  readonly sessionToken: SecretInput
  readonly password?: never
}

// What a passkey re-check can fail with, in place of the password's `InvalidCredentials | TooManyAttempts | Busy`.
type PasskeyRecheckError = InvalidPasskey | InvalidPasskeyChallenge

/**
 * @since 0.3.0
 * @category models
 */
export interface FinishPasskeyRegistrationInput {
  readonly sessionToken: SecretInput
  readonly response: Passkey.RegistrationResponse
  /** The user's label for it ("Phone", "YubiKey"): 1 to 64 characters. */
  readonly name: string
}

/**
 * The second step of a login that failed with `SecondFactorRequired`: its challenge, and a code of the account's
 * authenticator app or one of its unused recovery codes.
 *
 * @since 0.3.0
 * @category models
 */
export interface CompleteLoginInput {
  readonly challenge: SecretInput
  readonly code: SecretInput
}

/**
 * A signed-in user's request to start TOTP enrolment, with the password re-checked (a stolen session must not be
 * able to put its own authenticator on the account).
 *
 * @since 0.3.0
 * @category models
 */
export interface BeginTotpEnrollmentInput {
  readonly sessionToken: SecretInput
  readonly password: SecretInput
}

/**
 * What an authenticator app needs: the secret (base32, for typing in) and the `otpauth://totp/…` URI (for a QR
 * code). Show them once, to the signed-in user only; the enrolment is pending until `confirmTotpEnrollment`.
 *
 * @since 0.3.0
 * @category models
 */
export interface TotpEnrollment {
  readonly secret: Redacted.Redacted<string>
  readonly uri: Redacted.Redacted<string>
}

/**
 * @since 0.3.0
 * @category models
 */
export interface ConfirmTotpEnrollmentInput {
  readonly sessionToken: SecretInput
  /** The code the authenticator app shows now. */
  readonly code: SecretInput
}

/**
 * Ten single-use recovery codes (`xxxxx-xxxxx`), each standing in for one TOTP code. Stored only as HMACs: show
 * them to the user once.
 *
 * @since 0.3.0
 * @category models
 */
export type RecoveryCodes = ReadonlyArray<Redacted.Redacted<string>>

/**
 * Disabling TOTP needs the password re-checked, or a current code (TOTP or recovery).
 *
 * @since 0.3.0
 * @category models
 */
export type DisableTotpInput =
  | { readonly sessionToken: SecretInput; readonly password: SecretInput }
  | { readonly sessionToken: SecretInput; readonly code: SecretInput }

/**
 * @since 0.3.0
 * @category models
 */
export interface RegenerateRecoveryCodesInput {
  readonly sessionToken: SecretInput
  readonly password: SecretInput
}

/**
 * One of the signed-in user's second factors, as `listFactors` shows it. Recovery codes are listed with TOTP,
 * with how many are left unused.
 *
 * @since 0.3.0
 * @category models
 */
export type FactorSummary =
  | { readonly kind: "totp"; readonly enabledAt: Date }
  | { readonly kind: "recovery-codes"; readonly remaining: number }

/**
 * The outcome of a session check from `SessionChecker`: the validated session, or the error `validateSession`
 * fails with.
 *
 * @since 0.1.0
 * @category models
 */
export type SessionCheck =
  | { readonly ok: true; readonly value: ValidatedSession }
  | { readonly ok: false; readonly error: InvalidSession | StoreError }

/**
 * `validateSession` as a plain function, run on the runtime it was taken from (its tracer, its services). It is
 * exactly `validateSession` (the same expiry rules, renewal and last-use writes, deletion of an expired session,
 * errors, spans), run synchronously: when the store answers at once, as SQLite's session reader does, so does the
 * checker, with no promise and no scheduler turn. When the check has to wait (a store on the network, or a renewal
 * write queued behind a transaction on SQLite's single writer connection), it returns a promise of the same
 * result, so `await check(token)` is right everywhere. A defect is thrown (or the promise rejected).
 *
 * @since 0.1.0
 * @category models
 */
export type SessionChecker = (sessionToken: SecretInput) => SessionCheck | Promise<SessionCheck>

/**
 * The shape of the `UserHarbor` service, apart from its tag.
 *
 * @since 0.3.0
 * @category models
 */
export interface UserHarborService {
  readonly register: (
    input: RegisterInput
  ) => Effect.Effect<
    void,
    | InvalidUsername
    | InvalidEmail
    | WeakPassword
    | UsernameTaken
    | TooManyAttempts
    | EmailDeliveryError
    | Busy
    | StoreError
  >
  readonly verifyEmail: (token: SecretInput) => Effect.Effect<void, InvalidToken | StoreError>
  readonly resendVerification: (email: string) => Effect.Effect<void, InvalidEmail | EmailDeliveryError | StoreError>
  /**
   * Fails with `SecondFactorRequired` (not a session) after the right password of an account with an active second
   * factor; finish with `completeLogin`. Accounts without one log in as before. `AccountLocked`, like
   * `EmailNotVerified`, comes only after the right password.
   */
  readonly login: (
    input: LoginInput
  ) => Effect.Effect<
    Session,
    InvalidCredentials | EmailNotVerified | AccountLocked | SecondFactorRequired | TooManyAttempts | Busy | StoreError
  >
  readonly verifySession: (sessionToken: SecretInput) => Effect.Effect<boolean, StoreError>
  readonly validateSession: (sessionToken: SecretInput) => Effect.Effect<ValidatedSession, InvalidSession | StoreError>
  readonly getCurrentUser: (sessionToken: SecretInput) => Effect.Effect<User, InvalidSession | StoreError>
  readonly logout: (sessionToken: SecretInput) => Effect.Effect<void, InvalidSession | StoreError>
  readonly logoutAll: (sessionToken: SecretInput) => Effect.Effect<void, InvalidSession | StoreError>
  /** With a passkey (see `beginPasskeyReauthentication`) or, the last overload, with the current password. */
  readonly changePassword: {
    (input: ChangePasswordWithPasskey): Effect.Effect<
      Session,
      InvalidSession | PasskeyRecheckError | WeakPassword | Busy | StoreError
    >
    (input: ChangePasswordWithPassword): Effect.Effect<
      Session,
      InvalidSession | InvalidCredentials | TooManyAttempts | WeakPassword | Busy | StoreError
    >
  }
  readonly sendPasswordReset: (email: string) => Effect.Effect<void, InvalidEmail | EmailDeliveryError | StoreError>
  readonly resetPassword: (
    input: ResetPasswordInput
  ) => Effect.Effect<void, InvalidToken | WeakPassword | Busy | StoreError>
  /** With a passkey (see `beginPasskeyReauthentication`) or, the last overload, with the password. */
  readonly deleteAccount: {
    (input: DeleteAccountWithPasskey): Effect.Effect<void, InvalidSession | PasskeyRecheckError | Busy | StoreError>
    (input: DeleteAccountWithPassword): Effect.Effect<
      void,
      InvalidSession | InvalidCredentials | TooManyAttempts | Busy | StoreError
    >
  }

  // session management
  /** The caller's live sessions, oldest first, the one `sessionToken` belongs to marked `current`. */
  readonly listSessions: (
    sessionToken: SecretInput
  ) => Effect.Effect<ReadonlyArray<SessionSummary>, InvalidSession | StoreError>
  /** Ends one of the caller's own sessions (the current one too); any other id is `SessionNotFound`. */
  readonly revokeSession: (
    sessionToken: SecretInput,
    sessionId: string
  ) => Effect.Effect<void, InvalidSession | SessionNotFound | StoreError>
  /** Ends every session of the caller but the current one, and returns how many it ended. */
  readonly revokeOtherSessions: (sessionToken: SecretInput) => Effect.Effect<number, InvalidSession | StoreError>

  // passkeys (need `UserHarborConfig`'s `passkeys` and a store providing `FactorStore`; without them, a defect)
  /** Options for `navigator.credentials.create()`, with a single-use challenge for the signed-in user. */
  readonly beginPasskeyRegistration: (
    sessionToken: SecretInput
  ) => Effect.Effect<Passkey.CreationOptions, InvalidSession | StoreError>
  /** Verifies the browser's response and stores the passkey under the user's name for it. */
  readonly finishPasskeyRegistration: (
    input: FinishPasskeyRegistrationInput
  ) => Effect.Effect<
    Passkey.PasskeySummary,
    InvalidSession | InvalidPasskeyName | InvalidPasskey | InvalidPasskeyChallenge | StoreError
  >
  /** The caller's passkeys, oldest first. */
  readonly listPasskeys: (
    sessionToken: SecretInput
  ) => Effect.Effect<ReadonlyArray<Passkey.PasskeySummary>, InvalidSession | StoreError>
  readonly renamePasskey: (
    sessionToken: SecretInput,
    passkeyId: string,
    name: string
  ) => Effect.Effect<void, InvalidSession | InvalidPasskeyName | PasskeyNotFound | StoreError>
  readonly removePasskey: (
    sessionToken: SecretInput,
    passkeyId: string
  ) => Effect.Effect<void, InvalidSession | PasskeyNotFound | StoreError>
  /** Options for a usernameless `navigator.credentials.get()`, with a single-use challenge. */
  readonly beginPasskeyLogin: () => Effect.Effect<Passkey.RequestOptions, StoreError>
  /** Signs in with a passkey alone (it is multi-factor): the session `login` would create. */
  readonly finishPasskeyLogin: (
    response: Passkey.AuthenticationResponse
  ) => Effect.Effect<
    Session,
    InvalidPasskey | InvalidPasskeyChallenge | EmailNotVerified | AccountLocked | StoreError
  >
  /** Options for the passkey re-check that `changePassword` and `deleteAccount` accept instead of a password. */
  readonly beginPasskeyReauthentication: (
    sessionToken: SecretInput
  ) => Effect.Effect<Passkey.RequestOptions, InvalidSession | StoreError>
  // second factors (docs/second-factors.md)
  /** The second step of a login that failed with `SecondFactorRequired`: the session, for the right code. */
  readonly completeLogin: (
    input: CompleteLoginInput
  ) => Effect.Effect<Session, InvalidChallenge | InvalidCode | AccountLocked | TooManyAttempts | StoreError>
  /** Starts (or restarts) TOTP enrolment: a fresh secret, pending until confirmed with a first code. */
  readonly beginTotpEnrollment: (
    input: BeginTotpEnrollmentInput
  ) => Effect.Effect<
    TotpEnrollment,
    InvalidSession | InvalidCredentials | TooManyAttempts | TotpAlreadyEnabled | Busy | StoreError
  >
  /** Activates the pending enrolment with a first valid code, and returns the ten recovery codes, once. */
  readonly confirmTotpEnrollment: (
    input: ConfirmTotpEnrollmentInput
  ) => Effect.Effect<RecoveryCodes, InvalidSession | TotpNotEnabled | InvalidCode | TooManyAttempts | StoreError>
  /** Removes TOTP and its recovery codes: logins need the password alone again. */
  readonly disableTotp: (
    input: DisableTotpInput
  ) => Effect.Effect<
    void,
    InvalidSession | TotpNotEnabled | InvalidCredentials | InvalidCode | TooManyAttempts | Busy | StoreError
  >
  /** Ten new recovery codes, replacing all the old ones, used or not. */
  readonly regenerateRecoveryCodes: (
    input: RegenerateRecoveryCodesInput
  ) => Effect.Effect<
    RecoveryCodes,
    InvalidSession | TotpNotEnabled | InvalidCredentials | TooManyAttempts | Busy | StoreError
  >
  /** The caller's active second factors. */
  readonly listFactors: (
    sessionToken: SecretInput
  ) => Effect.Effect<ReadonlyArray<FactorSummary>, InvalidSession | StoreError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class UserHarbor extends Context.Tag("userharbor/UserHarbor")<UserHarbor, UserHarborService>() {}

/**
 * The service as `layerOutbox` builds it: every message goes through the email outbox, so no operation can fail
 * with `EmailDeliveryError` and the error channels say so. `layerOutbox` provides the same service under
 * `UserHarbor` too, for code written against the general tag.
 *
 * @since 0.1.0
 * @category models
 */
export type OutboxService = {
  readonly [
    // Overloaded, and neither sends mail: as they are (a mapped signature would keep only the last overload).
    K in keyof UserHarborService
  ]: K extends "changePassword" | "deleteAccount" ? UserHarborService[K]
    : UserHarborService[K] extends (...args: infer A) => Effect.Effect<infer X, infer E, infer R>
      ? (...args: A) => Effect.Effect<X, Exclude<E, EmailDeliveryError>, R>
    : UserHarborService[K]
}

/**
 * The account service in outbox mode (see `layerOutbox`).
 *
 * @since 0.1.0
 * @category tags
 */
export class UserHarborOutbox extends Context.Tag("userharbor/UserHarborOutbox")<UserHarborOutbox, OutboxService>() {}

// The operations for one delivery mode; `E` is what handing a message over can fail with.
const build = <E, R>(makeDelivery: Effect.Effect<Delivery.Delivery<E>, never, R>) =>
  Effect.gen(function*() {
    const delivery = yield* makeDelivery
    const store = yield* UserStore
    const hasher = Observe.timedHasher(yield* PasswordHasher)
    const config = yield* UserHarborConfig
    const tokens = Tokens.make(config.secretKey, yield* SecureRandom)
    const strict = config.enumeration === "strict"
    const policy = config.passwordPolicy
    const throttle = Throttle.make(yield* CounterStore, store, config.throttle, tokens.digest, config.enumeration)
    const credentials = yield* Credentials.make({ store, hasher, throttle, tokens, strict, policy })
    const { admit, reauthenticate } = credentials
    // Decoy requests clear this id's tokens, a write that matches nothing but costs what a real token write does.
    const decoyUserId = UserId.make(yield* tokens.newId)
    const recorder = yield* EventRecorder.fromContext
    // Optional, like the factor port: a store without it has no locks (see internal/accountLocks.ts).
    const locks = AccountLocks.make({ locks: yield* Effect.serviceOption(AccountAdminStore), recorder })
    const sessions = Sessions.make({ store, tokens, policy: SessionPolicy.fromSettings(config), guard: locks.guard })
    const { checkSession, fullUser, newSession } = sessions
    // A login's session. A lock that committed while the login ran refuses it in the insert's transaction; the
    // refusal is recorded after the rollback.
    const loginSession = (userId: UserId, passwordVersion: number | undefined, details: EventRecorder.Details) =>
      Effect.tapErrorTag(newSession(userId, passwordVersion), "AccountLocked", () => locks.refused(userId, details))
    const { findByEmail, presented, tokenMail } = TokenMail.make({ store, tokens, throttle, delivery, decoyUserId })
    const registration = Registration.make({ store, throttle, tokens, delivery, config, decoyUserId })
    // A signed-in user's new session: a lock that committed meanwhile has ended the session being changed.
    const passwords = Passwords.make({
      store,
      throttle,
      delivery,
      newSession: (userId) =>
        Effect.catchTag(newSession(userId), "AccountLocked", () => new InvalidSession({ reason: "unknown" }))
    })
    // Optional, so a store written before 0.3.0 (without the port) keeps working; see internal/secondFactors.ts.
    const factorStore = yield* Effect.serviceOption(FactorStore)
    const passkeys = yield* Passkeys.make({
      factors: factorStore,
      settings: config.passkeys,
      store,
      tokens,
      checkSession,
      // Without a password version the insert is unconditional: `InvalidCredentials` cannot happen.
      newSession: (userId) => Effect.catchTag(loginSession(userId, undefined, {}), "InvalidCredentials", Effect.die)
    })
    // The password, throttled, or a passkey assertion (nothing to guess: a signature cannot be brute-forced).
    const recheck = (
      input: ChangePasswordInput | DeleteAccountInput,
      password: SecretInput | undefined,
      user: UserRecord
    ) =>
      input.passkey === undefined || password !== undefined
        ? reauthenticate(password ?? "", user)
        : passkeys.reauthenticate(input.passkey, user.id)
    const factors = SecondFactors.make({
      store,
      factors: factorStore,
      tokens,
      random: yield* SecureRandom,
      throttle,
      secretKey: config.secretKey,
      settings: config.secondFactor,
      newSession,
      refuseLocked: (userId) => locks.refuse(userId, {})
    })
    // The signed-in user as stored, for the operations that re-check a password or a code.
    const signedIn = (sessionToken: SecretInput) =>
      Effect.flatMap(checkSession(sessionToken), ({ user }) => fullUser(user))

    // Session checks run on every request: spans only under an installed tracer (see internal/tracing.ts).
    const validateSession = Tracing.fn("UserHarbor.validateSession", sessions.validate, Observe.withOutcome)
    if (sessions.shortcut !== undefined) SessionChecks.registerShortcut(validateSession, sessions.shortcut)

    const changePasswordEither = Effect.fn("UserHarbor.changePassword")(
      function*(input: ChangePasswordInput) {
        const user = yield* fullUser((yield* checkSession(input.sessionToken)).user)
        yield* recheck(input, input.oldPassword, user)
        const passwordHash = yield* credentials.hashNewPassword(input.newPassword, user)
        const [session, afterCommit] = yield* store.withTransaction(passwords.change(user, passwordHash))
        yield* afterCommit
        return session
      },
      admit,
      Observe.withOutcome
    )
    // The service's overloads: each form of the re-check with its own errors.
    function changePassword(input: ChangePasswordWithPasskey): Effect.Effect<
      Session,
      InvalidSession | PasskeyRecheckError | WeakPassword | Busy | StoreError
    >
    function changePassword(input: ChangePasswordWithPassword): Effect.Effect<
      Session,
      InvalidSession | InvalidCredentials | TooManyAttempts | WeakPassword | Busy | StoreError
    >
    function changePassword(input: ChangePasswordInput) {
      return changePasswordEither(input)
    }

    const deleteAccountEither = Effect.fn("UserHarbor.deleteAccount")(
      function*(input: DeleteAccountInput) {
        const user = yield* fullUser((yield* checkSession(input.sessionToken)).user)
        yield* recheck(input, input.password, user)
        // The notice is written with the deletion: outbox rows belong to no user, so it outlives the account.
        const afterCommit = yield* store.withTransaction(
          Effect.zipRight(
            store.deleteUser(user.id),
            delivery.notice(new AccountDeletedEmail({ to: Delivery.recipient(user) }))
          )
        )
        yield* afterCommit
      },
      admit,
      Observe.withOutcome
    )
    function deleteAccount(
      input: DeleteAccountWithPasskey
    ): Effect.Effect<void, InvalidSession | PasskeyRecheckError | Busy | StoreError>
    function deleteAccount(
      input: DeleteAccountWithPassword
    ): Effect.Effect<void, InvalidSession | InvalidCredentials | TooManyAttempts | Busy | StoreError>
    function deleteAccount(input: DeleteAccountInput) {
      return deleteAccountEither(input)
    }

    return {
      register: Effect.fn("UserHarbor.register")(function*(input: RegisterInput) {
        const username = yield* Username.validate(input.username)
        const email = yield* Email.validate(input.email)
        const password = yield* PasswordPolicy.check(policy, redact(input.password), {
          username: username.display,
          email: email.address
        })
        return yield* admit(Effect.gen(function*() {
          // Before the hash: a throttled registration costs no argon2 work.
          yield* throttle.register(email.key, input.clientKey)
          // Slow: before the transaction, so it never holds a connection.
          const passwordHash = yield* hasher.hash(password)
          const afterCommit = yield* registration.create(username, email, passwordHash)
          yield* afterCommit
        }))
      }, Observe.withOutcome),

      verifyEmail: Effect.fn("UserHarbor.verifyEmail")(function*(token: SecretInput) {
        const tokenHash = yield* presented("verify-email", token)
        const outcome = yield* store.withTransaction(registration.verify(tokenHash))
        yield* TokenMail.consumeIn("verify-email")(outcome)
      }, Observe.withOutcome),

      resendVerification: Effect.fn("UserHarbor.resendVerification")(function*(email: string) {
        // A verified account gets a decoy too: otherwise the time would tell unverified accounts from the rest.
        const { address, user } = yield* findByEmail(email)
        const unverified = registration.awaitingVerification(user, yield* Clock.currentTimeMillis)
        const ttl = config.verificationTokenTtl
        yield* tokenMail(unverified, address, "verify-email", ttl, (fields) => new VerificationEmail(fields))
      }, Observe.withOutcome),

      login: Effect.fn("UserHarbor.login")(
        function*(input: LoginInput) {
          return yield* admit(Effect.gen(function*() {
            const account = yield* credentials.checkLogin(input)
            const details = { clientKey: input.clientKey }
            // After the right password (a wrong one failed above), before anything is handed out.
            yield* locks.refuse(account.id, details)
            const challenge = yield* factors.challengeFor(account)
            if (Option.isSome(challenge)) {
              yield* credentials.upgradeHash(input.password, account)
              return yield* challenge.value
            }
            const session = yield* loginSession(account.id, account.passwordVersion, details)
            yield* credentials.upgradeHash(input.password, account)
            return session
          }))
        },
        Observe.countLogin,
        Observe.withOutcome
      ),

      verifySession: Tracing.fn(
        "UserHarbor.verifySession",
        (sessionToken: SecretInput) =>
          Effect.catchAll(Effect.as(validateSession(sessionToken), true), Sessions.falseOnInvalid),
        Observe.withOutcome
      ),

      validateSession,

      getCurrentUser: Tracing.fn(
        "UserHarbor.getCurrentUser",
        (sessionToken: SecretInput) => Effect.map(validateSession(sessionToken), Sessions.userOf),
        Observe.withOutcome
      ),

      logout: Effect.fn("UserHarbor.logout")(function*(sessionToken: SecretInput) {
        const { tokenHash } = yield* checkSession(sessionToken)
        yield* store.deleteSession(tokenHash)
      }, Observe.withOutcome),

      logoutAll: Effect.fn("UserHarbor.logoutAll")(function*(sessionToken: SecretInput) {
        const { user } = yield* checkSession(sessionToken)
        yield* store.deleteUserSessions(user.id)
      }, Observe.withOutcome),

      changePassword,

      sendPasswordReset: Effect.fn("UserHarbor.sendPasswordReset")(function*(email: string) {
        const { address, user } = yield* findByEmail(email)
        const ttl = config.resetTokenTtl
        yield* tokenMail(user, address, "reset-password", ttl, (fields) => new PasswordResetEmail(fields))
      }, Observe.withOutcome),

      resetPassword: Effect.fn("UserHarbor.resetPassword")(
        function*(input: ResetPasswordInput) {
          const tokenHash = yield* presented("reset-password", input.token)
          const user = yield* passwords.resetTarget(tokenHash)
          const passwordHash = yield* credentials.hashNewPassword(input.newPassword, user)
          const [outcome, afterCommit] = yield* store.withTransaction(passwords.reset(tokenHash, user, passwordHash))
          yield* TokenMail.consumeIn("reset-password")(outcome)
          yield* afterCommit
        },
        admit,
        Observe.withOutcome
      ),

      deleteAccount,

      listSessions: Effect.fn("UserHarbor.listSessions")(function*(sessionToken: SecretInput) {
        const { now, tokenHash, user } = yield* checkSession(sessionToken)
        return sessions.summaries(yield* store.listUserSessions(user.id), now, tokenHash)
      }, Observe.withOutcome),

      revokeSession: Effect.fn("UserHarbor.revokeSession")(function*(sessionToken: SecretInput, sessionId: string) {
        const { user } = yield* checkSession(sessionToken)
        if (!(yield* sessions.revoke(user.id, sessionId))) return yield* new SessionNotFound()
      }, Observe.withOutcome),

      revokeOtherSessions: Effect.fn("UserHarbor.revokeOtherSessions")(function*(sessionToken: SecretInput) {
        const { tokenHash, user } = yield* checkSession(sessionToken)
        return yield* store.deleteOtherUserSessions(user.id, tokenHash)
      }, Observe.withOutcome),

      beginPasskeyRegistration: Effect.fn("UserHarbor.beginPasskeyRegistration")(
        (sessionToken: SecretInput) => passkeys.beginRegistration(sessionToken),
        Observe.withOutcome
      ),

      finishPasskeyRegistration: Effect.fn("UserHarbor.finishPasskeyRegistration")(
        (input: FinishPasskeyRegistrationInput) =>
          passkeys.finishRegistration(input.sessionToken, input.response, input.name),
        Observe.withOutcome
      ),

      listPasskeys: Effect.fn("UserHarbor.listPasskeys")(
        (sessionToken: SecretInput) => passkeys.list(sessionToken),
        Observe.withOutcome
      ),

      renamePasskey: Effect.fn("UserHarbor.renamePasskey")(
        (sessionToken: SecretInput, passkeyId: string, name: string) => passkeys.rename(sessionToken, passkeyId, name),
        Observe.withOutcome
      ),

      removePasskey: Effect.fn("UserHarbor.removePasskey")(
        (sessionToken: SecretInput, passkeyId: string) => passkeys.remove(sessionToken, passkeyId),
        Observe.withOutcome
      ),

      beginPasskeyLogin: Effect.fn("UserHarbor.beginPasskeyLogin")(() => passkeys.beginLogin, Observe.withOutcome),

      finishPasskeyLogin: Effect.fn("UserHarbor.finishPasskeyLogin")(
        (response: Passkey.AuthenticationResponse) => passkeys.finishLogin(response),
        Observe.countLogin,
        Observe.withOutcome
      ),

      completeLogin: Effect.fn("UserHarbor.completeLogin")(
        (input: CompleteLoginInput) => factors.completeLogin(input),
        Observe.countLogin,
        Observe.withOutcome
      ),

      beginPasskeyReauthentication: Effect.fn("UserHarbor.beginPasskeyReauthentication")(
        (sessionToken: SecretInput) => passkeys.beginReauthentication(sessionToken),
        Observe.withOutcome
      ),

      beginTotpEnrollment: Effect.fn("UserHarbor.beginTotpEnrollment")(
        function*(input: BeginTotpEnrollmentInput) {
          const user = yield* signedIn(input.sessionToken)
          yield* reauthenticate(input.password, user)
          return yield* factors.beginTotp(user)
        },
        admit,
        Observe.withOutcome
      ),

      confirmTotpEnrollment: Effect.fn("UserHarbor.confirmTotpEnrollment")(
        function*(input: ConfirmTotpEnrollmentInput) {
          return yield* factors.confirmTotp(yield* signedIn(input.sessionToken), input.code)
        },
        Observe.withOutcome
      ),

      disableTotp: Effect.fn("UserHarbor.disableTotp")(
        function*(input: DisableTotpInput) {
          const user = yield* signedIn(input.sessionToken)
          const recheck: Effect.Effect<void, InvalidCredentials | InvalidCode | TooManyAttempts | Busy | StoreError> =
            "password" in input ? reauthenticate(input.password, user) : factors.checkCode(user, input.code)
          yield* factors.disableTotp(user, recheck)
        },
        admit,
        Observe.withOutcome
      ),

      regenerateRecoveryCodes: Effect.fn("UserHarbor.regenerateRecoveryCodes")(
        function*(input: RegenerateRecoveryCodesInput) {
          const user = yield* signedIn(input.sessionToken)
          return yield* factors.regenerateRecoveryCodes(user, reauthenticate(input.password, user))
        },
        admit,
        Observe.withOutcome
      ),

      listFactors: Effect.fn("UserHarbor.listFactors")(function*(sessionToken: SecretInput) {
        const { user } = yield* checkSession(sessionToken)
        return yield* factors.list(user.id)
      }, Observe.withOutcome)
    }
  })

/**
 * Builds the service from its ports, in inline mode: a message is sent through the `EmailSender` right after the
 * transaction commits, and a failed delivery fails `register`, `resendVerification` and `sendPasswordReset` with
 * `EmailDeliveryError`. It does one argon2 hash while building, for the dummy hash that login checks unknown users
 * against, so unknown and known users cost the same.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<
  UserHarborService,
  never,
  UserStore | CounterStore | EmailSender | PasswordHasher | SecureRandom | UserHarborConfig
> = Effect.map(build(Delivery.inline), UserHarbor.of)

/**
 * Builds the service in outbox mode: every message is written, encrypted, to the email outbox in the same
 * transaction as the data it is about, and `OutboxWorker` delivers it. No operation waits for the mail server or
 * fails with `EmailDeliveryError`, and requests about unknown addresses write a decoy row, so they cost what
 * requests about real accounts cost.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeOutbox: Effect.Effect<
  OutboxService,
  never,
  UserStore | CounterStore | OutboxStore | PasswordHasher | SecureRandom | UserHarborConfig
> = Effect.map(build(Delivery.outbox), UserHarborOutbox.of)

/**
 * Inline mode (see `make`): the simplest wiring, no worker needed.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<
  UserHarbor,
  never,
  UserStore | CounterStore | EmailSender | PasswordHasher | SecureRandom | UserHarborConfig
> = Layer.effect(UserHarbor, make)

/**
 * Outbox mode (see `makeOutbox`), under both tags: `UserHarborOutbox` with the exact error channels, `UserHarbor`
 * for code written against the general one. Add `OutboxWorker.layer` to deliver the messages; it needs the
 * `EmailSender`, this layer does not.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerOutbox: Layer.Layer<
  UserHarbor | UserHarborOutbox,
  never,
  UserStore | CounterStore | OutboxStore | PasswordHasher | SecureRandom | UserHarborConfig
> = Layer.effectContext(
  Effect.map(makeOutbox, (service) => Context.make(UserHarborOutbox, service).pipe(Context.add(UserHarbor, service)))
)

/**
 * The service's `validateSession` as a plain function for servers written without Effect, on the runtime it is
 * taken from: build it once at start-up, then call it per request.
 *
 * ```ts
 * const check = await runtime.runPromise(UserHarbor.sessionChecker)
 * const result = await check(token) // synchronous on SQLite: `await` is for stores that have to wait
 * if (result.ok) console.log(result.value.user.username)
 * ```
 *
 * See `SessionChecker` for what it does and when it answers synchronously.
 *
 * @since 0.1.0
 * @category accessors
 */
export const sessionChecker: Effect.Effect<SessionChecker, never, UserHarbor> = Effect.zipWith(
  UserHarbor,
  Effect.runtime<never>(),
  (harbor, runtime) => SessionChecks.checker(runtime, harbor.validateSession)
)
