/**
 * The account service's single-use tokens by mail (verification and reset): issuing one with its message, the
 * decoy that answers for an address without an account, and the outcome of consuming one.
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Email from "../Email.js"
import type { EmailMessage, Recipient } from "../EmailSender.js"
import { InvalidToken, type InvalidTokenPurpose, type TokenPurpose } from "../Errors.js"
import type { UserId } from "../User.js"
import type { TokenHash, UserRecord, UserStoreService } from "../UserStore.js"
import * as Delivery from "./delivery.js"
import { redact, type SecretInput } from "./secrets.js"
import type * as Throttle from "./throttle.js"
import type * as Tokens from "./tokens.js"

export interface Deps<E> {
  readonly store: UserStoreService
  readonly tokens: Tokens.Tokens
  readonly throttle: Throttle.Throttle
  readonly delivery: Delivery.Delivery<E>
  /** The id whose tokens and mail counter the decoy requests use. */
  readonly decoyUserId: UserId
}

/**
 * What a transaction that consumes a token decided; failures that must not undo the transaction's own writes (an
 * expired token is removed, and that removal must persist) are raised after it commits.
 */
export type TokenOutcome = "ok" | "unknown" | "expired"

/** Raises `outcome` as the operation's answer, once the transaction that decided it has committed. */
export const consumeIn = (purpose: InvalidTokenPurpose) => (outcome: TokenOutcome) =>
  outcome === "ok" ? Effect.void : Effect.fail(new InvalidToken({ purpose, reason: outcome }))

export const make = <E>({ decoyUserId, delivery, store, throttle, tokens }: Deps<E>) => {
  // The hash of a presented token; one that cannot be a token is unknown at once, never looked up.
  const presented = (purpose: InvalidTokenPurpose, token: SecretInput): Effect.Effect<TokenHash, InvalidToken> => {
    const tokenHash = tokens.hashOf(redact(token))
    return tokenHash === undefined
      ? Effect.fail(new InvalidToken({ purpose, reason: "unknown" }))
      : Effect.succeed(tokenHash)
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
          delivery.stage(message({ to: Delivery.recipient(found), token, expiresAt: new Date(expiresAt) }))
        ),
      onNone: () =>
        Effect.zipRight(
          store.deleteUserTokens(decoyUserId, purpose),
          delivery.decoy(message({ to: { username: "", email: address }, token, expiresAt: new Date(expiresAt) }))
        )
    }))
    yield* afterCommit
  })

  return { presented, findByEmail, tokenMail }
}
