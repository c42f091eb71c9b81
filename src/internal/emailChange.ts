/**
 * The account service's change of email address: the request (a confirmation mailed to the new address, or a
 * notice to its owner when it is taken), the confirmation (the move, with a revert token mailed to the old
 * address) and the revert (the move back, every session ended).
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Email from "../Email.js"
import type { EmailChangeStoreService, EmailMove } from "../EmailChangeStore.js"
import { EmailChangeAttemptEmail, EmailChangeConfirmationEmail, EmailChangedEmail } from "../EmailSender.js"
import { EmailTaken, InvalidToken, type InvalidTokenPurpose, type StoreError } from "../Errors.js"
import * as SecurityEvent from "../SecurityEvent.js"
import type { SessionId, UserId } from "../User.js"
import type { EmailChangeSettings } from "../UserHarborConfig.js"
import type { TokenHash, UserRecord, UserStoreService } from "../UserStore.js"
import * as Delivery from "./delivery.js"
import type * as SecurityEvents from "./securityEvents.js"
import type * as Throttle from "./throttle.js"
import type * as Tokens from "./tokens.js"

export interface Deps<E> {
  readonly store: UserStoreService
  /** `None` when the store provides no `EmailChangeStore`: the operations then die, saying so. */
  readonly changes: Option.Option<EmailChangeStoreService>
  readonly tokens: Tokens.Tokens
  readonly throttle: Throttle.Throttle
  readonly delivery: Delivery.Delivery<E>
  readonly settings: EmailChangeSettings
  readonly unverifiedAccountTtl: Duration.Duration
  /** The id whose mail counter the decoy requests use. */
  readonly decoyUserId: UserId
  /** Records the trail's events in the transaction of the change they describe. */
  readonly recorder: SecurityEvents.Recorder
}

/**
 * What a transaction that consumes a confirmation or revert token decided; the failure is raised after it commits,
 * so that what it wrote (the removal of a used or expired token) stands.
 */
export type Outcome = "ok" | "unknown" | "expired" | "taken"

/** Raises `outcome` as the operation's answer, once the transaction that decided it has committed. */
export const answer = (purpose: InvalidTokenPurpose) => (outcome: Outcome) =>
  outcome === "ok"
    ? Effect.void
    : outcome === "taken"
    ? Effect.fail(new EmailTaken())
    : Effect.fail(new InvalidToken({ purpose, reason: outcome }))

export const make = <E>(
  { changes, decoyUserId, delivery, recorder, settings, store, throttle, tokens, unverifiedAccountTtl }: Deps<E>
) => {
  const port: Effect.Effect<EmailChangeStoreService> = Option.match(changes, {
    onNone: () =>
      Effect.dieMessage("UserHarbor: changing an email address needs a store that provides the EmailChangeStore port"),
    onSome: Effect.succeed
  })

  // An unverified account past its time no longer holds its address (as at registration).
  const staleBefore = (now: number) => now - Duration.toMillis(unverifiedAccountTtl)

  // The move, in a savepoint of the store's. When an unverified account created at or before `releaseBefore` holds
  // the address, it is deleted (its `verified` checked in the deleting statement) and the move runs once more; of
  // two moves racing for the address, the unique key lets one win.
  const moveTo = (changes: EmailChangeStoreService, move: EmailMove, releaseBefore: number) =>
    changes.moveEmail(move).pipe(
      Effect.catchTag(
        "EmailTaken",
        (taken) =>
          Effect.flatMap(
            store.findUserByEmail(move.emailKey),
            (holder) =>
              Option.isSome(holder) && holder.value.id !== move.userId && !holder.value.verified &&
                holder.value.createdAt <= releaseBefore
                ? store.deleteUnverifiedUsers({
                  // Both keys are the holder's, so nothing else can go.
                  usernameKey: holder.value.usernameKey,
                  emailKey: move.emailKey,
                  createdBefore: releaseBefore
                }).pipe(Effect.flatMap((deleted) => deleted > 0 ? changes.moveEmail(move) : Effect.fail(taken)))
                : Effect.fail(taken)
          )
      ),
      Effect.map((moved): "moved" | "gone" => moved ? "moved" : "gone"),
      Effect.catchTag("EmailTaken", () => Effect.succeed("taken" as const))
    )

  // `requestEmailChange` once the session and the password are checked; returns what to run after the commit.
  // Taken or not, the caller gets the same answer and the store the same writes: a free address gets the
  // confirmation, a taken one's owner a notice, and over a mail limit a decoy goes nowhere.
  const request = (
    user: UserRecord,
    session: { readonly id: SessionId; readonly tokenHash: TokenHash },
    email: Email.ValidEmail
  ) =>
    Effect.gen(function*() {
      const changes = yield* port
      const now = yield* Clock.currentTimeMillis
      const holder = Option.filter(
        yield* store.findUserByEmail(email.key),
        (found) => found.verified || found.createdAt > staleBefore(now)
      )
      const allowed = yield* throttle.mailAllowed("change-email", user.id)
      const ownerAllowed = yield* throttle.mailAllowed(
        "change-email-attempt",
        Option.match(holder, { onNone: () => decoyUserId, onSome: (found) => found.id })
      )
      const { token, tokenHash } = yield* tokens.issue
      const expiresAt = now + Duration.toMillis(settings.confirmationTtl)
      const confirmation = new EmailChangeConfirmationEmail({
        to: { username: user.username, email: email.address },
        token,
        expiresAt: new Date(expiresAt)
      })
      return yield* recorder.transaction(Effect.gen(function*() {
        yield* recorder.record(user.id, { sessionId: session.id }, (common) =>
          new SecurityEvent.EmailChangeRequested(common))
        if (allowed && Option.isNone(holder)) {
          yield* changes.putPendingChange({
            tokenHash,
            userId: user.id,
            newEmail: email.address,
            newEmailKey: email.key,
            keepSession: session.tokenHash,
            passwordVersion: user.passwordVersion,
            createdAt: now,
            expiresAt
          })
          return yield* delivery.stage(confirmation)
        }
        // A new request voids the previous one, whatever becomes of this one.
        yield* changes.deletePendingChange(user.id)
        return Option.isSome(holder) && allowed && ownerAllowed
          ? yield* delivery.stage(new EmailChangeAttemptEmail({ to: Delivery.recipient(holder.value) }))
          : yield* delivery.decoy(confirmation)
      }))
    })

  // What `confirmEmailChange` runs in its transaction: the outcome, and what to run after the commit.
  const confirm = (tokenHash: TokenHash) =>
    Effect.gen(function*() {
      const changes = yield* port
      const done = (outcome: Outcome) => Effect.succeed([outcome, Effect.void] as const)
      const pending = yield* changes.consumePendingChange(tokenHash)
      if (Option.isNone(pending)) return yield* done("unknown")
      const { keepSession, newEmail, newEmailKey, passwordVersion, userId } = pending.value
      const now = yield* Clock.currentTimeMillis
      if (now >= pending.value.expiresAt) return yield* done("expired")
      const user = yield* store.findUserById(userId)
      if (Option.isNone(user)) return yield* done("unknown")
      // Conditional on the password version the request was checked against: a change or reset since voids it.
      const moved = yield* moveTo(
        changes,
        { userId, email: newEmail, emailKey: newEmailKey, expectedPasswordVersion: passwordVersion },
        staleBefore(now)
      )
      if (moved !== "moved") return yield* done(moved === "taken" ? "taken" : "unknown")
      // Reading the mail of the new address proves it.
      yield* store.markVerified(userId)
      yield* store.deleteOtherUserSessions(userId, keepSession)
      yield* recorder.record(userId, {}, (common) => new SecurityEvent.EmailChanged(common))
      // Mailed to the old address: they must not outlive its tenure.
      yield* store.deleteUserTokens(userId, "reset-password")
      yield* store.deleteUserTokens(userId, "verify-email")
      const revert = yield* tokens.issue
      const revertUntil = now + Duration.toMillis(settings.revertTtl)
      yield* changes.insertRevertToken({
        tokenHash: revert.tokenHash,
        userId,
        oldEmail: user.value.email,
        oldEmailKey: user.value.emailKey,
        createdAt: now,
        expiresAt: revertUntil
      })
      const notice = yield* delivery.notice(
        new EmailChangedEmail({
          to: Delivery.recipient(user.value),
          newEmail,
          token: revert.token,
          expiresAt: new Date(revertUntil)
        })
      )
      return ["ok", notice] as const
    })

  // What `revertEmailChange` runs in its transaction: the outcome. Whether or not the old address can be restored,
  // every session ends and reset tokens die, so whoever changed the address is thrown out.
  const revert = (tokenHash: TokenHash) =>
    Effect.gen(function*() {
      const changes = yield* port
      const record = yield* changes.consumeRevertToken(tokenHash)
      if (Option.isNone(record)) return "unknown" as const
      const { createdAt, oldEmail, oldEmailKey, userId } = record.value
      const now = yield* Clock.currentTimeMillis
      if (now >= record.value.expiresAt) return "expired" as const
      // Any unverified holder goes, however young: whoever took the account could otherwise block the revert by
      // registering the old address (its verification mail goes to the owner, who would never confirm it).
      const moved = yield* moveTo(changes, { userId, email: oldEmail, emailKey: oldEmailKey }, now)
      if (moved === "gone") return "unknown" as const
      yield* store.deleteUserSessions(userId)
      yield* store.deleteUserTokens(userId, "reset-password")
      yield* changes.deletePendingChange(userId)
      // The changes after the one undone are void; earlier ones keep their revert tokens.
      yield* changes.deleteRevertTokens({ userId, createdFrom: createdAt })
      if (moved === "taken") {
        // Kept, so the owner can try again once the address is free.
        yield* changes.insertRevertToken(record.value)
        return "taken" as const
      }
      yield* store.markVerified(userId)
      yield* recorder.record(userId, {}, (common) => new SecurityEvent.EmailChangeReverted(common))
      return "ok" as const
    })

  // The signed-in user's pending change, if one is live.
  const pending = (userId: UserId): Effect.Effect<Option.Option<{ newEmail: string; expiresAt: Date }>, StoreError> =>
    Effect.gen(function*() {
      const changes = yield* port
      const now = yield* Clock.currentTimeMillis
      return Option.map(
        Option.filter(yield* changes.findPendingChange(userId), (change) => change.expiresAt > now),
        (change) => ({ newEmail: change.newEmail, expiresAt: new Date(change.expiresAt) })
      )
    })

  return {
    request,
    /** `confirm` in a transaction of its own: the outcome, and what to run after the commit. */
    confirm: (tokenHash: TokenHash) => recorder.transaction(confirm(tokenHash)),
    /** `revert` in a transaction of its own: the outcome. */
    revert: (tokenHash: TokenHash) => recorder.transaction(revert(tokenHash)),
    pending
  }
}
