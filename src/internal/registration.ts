/**
 * The account service's registration: a new account and its verification mail, or, for an address that has an
 * account, a notice to its owner after the same work; the verification itself; and the release of names and
 * addresses held by unverified accounts past their time.
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type * as Email from "../Email.js"
import { RegistrationAttemptEmail, VerificationEmail } from "../EmailSender.js"
import type { EmailTaken, StoreError, UsernameTaken } from "../Errors.js"
import * as SecurityEvent from "../SecurityEvent.js"
import { UserId } from "../User.js"
import type { Settings } from "../UserHarborConfig.js"
import type * as Username from "../Username.js"
import { EmailKey, type TokenHash, type UserRecord, type UserStoreService } from "../UserStore.js"
import * as Delivery from "./delivery.js"
import type * as SecurityEvents from "./securityEvents.js"
import type * as Throttle from "./throttle.js"
import type * as Tokens from "./tokens.js"

export interface Deps<E> {
  readonly store: UserStoreService
  readonly throttle: Throttle.Throttle
  readonly tokens: Tokens.Tokens
  readonly delivery: Delivery.Delivery<E>
  readonly config: Settings
  /** The id whose mail counter the decoy requests use. */
  readonly decoyUserId: UserId
  readonly recorder: SecurityEvents.Recorder
}

export const make = <E>({ config, decoyUserId, delivery, recorder, store, throttle, tokens }: Deps<E>) => {
  const strict = config.enumeration === "strict"

  // An unverified account past `unverifiedAccountTtl` no longer holds its name and address.
  const staleBefore = (now: number) => now - Duration.toMillis(config.unverifiedAccountTtl)

  // Whether `resendVerification` issues a new token: not for a verified account, nor for one past its time to verify
  // (it is as good as gone).
  const awaitingVerification = (user: Option.Option<UserRecord>, now: number) =>
    Option.filter(user, (found) => !found.verified && found.createdAt > staleBefore(now))

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

  // What `register` runs in its transaction; returns what to run after the commit.
  const accountOrNotice = (
    record: UserRecord,
    { expiresAt, token, tokenHash }: { token: Redacted.Redacted<string>; tokenHash: TokenHash; expiresAt: number },
    details: SecurityEvents.Details
  ) =>
    Effect.gen(function*() {
      const { createdAt: now, emailKey, id } = record
      const to = Delivery.recipient(record)
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
        yield* recorder.record(id, details, (common) => new SecurityEvent.Registered(common))
        // The same reads and counter writes as the other path (the strict mode's phantom insert and the notice's
        // mail limit), on a decoy.
        if (strict) yield* store.findUserByEmail(emailKey)
        yield* throttle.mailAllowed("registration-attempt", decoyUserId)
        return yield* delivery.stage(new VerificationEmail({ to, token, expiresAt: new Date(expiresAt) }))
      }
      // The caller gets the same answer as for a new address; only the address's owner learns of the attempt,
      // within the owner's mail limits.
      const owner = yield* store.findUserByEmail(emailKey)
      // On the owner's trail; and a new account's `Registered` costs no more than this.
      if (Option.isSome(owner)) {
        yield* recorder.record(owner.value.id, details, (common) => new SecurityEvent.RegistrationAttempted(common))
      }
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
        ? delivery.stage(new RegistrationAttemptEmail({ to: Delivery.recipient(owner.value) }))
        : delivery.decoy(new RegistrationAttemptEmail({ to }))
    })

  // The account `register` creates (or, for a taken address, the notice it sends instead), once the password is
  // hashed; returns what to run after the commit.
  const create = (
    username: Username.ValidUsername,
    email: Email.ValidEmail,
    passwordHash: string,
    details: SecurityEvents.Details
  ) =>
    Effect.gen(function*() {
      const id = UserId.make(yield* tokens.newId)
      const { token, tokenHash } = yield* tokens.issue
      const now = yield* Clock.currentTimeMillis
      const expiresAt = now + Duration.toMillis(config.verificationTokenTtl)
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
      return yield* recorder.transaction(accountOrNotice(record, { token, tokenHash, expiresAt }, details))
    })

  // What `verifyEmail` runs in its transaction: the token's outcome.
  const verify = (tokenHash: TokenHash) =>
    Effect.gen(function*() {
      const record = yield* store.consumeToken("verify-email", tokenHash)
      if (Option.isNone(record)) return "unknown" as const
      if ((yield* Clock.currentTimeMillis) >= record.value.expiresAt) return "expired" as const
      yield* store.markVerified(record.value.userId)
      yield* recorder.record(record.value.userId, {}, (common) => new SecurityEvent.EmailVerified(common))
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
    })

  return { awaitingVerification, create, verify }
}
