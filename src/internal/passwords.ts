/**
 * The account service's password replacements: the transactions of `changePassword` and `resetPassword`, and the
 * look at a reset token before any of its work.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { PasswordChangedEmail } from "../EmailSender.js"
import { type InvalidCredentials, InvalidSession, InvalidToken, type StoreError } from "../Errors.js"
import type { Session, UserId } from "../User.js"
import type { TokenHash, UserRecord, UserStoreService } from "../UserStore.js"
import * as Delivery from "./delivery.js"
import type * as Throttle from "./throttle.js"

export interface Deps<E> {
  readonly store: UserStoreService
  readonly throttle: Throttle.Throttle
  readonly delivery: Delivery.Delivery<E>
  readonly newSession: (userId: UserId) => Effect.Effect<Session, InvalidCredentials | InvalidSession | StoreError>
}

export const make = <E>({ delivery, newSession, store, throttle }: Deps<E>) => {
  const invalid = (reason: "unknown" | "expired") => new InvalidToken({ purpose: "reset-password", reason })

  // What `changePassword` runs in its transaction: the new session, and what to run after the commit.
  const change = (user: UserRecord, passwordHash: string) =>
    Effect.gen(function*() {
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
      return [session, yield* delivery.notice(new PasswordChangedEmail({ to: Delivery.recipient(user) }))] as const
    })

  // The account a well-formed reset token is for. Look before consuming: a weak new password must not burn the
  // token.
  const resetTarget = (tokenHash: TokenHash) =>
    Effect.gen(function*() {
      const found = yield* store.findToken("reset-password", tokenHash)
      if (Option.isNone(found)) return yield* invalid("unknown")
      if ((yield* Clock.currentTimeMillis) >= found.value.expiresAt) {
        yield* store.consumeToken("reset-password", tokenHash)
        return yield* invalid("expired")
      }
      const user = yield* store.findUserById(found.value.userId)
      if (Option.isNone(user)) return yield* invalid("unknown")
      return user.value
    })

  // What `resetPassword` runs in its transaction: the token's outcome, and what to run after the commit.
  const reset = (tokenHash: TokenHash, user: UserRecord, passwordHash: string) =>
    Effect.gen(function*() {
      const userId = user.id
      const record = yield* store.consumeToken("reset-password", tokenHash)
      if (Option.isNone(record)) return ["unknown", Effect.void] as const
      if ((yield* Clock.currentTimeMillis) >= record.value.expiresAt) return ["expired", Effect.void] as const
      if (!(yield* store.updatePassword({ userId, passwordHash }))) return ["unknown", Effect.void] as const
      // Receiving the reset mail proves the address.
      yield* store.markVerified(userId)
      yield* store.deleteUserSessions(userId)
      yield* store.deleteUserTokens(userId, "verify-email")
      // A reset is the way out of a disabled password login or re-check (NIST SP 800-63B 5.2.2).
      yield* throttle.clear(user)
      return ["ok", yield* delivery.notice(new PasswordChangedEmail({ to: Delivery.recipient(user) }))] as const
    })

  return { change, resetTarget, reset }
}
