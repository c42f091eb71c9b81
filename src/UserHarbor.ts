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
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { CounterStore } from "./CounterStore.js"
import * as Email from "./Email.js"
import {
  AccountDeletedEmail,
  type EmailMessage,
  type EmailSender,
  PasswordChangedEmail,
  PasswordResetEmail,
  type Recipient,
  RegistrationAttemptEmail,
  VerificationEmail
} from "./EmailSender.js"
import {
  type Busy,
  type EmailDeliveryError,
  EmailNotVerified,
  type EmailTaken,
  InvalidCredentials,
  type InvalidEmail,
  InvalidSession,
  InvalidToken,
  type InvalidUsername,
  SessionNotFound,
  type StoreError,
  type TokenPurpose,
  type TooManyAttempts,
  type UsernameTaken,
  type WeakPassword
} from "./Errors.js"
import * as Delivery from "./internal/delivery.js"
import * as Observe from "./internal/observe.js"
import { redact, type SecretInput } from "./internal/secrets.js"
import * as SessionChecks from "./internal/sessionCheck.js"
import * as SessionPolicy from "./internal/sessionPolicy.js"
import * as SyncLookup from "./internal/syncLookup.js"
import * as Throttle from "./internal/throttle.js"
import * as Tokens from "./internal/tokens.js"
import * as Tracing from "./internal/tracing.js"
import type { OutboxStore } from "./OutboxStore.js"
import { PasswordHasher } from "./PasswordHasher.js"
import * as PasswordPolicy from "./PasswordPolicy.js"
import { SecureRandom } from "./SecureRandom.js"
import { type Session, SessionId, type SessionSummary, User, UserId, type ValidatedSession } from "./User.js"
import { UserHarborConfig } from "./UserHarborConfig.js"
import * as Username from "./Username.js"
import {
  EmailKey,
  type SessionUser,
  type SessionWithUser,
  type TokenHash,
  type UserRecord,
  UserStore
} from "./UserStore.js"

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
 * @since 0.1.0
 * @category models
 */
export interface ChangePasswordInput {
  readonly sessionToken: SecretInput
  readonly oldPassword: SecretInput
  readonly newPassword: SecretInput
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
 * @since 0.1.0
 * @category models
 */
export interface DeleteAccountInput {
  readonly sessionToken: SecretInput
  readonly password: SecretInput
}

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
 * @since 0.1.0
 * @category tags
 */
export class UserHarbor extends Context.Tag("userharbor/UserHarbor")<UserHarbor, {
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
  readonly login: (
    input: LoginInput
  ) => Effect.Effect<Session, InvalidCredentials | EmailNotVerified | TooManyAttempts | Busy | StoreError>
  readonly verifySession: (sessionToken: SecretInput) => Effect.Effect<boolean, StoreError>
  readonly validateSession: (sessionToken: SecretInput) => Effect.Effect<ValidatedSession, InvalidSession | StoreError>
  readonly getCurrentUser: (sessionToken: SecretInput) => Effect.Effect<User, InvalidSession | StoreError>
  readonly logout: (sessionToken: SecretInput) => Effect.Effect<void, InvalidSession | StoreError>
  readonly logoutAll: (sessionToken: SecretInput) => Effect.Effect<void, InvalidSession | StoreError>
  readonly changePassword: (
    input: ChangePasswordInput
  ) => Effect.Effect<
    Session,
    InvalidSession | InvalidCredentials | TooManyAttempts | WeakPassword | Busy | StoreError
  >
  readonly sendPasswordReset: (email: string) => Effect.Effect<void, InvalidEmail | EmailDeliveryError | StoreError>
  readonly resetPassword: (
    input: ResetPasswordInput
  ) => Effect.Effect<void, InvalidToken | WeakPassword | Busy | StoreError>
  readonly deleteAccount: (
    input: DeleteAccountInput
  ) => Effect.Effect<void, InvalidSession | InvalidCredentials | TooManyAttempts | Busy | StoreError>

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
}>() {}

/**
 * The service as `layerOutbox` builds it: every message goes through the email outbox, so no operation can fail
 * with `EmailDeliveryError` and the error channels say so. `layerOutbox` provides the same service under
 * `UserHarbor` too, for code written against the general tag.
 *
 * @since 0.1.0
 * @category models
 */
export type OutboxService = {
  readonly [K in keyof UserHarbor["Type"]]: UserHarbor["Type"][K] extends
    (...args: infer A) => Effect.Effect<infer X, infer E, infer R>
    ? (...args: A) => Effect.Effect<X, Exclude<E, EmailDeliveryError>, R>
    : UserHarbor["Type"][K]
}

/**
 * The account service in outbox mode (see `layerOutbox`).
 *
 * @since 0.1.0
 * @category tags
 */
export class UserHarborOutbox extends Context.Tag("userharbor/UserHarborOutbox")<UserHarborOutbox, OutboxService>() {}

// The record's fields are typed already; re-validating them costs a tenth of a session check (docs/performance.md).
const toUser = (record: SessionUser): User =>
  new User({
    id: record.id,
    username: record.username,
    email: record.email,
    verified: record.verified,
    createdAt: new Date(record.createdAt)
  }, true)

const recipient = (record: UserRecord): Recipient => ({ username: record.username, email: record.email })

const succeedFalse = Effect.succeed(false)
const falseOnInvalid = (error: InvalidSession | StoreError): Effect.Effect<boolean, StoreError> =>
  error._tag === "InvalidSession" ? succeedFalse : Effect.fail(error)
const userOf = (validated: ValidatedSession) => validated.user

// What a transaction decided; failures that must not undo the transaction's own writes (an expired token is
// removed, and that removal must persist) are raised after it commits.
type TokenOutcome = "ok" | "unknown" | "expired"

// The operations for one delivery mode; `E` is what handing a message over can fail with.
const build = <E, R>(makeDelivery: Effect.Effect<Delivery.Delivery<E>, never, R>) =>
  Effect.gen(function*() {
    const delivery = yield* makeDelivery
    const store = yield* UserStore
    const hasher = Observe.timedHasher(yield* PasswordHasher)
    const config = yield* UserHarborConfig
    const tokens = Tokens.make(config.secretKey, yield* SecureRandom)
    // A bounded hasher shared with running traffic may be busy; building waits for it rather than failing.
    const dummyHash = yield* Effect.eventually(
      Effect.flatMap(tokens.newId, (id) => hasher.hash(Redacted.make(id))).pipe(
        Effect.tapError(() => Effect.sleep("50 millis"))
      )
    )
    const strict = config.enumeration === "strict"
    const throttle = Throttle.make(yield* CounterStore, store, config.throttle, tokens.digest, config.enumeration)
    // Taken before any store round trip, so a flood is refused as `Busy` without touching the database, and a
    // refused call has counted nothing (see `PasswordHasher.admit`).
    const admit = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | Busy, R> =>
      hasher.admit === undefined ? self : hasher.admit(self)
    const sessionPolicy = SessionPolicy.fromSettings(config)
    const policy = config.passwordPolicy
    // Decoy requests clear this id's tokens, a write that matches nothing but costs what a real token write does.
    const decoyUserId = UserId.make(yield* tokens.newId)

    // With a cap, the oldest sessions make room before the insert, in one transaction: the new session is never the
    // one evicted, and an insert that fails undoes the eviction. Concurrent logins of one user can still overshoot
    // the cap briefly; the next login trims it.
    const { maxPerUser } = sessionPolicy
    const withinCap = <A, E>(userId: UserId, insert: Effect.Effect<A, E>) =>
      maxPerUser === undefined
        ? insert
        : store.withTransaction(Effect.zipRight(store.trimUserSessions(userId, maxPerUser - 1), insert))

    // With `passwordVersion`, the session is created only while the password is still the one just verified; a
    // refused insert fails inside the cap's transaction, so it evicts nothing either.
    const newSession = Effect.fnUntraced(function*(userId: UserId, passwordVersion?: number) {
      const { token, tokenHash } = yield* tokens.issue
      const id = SessionId.make(yield* tokens.newId)
      const now = yield* Clock.currentTimeMillis
      const expiresAt = SessionPolicy.expiryFrom(sessionPolicy, now, now)
      const session = { id, tokenHash, userId, createdAt: now, expiresAt, lastUsedAt: now }
      yield* withinCap(
        userId,
        passwordVersion === undefined
          ? store.insertSession(session)
          : Effect.flatMap(store.insertSessionIfPasswordVersion(session, passwordVersion), (inserted) =>
            inserted ? Effect.void : Effect.fail(new InvalidCredentials()))
      )
      return { id, token, expiresAt: new Date(expiresAt) } satisfies Session
    })

    // The session check runs on every request, so it is written with plain combinators: a handful of steps for the
    // fiber, no generator, nothing allocated that could be made once here (docs/performance.md).
    const unknownSession = () =>
      new InvalidSession({ reason: "unknown" })
    // Looks the session up and judges its expiry; an expired one is deleted. `onLive` gets it while it is alive.
    const liveSession = <A, E>(
      sessionToken: SecretInput,
      onLive: (found: SessionWithUser, tokenHash: TokenHash, now: number) => Effect.Effect<A, E>
    ): Effect.Effect<A, E | InvalidSession | StoreError> =>
      Effect.suspend(() => {
        const tokenHash = tokens.hashOf(sessionToken)
        if (tokenHash === undefined) return Effect.fail(unknownSession())
        return Effect.flatMap(store.findSession(tokenHash), (found) =>
          Option.isNone(found)
            ? Effect.fail(unknownSession())
            : Effect.clockWith((clock): Effect.Effect<A, E | InvalidSession | StoreError> => {
              const now = clock.unsafeCurrentTimeMillis()
              return now >= SessionPolicy.deadline(sessionPolicy, found.value.session)
                ? Effect.zipRight(
                  store.deleteSession(tokenHash),
                  Effect.fail(new InvalidSession({ reason: "expired" }))
                )
                : onLive(found.value, tokenHash, now)
            }))
      })

    const checked = (found: SessionWithUser, tokenHash: TokenHash, now: number) =>
      Effect.succeed({ tokenHash, now, ...found })
    const checkSession = (sessionToken: SecretInput) => liveSession(sessionToken, checked)

    // The user as stored, for the operations that need more than a session check reads (the password hash).
    const fullUser = (user: SessionUser) =>
      Effect.flatMap(
        store.findUserById(user.id),
        (found) => Option.isNone(found) ? Effect.fail(unknownSession()) : Effect.succeed(found.value)
      )

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
      const attempt = yield* throttle.beginReauth(user.id)
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

    // An invalid address is no account's address, so refusing it tells a caller nothing it did not know; it never
    // reaches the decoy path, whose row would otherwise hold (and grow with) whatever was typed.
    const findByEmail = Effect.fnUntraced(function*(email: string) {
      const valid = yield* Email.validate(email)
      return { address: valid.address, user: yield* store.findUserByEmail(valid.key) }
    })

    // Issues a token and hands over its message in one transaction. Without an account (`None`) it does the same
    // work on a decoy, so the answer and the time it takes do not tell whether the address has one.
    const tokenMail = Effect.fnUntraced(function*(
      user: Option.Option<UserRecord>,
      address: string,
      purpose: TokenPurpose,
      ttl: Duration.Duration,
      message: (fields: { to: Recipient; token: Redacted.Redacted<string>; expiresAt: Date }) => EmailMessage
    ) {
      // Over the mail limit the caller sees the same quiet success and gets a decoy. The decoy has a counter of its
      // own, so both paths make the same counter write.
      const allowed = yield* throttle.mailAllowed(purpose, Option.isSome(user) ? user.value.id : decoyUserId)
      const target = allowed ? user : Option.none<UserRecord>()
      const { token, tokenHash } = yield* tokens.issue
      const now = yield* Clock.currentTimeMillis
      const expiresAt = now + Duration.toMillis(ttl)
      const afterCommit = yield* store.withTransaction(Option.match(target, {
        onSome: (found) =>
          Effect.zipRight(
            store.issueToken({ tokenHash, purpose, userId: found.id, createdAt: now, expiresAt }),
            delivery.stage(message({ to: recipient(found), token, expiresAt: new Date(expiresAt) }))
          ),
        onNone: () =>
          Effect.zipRight(
            store.deleteUserTokens(decoyUserId, purpose),
            delivery.decoy(message({ to: { username: "", email: address }, token, expiresAt: new Date(expiresAt) }))
          )
      }))
      yield* afterCommit
    })

    // An unverified account past `unverifiedAccountTtl` no longer holds its name and address.
    const staleBefore = (now: number) => now - Duration.toMillis(config.unverifiedAccountTtl)

    // The insert, in a savepoint. When the name or address is taken by an unverified account past its time, that
    // account is deleted (its `verified` checked in the deleting statement, so one verified meanwhile stays) and
    // the insert runs once more; of two registrations racing for it, the unique key lets one win.
    const insertAccount = (
      record: UserRecord,
      insert: Effect.Effect<void, UsernameTaken | EmailTaken | StoreError>
    ) => {
      const released = (taken: UsernameTaken | EmailTaken) =>
        store.deleteUnverifiedUsers({
          usernameKey: record.usernameKey,
          emailKey: record.emailKey,
          createdBefore: staleBefore(record.createdAt)
        }).pipe(Effect.flatMap((deleted) => deleted > 0 ? store.withTransaction(insert) : Effect.fail(taken)))
      return store.withTransaction(insert).pipe(Effect.catchTags({ UsernameTaken: released, EmailTaken: released }))
    }

    const register = Effect.fn("UserHarbor.register")(function*(input: RegisterInput) {
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
        const id = UserId.make(yield* tokens.newId)
        const { token, tokenHash } = yield* tokens.issue
        const now = yield* Clock.currentTimeMillis
        const expiresAt = now + Duration.toMillis(config.verificationTokenTtl)
        const to = { username: username.display, email: email.address }
        const record: UserRecord = {
          id,
          username: username.display,
          usernameKey: username.key,
          email: email.address,
          emailKey: email.key,
          passwordHash,
          passwordVersion: 1,
          verified: false,
          createdAt: now
        }
        const afterCommit = yield* store.withTransaction(Effect.gen(function*() {
          // A savepoint: a taken email undoes only the insert, and the attempt notice joins the same transaction.
          const created = yield* insertAccount(
            record,
            Effect.zipRight(
              store.insertUser(record),
              store.issueToken({ tokenHash, purpose: "verify-email", userId: id, createdAt: now, expiresAt })
            )
          ).pipe(
            Effect.as(true),
            Effect.catchTag("EmailTaken", () => Effect.succeed(false))
          )
          if (created) {
            // The same reads and counter writes as the other path (the strict mode's phantom insert and the notice's
            // mail limit), on a decoy.
            if (strict) yield* store.findUserByEmail(email.key)
            yield* throttle.mailAllowed("registration-attempt", decoyUserId)
            return yield* delivery.stage(new VerificationEmail({ to, token, expiresAt: new Date(expiresAt) }))
          }
          // The caller gets the same answer as for a new address; only the address's owner learns of the attempt,
          // within the owner's mail limits.
          const owner = yield* store.findUserByEmail(email.key)
          // Strict: the username is taken as a fresh registration would take it, by an account that has no
          // address (a key no address can have) and so can never be verified, reset or logged into.
          if (strict) {
            yield* store.insertUser({ ...record, email: "", emailKey: EmailKey.make(`unclaimed:${id}`) }).pipe(
              // The key is the fresh id's: a collision is a bug, not an outcome.
              Effect.catchTag("EmailTaken", Effect.die)
            )
          }
          const allowed = yield* throttle.mailAllowed(
            "registration-attempt",
            Option.match(owner, {
              onNone: () => decoyUserId,
              onSome: (found) => found.id
            })
          )
          return yield* Option.isSome(owner) && allowed
            ? delivery.stage(new RegistrationAttemptEmail({ to: recipient(owner.value) }))
            : delivery.decoy(new RegistrationAttemptEmail({ to }))
        }))
        yield* afterCommit
      }))
    }, Observe.withOutcome)

    const consumeIn = (purpose: TokenPurpose) => (outcome: TokenOutcome) =>
      outcome === "ok" ? Effect.void : Effect.fail(new InvalidToken({ purpose, reason: outcome }))

    const verifyEmail = Effect.fn("UserHarbor.verifyEmail")(function*(token: SecretInput) {
      const tokenHash = tokens.hashOf(redact(token))
      if (tokenHash === undefined) return yield* new InvalidToken({ purpose: "verify-email", reason: "unknown" })
      const outcome = yield* store.withTransaction(Effect.gen(function*() {
        const record = yield* store.consumeToken("verify-email", tokenHash)
        if (Option.isNone(record)) return "unknown" as const
        if ((yield* Clock.currentTimeMillis) >= record.value.expiresAt) return "expired" as const
        yield* store.markVerified(record.value.userId)
        // Strict: the owner's own logins before this counted as failures (see `login`); they are forgiven.
        if (strict) {
          yield* Effect.flatMap(
            store.findUserById(record.value.userId),
            Option.match({
              onNone: () => Effect.void,
              onSome: throttle.clear
            })
          )
        }
        return "ok" as const
      }))
      yield* consumeIn("verify-email")(outcome)
    }, Observe.withOutcome)

    const resendVerification = Effect.fn("UserHarbor.resendVerification")(function*(email: string) {
      // A verified account gets a decoy too: otherwise the time would tell unverified accounts from the rest.
      const { address, user } = yield* findByEmail(email)
      const now = yield* Clock.currentTimeMillis
      // An account past its time to verify gets no new token: it is as good as gone.
      const unverified = Option.filter(user, (found) => !found.verified && found.createdAt > staleBefore(now))
      const ttl = config.verificationTokenTtl
      yield* tokenMail(unverified, address, "verify-email", ttl, (fields) => new VerificationEmail(fields))
    }, Observe.withOutcome)

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

    const login = Effect.fn("UserHarbor.login")(
      function*(input: LoginInput) {
        return yield* admit(Effect.gen(function*() {
          const { name, user } = yield* findForLogin(input)
          // Before any hashing: a throttled attempt costs no argon2 work.
          const attempt = yield* throttle.begin(name, input.clientKey)
          // An account whose budget is spent under its other name is not asked (see internal/throttle.ts).
          const account = attempt.verifies ? user : Option.none<UserRecord>()
          const matches = yield* verifyPassword(
            input.password,
            Option.isSome(account) ? account.value.passwordHash : dummyHash
          ).pipe(Effect.tapErrorTag("Busy", () => attempt.abandoned))
          // Strict: an unverified account answers and counts as a wrong password, like one that does not exist
          // (whoever registered with a taken address knows the password of the account that was not created).
          if (Option.isNone(account) || !matches || (strict && !account.value.verified)) {
            yield* attempt.failed
            return yield* new InvalidCredentials()
          }
          yield* attempt.succeeded(account.value)
          // Only after the right password, so this answer reveals nothing to someone who does not know it.
          if (!account.value.verified) return yield* new EmailNotVerified()
          const session = yield* newSession(account.value.id, account.value.passwordVersion)
          yield* upgradeHash(input.password, account.value)
          return session
        }))
      },
      Observe.countLogin,
      Observe.withOutcome
    )

    // Session checks run on every request: spans only under an installed tracer (see internal/tracing.ts).
    // What one use of a live session returns, and whether it must write (renewal, last use); shared by
    // `validateSession` and the synchronous path of `sessionChecker`.
    const use = ({ session, user }: SessionWithUser, now: number) => {
      const { expiresAt, renewed, write } = SessionPolicy.use(sessionPolicy, session, now)
      const validated: ValidatedSession = {
        user: toUser(user),
        session: { id: session.id, createdAt: new Date(session.createdAt), expiresAt: new Date(expiresAt), renewed }
      }
      return { validated, expiresAt, write }
    }
    // Functions passed per call are built once here, not per request.
    const renewing = (found: SessionWithUser, tokenHash: TokenHash, now: number) => {
      const { expiresAt, validated, write } = use(found, now)
      return write
        ? Effect.as(store.renewSession({ tokenHash, expiresAt, lastUsedAt: now }), validated)
        : Effect.succeed(validated)
    }
    const validate = (sessionToken: SecretInput) => liveSession(sessionToken, renewing)
    // With a store that reads sessions synchronously (SQLite), the common answers (a live session with nothing to
    // write, an unknown or malformed token) are computed in one step, in a fiber and in `sessionChecker` without
    // one; anything else (an expiry to delete, a write, a failing read) runs `validate`.
    const sync = SyncLookup.of(store.findSession)
    const shortcut: SessionChecks.Shortcut | undefined = sync === undefined ? undefined : (sessionToken, now) => {
      const tokenHash = tokens.hashOf(sessionToken)
      if (tokenHash === undefined) return { ok: false, error: unknownSession() }
      const found = sync.lookup(tokenHash)
      if (found === undefined) return { ok: false, error: unknownSession() }
      if (now >= SessionPolicy.deadline(sessionPolicy, found.session)) return undefined
      const { validated, write } = use(found, now)
      return write ? undefined : { ok: true, value: validated }
    }
    const validateSession = Tracing.fn(
      "UserHarbor.validateSession",
      sync === undefined || shortcut === undefined
        ? validate
        : SessionChecks.shortcutFirst(validate, shortcut, sync.appliesIn),
      Observe.withOutcome
    )
    if (shortcut !== undefined) SessionChecks.registerShortcut(validateSession, shortcut)

    const verifySession = Tracing.fn(
      "UserHarbor.verifySession",
      (sessionToken: SecretInput) => Effect.catchAll(Effect.as(validateSession(sessionToken), true), falseOnInvalid),
      Observe.withOutcome
    )

    const getCurrentUser = Tracing.fn(
      "UserHarbor.getCurrentUser",
      (sessionToken: SecretInput) => Effect.map(validateSession(sessionToken), userOf),
      Observe.withOutcome
    )

    const logout = Effect.fn("UserHarbor.logout")(function*(sessionToken: SecretInput) {
      const { tokenHash } = yield* checkSession(sessionToken)
      yield* store.deleteSession(tokenHash)
    }, Observe.withOutcome)

    const logoutAll = Effect.fn("UserHarbor.logoutAll")(function*(sessionToken: SecretInput) {
      const { user } = yield* checkSession(sessionToken)
      yield* store.deleteUserSessions(user.id)
    }, Observe.withOutcome)

    const changePassword = Effect.fn("UserHarbor.changePassword")(
      function*(input: ChangePasswordInput) {
        const user = yield* fullUser((yield* checkSession(input.sessionToken)).user)
        yield* reauthenticate(input.oldPassword, user)
        const password = yield* PasswordPolicy.check(policy, redact(input.newPassword), user)
        const passwordHash = yield* hasher.hash(password)
        const [session, afterCommit] = yield* store.withTransaction(Effect.gen(function*() {
          // Conditional on the version the old password was checked against: a concurrent change or reset wins.
          const updated = yield* store.updatePassword({
            userId: user.id,
            passwordHash,
            expectedVersion: user.passwordVersion
          })
          if (!updated) return yield* new InvalidSession({ reason: "unknown" })
          yield* store.deleteUserSessions(user.id)
          yield* store.deleteUserTokens(user.id, "reset-password")
          const session = yield* newSession(user.id)
          return [session, yield* delivery.notice(new PasswordChangedEmail({ to: recipient(user) }))] as const
        }))
        yield* afterCommit
        return session
      },
      admit,
      Observe.withOutcome
    )

    const sendPasswordReset = Effect.fn("UserHarbor.sendPasswordReset")(function*(email: string) {
      const { address, user } = yield* findByEmail(email)
      yield* tokenMail(
        user,
        address,
        "reset-password",
        config.resetTokenTtl,
        (fields) => new PasswordResetEmail(fields)
      )
    }, Observe.withOutcome)

    const resetPassword = Effect.fn("UserHarbor.resetPassword")(
      function*(input: ResetPasswordInput) {
        const invalid = (reason: "unknown" | "expired") => new InvalidToken({ purpose: "reset-password", reason })
        const tokenHash = tokens.hashOf(redact(input.token))
        if (tokenHash === undefined) return yield* invalid("unknown")
        // Look before consuming: a weak new password must not burn the token.
        const found = yield* store.findToken("reset-password", tokenHash)
        if (Option.isNone(found)) return yield* invalid("unknown")
        if ((yield* Clock.currentTimeMillis) >= found.value.expiresAt) {
          yield* store.consumeToken("reset-password", tokenHash)
          return yield* invalid("expired")
        }
        const user = yield* store.findUserById(found.value.userId)
        if (Option.isNone(user)) return yield* invalid("unknown")
        const password = yield* PasswordPolicy.check(policy, redact(input.newPassword), user.value)
        const passwordHash = yield* hasher.hash(password)
        const userId = user.value.id
        const [outcome, afterCommit] = yield* store.withTransaction(Effect.gen(function*() {
          const record = yield* store.consumeToken("reset-password", tokenHash)
          if (Option.isNone(record)) return ["unknown", Effect.void] as const
          if ((yield* Clock.currentTimeMillis) >= record.value.expiresAt) return ["expired", Effect.void] as const
          if (!(yield* store.updatePassword({ userId, passwordHash }))) return ["unknown", Effect.void] as const
          // Receiving the reset mail proves the address.
          yield* store.markVerified(userId)
          yield* store.deleteUserSessions(userId)
          yield* store.deleteUserTokens(userId, "verify-email")
          // A reset is the way out of a disabled password login or re-check (NIST SP 800-63B 5.2.2).
          yield* throttle.clear(user.value)
          return ["ok", yield* delivery.notice(new PasswordChangedEmail({ to: recipient(user.value) }))] as const
        }))
        yield* consumeIn("reset-password")(outcome)
        yield* afterCommit
      },
      admit,
      Observe.withOutcome
    )

    const deleteAccount = Effect.fn("UserHarbor.deleteAccount")(
      function*(input: DeleteAccountInput) {
        const user = yield* fullUser((yield* checkSession(input.sessionToken)).user)
        yield* reauthenticate(input.password, user)
        // The notice is written with the deletion: outbox rows belong to no user, so it outlives the account.
        const afterCommit = yield* store.withTransaction(
          Effect.zipRight(store.deleteUser(user.id), delivery.notice(new AccountDeletedEmail({ to: recipient(user) })))
        )
        yield* afterCommit
      },
      admit,
      Observe.withOutcome
    )

    const listSessions = Effect.fn("UserHarbor.listSessions")(function*(sessionToken: SecretInput) {
      const { now, tokenHash, user } = yield* checkSession(sessionToken)
      const all = yield* store.listUserSessions(user.id)
      return all.flatMap((session): Array<SessionSummary> => {
        const expiresAt = SessionPolicy.deadline(sessionPolicy, session)
        // Expired rows wait for `purgeExpired`; they are not sessions any more.
        return now >= expiresAt ? [] : [{
          id: session.id,
          createdAt: new Date(session.createdAt),
          lastUsedAt: new Date(session.lastUsedAt),
          expiresAt: new Date(expiresAt),
          current: session.tokenHash === tokenHash
        }]
      })
    }, Observe.withOutcome)

    const revokeSession = Effect.fn("UserHarbor.revokeSession")(
      function*(sessionToken: SecretInput, sessionId: string) {
        const { user } = yield* checkSession(sessionToken)
        // An id the library cannot have issued is no session's: it never reaches the store (whose columns may not
        // even hold it). Scoped to the caller in the store itself: another user's id reads like an unknown one.
        if (!Tokens.isId(sessionId) || !(yield* store.deleteUserSession(user.id, SessionId.make(sessionId)))) {
          return yield* new SessionNotFound()
        }
      },
      Observe.withOutcome
    )

    const revokeOtherSessions = Effect.fn("UserHarbor.revokeOtherSessions")(function*(sessionToken: SecretInput) {
      const { tokenHash, user } = yield* checkSession(sessionToken)
      return yield* store.deleteOtherUserSessions(user.id, tokenHash)
    }, Observe.withOutcome)

    return {
      register,
      verifyEmail,
      resendVerification,
      login,
      verifySession,
      validateSession,
      getCurrentUser,
      logout,
      logoutAll,
      changePassword,
      sendPasswordReset,
      resetPassword,
      deleteAccount,
      listSessions,
      revokeSession,
      revokeOtherSessions
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
  UserHarbor["Type"],
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
